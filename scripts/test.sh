#!/usr/bin/env bash
# Sets up (system packages + .venv with the dev extras) and runs every check:
# ruff, mypy --strict, then the whole pytest suite. Exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy --strict"; .venv/bin/mypy
# Most tests spend their time waiting on audio fed in real time, so three run at once
# (MAIGIC_TEST_WORKERS; 0 runs everything in one process). The system tests are one
# scenario in order on one booted machine (install first, uninstall last): they run in a
# pytest of their own beside the others, and their output follows.
workers="${MAIGIC_TEST_WORKERS:-3}"
if [ "$workers" = 0 ]; then
    echo "== pytest"
    exec .venv/bin/pytest "$@"
fi
echo "== pytest ($workers workers; tests/system beside them)"
system_log="$(mktemp)"
trap 'rm -f "$system_log"' EXIT
.venv/bin/pytest tests/system "$@" </dev/null >"$system_log" 2>&1 &
system_pid=$!
status=0
.venv/bin/pytest -n "$workers" --ignore=tests/system "$@" || status=$?
system_status=0
wait "$system_pid" || system_status=$?
echo "== pytest tests/system"
cat "$system_log"
# pytest exits 5 when it collected nothing (e.g. tests/system on a machine without root)
if [ "$system_status" != 0 ] && [ "$system_status" != 5 ]; then status=$system_status; fi
exit "$status"
