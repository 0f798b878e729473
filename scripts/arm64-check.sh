#!/usr/bin/env bash
# The hub on the Pi's architecture (arm64) under a real systemd, on an x86-64 machine:
# a Debian bookworm arm64 rootfs (debootstrap, cached in /var/cache/maigic-system-test) booted
# with systemd-nspawn through qemu-user-static and binfmt_misc; deploy/install.sh installs the
# aarch64 wheels, then `maigic demo` runs inside. Prints install time, the demo's answer and the
# wall time. Needs root. Slow (everything arm64 is emulated).
#   scripts/arm64-check.sh                      deploy/install.sh in the booted arm64 system
#   scripts/arm64-check.sh --via image-stage    the pi-gen stage (deploy/image/stage-maigic) run
#                                               against the arm64 rootfs, then a first boot
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "arm64-check: run as root (it boots a container)" >&2; exit 1; }

missing=()
for pkg in qemu-user-static debootstrap systemd-container; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# binfmt_misc: mounted and aarch64 registered (with F: the interpreter is opened now, so it
# works inside the container's root too)
binfmt=/proc/sys/fs/binfmt_misc
[ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt"
if [ ! -e "$binfmt/qemu-aarch64" ]; then
  grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf > "$binfmt/register"
fi

python="${PYTHON:-.venv/bin/python}"
[ -x "$python" ] || python=python3
PYTHONPATH="$PWD" exec "$python" -m tests.system.arm64_demo "$@"
