#!/usr/bin/env bash
# Sets up (system packages + .venv with the dev extras) and runs every check:
# ruff, mypy --strict, then the whole pytest suite. Exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy --strict"; .venv/bin/mypy
# Most tests spend their time waiting on audio fed in real time, so three run at once
# (MAIGIC_TEST_WORKERS; 0 runs them in this process). The system tests share one booted
# machine and stay on one worker (their xdist_group).
workers="${MAIGIC_TEST_WORKERS:-3}"
echo "== pytest ($workers workers)"
if [ "$workers" = 0 ]; then
    .venv/bin/pytest "$@"
else
    .venv/bin/pytest -n "$workers" --dist loadgroup "$@"
fi
