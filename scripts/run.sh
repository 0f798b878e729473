#!/usr/bin/env bash
# Sets up (system packages + .venv) and runs the hub's main job on the offline embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh local
.venv/bin/maigic config check config/maigic.yaml
