"""scripts/arm64-check.sh's body: the Pi's architecture under a real systemd, through qemu-user.

Boots a Debian bookworm arm64 rootfs (qemu-user-static via binfmt_misc) with systemd-nspawn,
installs the hub with deploy/install.sh as a user would (the aarch64 wheels from the package
index), and runs `maigic demo` inside. Prints and saves install time, the demo's answer and the
wall time (/var/cache/maigic-system-test/arm64-check.txt).
"""

from __future__ import annotations

import sys
import time

from tests.system.conftest import copy_checkout
from tests.system.machine import CACHE_DIR, booted

ARCH = "arm64"


def main() -> int:
    started = time.monotonic()
    lines: list[str] = []

    def note(text: str) -> None:
        print(f"arm64-check: {text}", flush=True)
        lines.append(text)

    log = CACHE_DIR / f"build-{ARCH}.log"
    with booted(ARCH, "maigic-arm64", fake_sound=True, log=log, boot_timeout=600) as machine:
        note(f"rootfs ready and booted in {time.monotonic() - started:.1f} s")
        note("uname -m inside: " + machine.run("uname -m", check=True).stdout.strip())
        copy_checkout(machine.root, "/root/maigic-hub")
        t = time.monotonic()
        install = machine.run("cd /root/maigic-hub && deploy/install.sh", timeout=5400)
        note(f"install: exit {install.returncode} in {time.monotonic() - t:.1f} s")
        if install.returncode != 0:
            print(install.output[-5000:], file=sys.stderr)
        note("service: " + machine.run("systemctl is-active maigic; systemctl show -P StatusText"
                                       " maigic").stdout.strip().replace("\n", ", "))
        t = time.monotonic()
        demo = machine.run("cd /tmp && maigic demo --timeout 600", timeout=900)
        note(f"maigic demo: exit {demo.returncode} in {time.monotonic() - t:.1f} s")
        for line in demo.stdout.splitlines():
            note("  " + line)
        if demo.returncode != 0:
            print(demo.stderr[-3000:], file=sys.stderr)
        note(f"wall time: {time.monotonic() - started:.1f} s")
        ok = install.returncode == 0 and demo.returncode == 0
    (CACHE_DIR / "arm64-check.txt").write_text("\n".join(lines) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
