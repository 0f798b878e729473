"""scripts/arm64-check.sh's body: the Pi's architecture under a real systemd, through qemu-user.

Boots a Debian bookworm arm64 rootfs (qemu-user-static via binfmt_misc) with systemd-nspawn,
installs the hub and runs `maigic demo` inside. Two ways in:
  install      deploy/install.sh in the booted system, as a user on Raspberry Pi OS Lite would
  image-stage  deploy/image/stage-maigic run against the rootfs as pi-gen would (its chroot
               step runs the installer with --no-start), then a first boot with a
               maigic-setup.txt on /boot/firmware: the service must come up by itself
Prints and saves install time, the demo's answer and the wall time
(/var/cache/maigic-system-test/arm64-check-<way>.txt).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.system.conftest import copy_checkout
from tests.system.image_stage import run_stage
from tests.system.machine import CACHE_DIR, Machine, booted

ARCH = "arm64"
SETUP_TXT = "hostname=maigic-arm64\nopenai_api_key=sk-not-a-real-key\n"


class Notes:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str) -> None:
        print(f"arm64-check: {text}", flush=True)
        self.lines.append(text)


def install_in_booted(machine: Machine, note: Notes) -> bool:
    copy_checkout(machine.root, "/root/maigic-hub")
    t = time.monotonic()
    install = machine.run("cd /root/maigic-hub && deploy/install.sh", timeout=5400)
    note(f"deploy/install.sh: exit {install.returncode} in {time.monotonic() - t:.1f} s")
    if install.returncode != 0:
        print(install.output[-5000:], file=sys.stderr)
    return install.returncode == 0


def image_stage(note: Notes) -> Callable[[Path, list[Path], Path], None]:
    def before_boot(root: Path, pip_paths: list[Path], pip_cache: Path) -> None:
        t = time.monotonic()
        binds = [(p, p) for p in pip_paths] + [(pip_cache, Path("/root/.cache/pip")),
                                                (Path("/etc/resolv.conf"),
                                                 Path("/etc/resolv.conf"))]
        steps: list[str] = []
        run_stage(root, binds, steps)
        for step in steps:
            note(step)
        note(f"image stage (pi-gen steps, arm64 chroot): {time.monotonic() - t:.1f} s")
        firmware = root / "boot" / "firmware"
        firmware.mkdir(parents=True, exist_ok=True)
        (firmware / "maigic-setup.txt").write_text(SETUP_TXT)
    return before_boot


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--via", choices=("install", "image-stage"), default="install")
    args = parser.parse_args()
    started = time.monotonic()
    note = Notes()
    note(f"way in: {args.via}")
    log = CACHE_DIR / f"build-{ARCH}.log"
    hook = image_stage(note) if args.via == "image-stage" else None
    with booted(ARCH, "maigic-arm64", fake_sound=True, log=log, boot_timeout=900,
                before_boot=hook) as machine:
        note(f"rootfs ready and booted in {time.monotonic() - started:.1f} s")
        note("uname -m inside: " + machine.run("uname -m", check=True).stdout.strip())
        if args.via == "install":
            ok = install_in_booted(machine, note)
        else:
            ok = machine.wait_for("systemctl is-active --quiet maigic", timeout=600)
            note("first boot: " + machine.run(
                "echo hostname $(cat /etc/hostname);"
                " test -e /boot/firmware/maigic-setup.txt && echo setup.txt still there"
                " || echo setup.txt applied and removed;"
                " stat -c 'key %U:%G %a' /etc/maigic/openai.key;"
                " systemctl show -P Result maigic-firstboot").stdout.strip().replace("\n", "; "))
        note("service: " + machine.run(
            "systemctl is-active maigic; systemctl show -P StatusText maigic;"
            " systemctl show -P NRestarts maigic").stdout.strip().replace("\n", ", "))
        t = time.monotonic()
        # qemu-user runs arm64 code 10-20x slower than a Pi does: the conversation's own
        # think_timeout_s (15 s) is raised for the demo, nothing else changes
        demo = machine.run(
            "sed 's/^  think_timeout_s: [0-9.]*/  think_timeout_s: 120.0/' /etc/maigic/maigic.yaml"
            " > /tmp/demo.yaml && cd /tmp && maigic demo --config /tmp/demo.yaml --timeout 600",
            timeout=900)
        note(f"maigic demo: exit {demo.returncode} in {time.monotonic() - t:.1f} s")
        for line in demo.stdout.splitlines():
            note("  " + line)
        if demo.returncode != 0:
            print(demo.stderr[-3000:], file=sys.stderr)
        note(f"wall time: {time.monotonic() - started:.1f} s")
        ok = ok and demo.returncode == 0
    (CACHE_DIR / f"arm64-check-{args.via}.txt").write_text("\n".join(note.lines) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
