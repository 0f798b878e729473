#!/usr/bin/env bash
# Sets up (system packages + .venv) and runs the hub's main job on the offline embedded default:
# `maigic demo` makes a spoken question with flite, feeds it to the real hub (config/maigic.yaml,
# local mode, no API key) through real alsa-lib file-plugin devices (no sound card needed), prints
# what it heard and answered, and writes the spoken reply to a WAV file.
# Extra arguments go to `maigic demo` (e.g. --question "set a timer for ten minutes").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh local
exec .venv/bin/maigic demo "$@"
