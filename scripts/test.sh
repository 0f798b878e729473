#!/usr/bin/env bash
# Sets up (system packages + .venv with the dev extras) and runs every check:
# ruff, mypy --strict, then the whole pytest suite. Exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy --strict"; .venv/bin/mypy
echo "== pytest"; .venv/bin/pytest "$@"
