"""Runs deploy/image/stage-maigic against a root filesystem the way pi-gen's build.sh runs a stage.

pi-gen itself cannot run here (its stage0-2 fetch Raspberry Pi OS from Raspberry Pi's own apt
archive, which this machine cannot reach), so this reproduces what its run_stage, run_sub_stage
and on_chroot do for the files our stage has (read from pi-gen's build.sh and scripts/common):
  - prerun.sh, if executable, from the stage directory (ROOTFS_DIR exported; ours calls
    copy_previous only when the rootfs does not exist yet);
  - for each sub-stage directory in order, for NN in 00..99: NN-run.sh if executable, from the
    sub-stage directory; NN-run-chroot.sh fed on stdin to `bash -e` chrooted into ROOTFS_DIR
    with /proc, /dev, /dev/pts, /sys, /run (tmpfs) and /tmp (tmpfs) mounted.
The other pi-gen hooks (NN-debconf, NN-packages, NN-patches) are rejected: the stage has none.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.system.machine import REPO

STAGE = REPO / "deploy" / "image" / "stage-maigic"
UNSUPPORTED = ("-debconf", "-packages", "-packages-nr", "-patches")


@contextlib.contextmanager
def chroot_mounts(root: Path, binds: list[tuple[Path, Path]]) -> Iterator[None]:
    """on_chroot's mounts, plus read-only binds (the harness's pip settings)."""
    mounted: list[Path] = []

    def mount(args: list[str], target: Path) -> None:
        if not target.exists():
            target.mkdir(parents=True)
        subprocess.run(["mount", *args, str(target)], check=True, timeout=60)
        mounted.append(target)

    try:
        mount(["-t", "proc", "proc"], root / "proc")
        mount(["--bind", "/dev"], root / "dev")
        mount(["--bind", "/dev/pts"], root / "dev/pts")
        mount(["--bind", "/sys"], root / "sys")
        mount(["-t", "tmpfs", "tmpfs"], root / "run")
        mount(["-t", "tmpfs", "tmpfs"], root / "tmp")
        for source, inside in binds:
            target = root / str(inside).lstrip("/")
            if source.is_dir():
                mount(["--bind", str(source)], target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_symlink():
                    target.unlink()
                target.touch(exist_ok=True)
                mount(["--bind", str(source)], target)
        yield
    finally:
        for target in reversed(mounted):
            subprocess.run(["umount", "-l", str(target)], check=False, timeout=60)


def run_stage(root: Path, binds: list[tuple[Path, Path]], log: list[str]) -> None:
    """Every step of the stage, in pi-gen's order; raises on the first failing step."""
    env = dict(os.environ, ROOTFS_DIR=str(root), STAGE_DIR=str(STAGE), MAIGIC_SRC=str(REPO))
    prerun = STAGE / "prerun.sh"
    if os.access(prerun, os.X_OK):
        # copy_previous is pi-gen's; the rootfs exists already, so it must not be called
        subprocess.run(
            ["bash", "-c", 'copy_previous() { echo "copy_previous called" >&2; exit 1; };'
             " export -f copy_previous; ./prerun.sh"],
            cwd=STAGE, env=env, check=True, timeout=600,
        )
        log.append("prerun.sh: ran")
    for sub in sorted(p for p in STAGE.iterdir() if p.is_dir()):
        if (sub / "SKIP").exists():
            continue
        for name in sorted(p.name for p in sub.iterdir()):
            if name.endswith(UNSUPPORTED):
                raise RuntimeError(f"{sub.name}/{name}: a pi-gen hook this runner does not do")
        for number in (f"{i:02d}" for i in range(100)):
            run = sub / f"{number}-run.sh"
            if run.exists() and os.access(run, os.X_OK):
                subprocess.run([str(run)], cwd=sub, env=env, check=True, timeout=600)
                log.append(f"{sub.name}/{run.name}: ran on the build host")
            chroot_script = sub / f"{number}-run-chroot.sh"
            if chroot_script.exists():
                with chroot_mounts(root, binds), chroot_script.open("rb") as stdin:
                    done = subprocess.run(
                        ["chroot", str(root), "/usr/bin/env", "-i", "HOME=/root",
                         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                         "LANG=C.UTF-8", "/bin/bash", "-e"],
                        stdin=stdin, capture_output=True, text=True, timeout=5400, check=False,
                    )
                if done.returncode != 0:
                    raise RuntimeError(f"{chroot_script.name} exited {done.returncode}:\n"
                                       f"{(done.stdout + done.stderr)[-4000:]}")
                log.append(f"{sub.name}/{chroot_script.name}: ran in the arm64 chroot")
