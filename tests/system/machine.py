"""A Debian bookworm machine booted with a real systemd (systemd-nspawn), for the system tests.

The root filesystem is built once with debootstrap and cached outside the repository, keyed on a
hash of everything that goes into it (suite, architecture, package list, this file's recipe
version); each boot runs on a throw-away overlayfs over the cached tree, so the cache stays
pristine. PID 1 of the build machines is not systemd, so `machinectl`/`systemd-run -M` do not
work: commands enter the container's namespaces with nsenter.

Only the test harness gives the container what a real Pi would not need: the host's pip
configuration and CA bundle (package indexes reachable only through them), and a fake sound card
(an ALSA file PCM over FIFOs that a pacer feeds and drains in real time).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(os.environ.get("MAIGIC_SYSTEM_CACHE", "/var/cache/maigic-system-test"))
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# Bump when the build recipe changes in a way the package list does not show.
RECIPE_VERSION = "1"
# What the container itself needs (systemd as PID 1, the system bus, TLS roots for pip).
BASE_PACKAGES = ("systemd", "systemd-sysv", "dbus", "ca-certificates", "procps")


def installer_apt_packages() -> list[str]:
    """The APT_PACKAGES of deploy/install.sh: preinstalled so the installer's apt step is quick.

    The installer still runs its own `apt-get update && apt-get install` (a no-op then), as it
    would on a Pi; only the download time is cached.
    """
    text = (REPO / "deploy" / "install.sh").read_text()
    match = re.search(r"APT_PACKAGES=\(\s*(.*?)\)", text, re.S)
    if match is None:
        raise RuntimeError("deploy/install.sh: no APT_PACKAGES=( ... ) array found")
    return [w for w in match.group(1).split() if not w.startswith("#")]


def rootfs_key(arch: str) -> str:
    packages = sorted(set(BASE_PACKAGES) | set(installer_apt_packages()))
    blob = "\n".join([RECIPE_VERSION, SUITE, arch, MIRROR, *packages])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def build_rootfs(arch: str, log: Path | None = None) -> Path:
    """The cached rootfs for ``arch`` (amd64/arm64), built with debootstrap when missing."""
    root = CACHE_DIR / f"rootfs-{SUITE}-{arch}-{rootfs_key(arch)}"
    if (root / "etc" / "os-release").exists() and (root / ".maigic-complete").exists():
        return root
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    packages = sorted(set(BASE_PACKAGES) | set(installer_apt_packages()))
    debs = CACHE_DIR / f"debs-{SUITE}-{arch}"  # a changed package list downloads only what is new
    debs.mkdir(exist_ok=True)
    command = [
        "debootstrap", "--variant=minbase", f"--arch={arch}", f"--cache-dir={debs}",
        f"--include={','.join(packages)}", SUITE, str(partial), MIRROR,
    ]
    with open(log or os.devnull, "ab") as out:
        subprocess.run(command, check=True, stdout=out, stderr=subprocess.STDOUT, timeout=3600)
    # The image's own apt lists and .debs are not needed again.
    shutil.rmtree(partial / "var" / "cache" / "apt" / "archives", ignore_errors=True)
    (partial / "var" / "cache" / "apt" / "archives" / "partial").mkdir(parents=True)
    (partial / ".maigic-complete").write_text(rootfs_key(arch) + "\n")
    partial.rename(root)
    return root


def host_pip_config() -> tuple[str, list[Path]]:
    """The host's effective pip settings as one pip.conf, and the local paths they name.

    The host may reach its package indexes only through local mirrors, a CA bundle or
    constraints that live in files; those paths are bind-mounted read-only into the container.
    """
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True, text=True, check=False, timeout=60,
    ).stdout
    settings: dict[str, str] = {}
    for line in listing.splitlines():
        match = re.match(r"^(?::env:|global)\.([\w-]+)='?(.*?)'?$", line)
        if match:
            settings.setdefault(match.group(1), match.group(2))
    paths: list[Path] = []
    for value in settings.values():
        for word in value.split():
            candidate = Path(word.removeprefix("file://"))
            if word.startswith("file://") and candidate.name == "simple":
                candidate = candidate.parent  # a local index links to files beside simple/
            if candidate.is_absolute() and candidate.exists() and candidate not in paths:
                paths.append(candidate)
    text = "[global]\n" + "".join(f"{k} = {v}\n" for k, v in sorted(settings.items()))
    return text, paths


# A fake sound card: capture reads a FIFO a pacer fills with silence at 16 kHz mono s16 in real
# time, playback writes a FIFO the pacer drains at the same rate. (A bare `type null` PCM has no
# clock: the hub would spin.)
FAKE_SOUND_ASOUND_CONF = """\
pcm.!default {
    type asym
    capture.pcm {
        type file slave.pcm "null" file "/dev/null" infile "/run/fakesnd/mic" format "raw"
    }
    playback.pcm { type file slave.pcm "null" file "/run/fakesnd/speaker" format "raw" }
}
"""

FAKE_SOUND_PACER = """\
#!/usr/bin/python3
# Feeds /run/fakesnd/mic and drains /run/fakesnd/speaker at 32000 bytes/s (16 kHz s16 mono).
import os, threading, time
BYTES_PER_S, CHUNK = 32000, 640
os.makedirs("/run/fakesnd", exist_ok=True)
os.chmod("/run/fakesnd", 0o755)
for name in ("mic", "speaker"):
    path = "/run/fakesnd/" + name
    if not os.path.exists(path):
        os.mkfifo(path)
    os.chmod(path, 0o666)

def paced(step):
    start, sent = time.monotonic(), 0
    while True:
        if step() == 0:
            return
        sent += CHUNK
        delay = start + sent / BYTES_PER_S - time.monotonic()
        if delay > 0:
            time.sleep(delay)

def feed_mic():
    silence = bytes(CHUNK)
    while True:
        try:
            with open("/run/fakesnd/mic", "wb", buffering=0) as fifo:
                paced(lambda: fifo.write(silence))
        except BrokenPipeError:
            pass

def drain_speaker():
    while True:
        with open("/run/fakesnd/speaker", "rb", buffering=0) as fifo:
            paced(lambda: len(fifo.read(CHUNK)))

threading.Thread(target=feed_mic, daemon=True).start()
drain_speaker()
"""

FAKE_SOUND_UNIT = """\
[Unit]
Description=Fake sound card for the system tests (real-time paced FIFOs)
Before=maigic.service

[Service]
ExecStart=/usr/local/sbin/fakesnd-pacer

[Install]
WantedBy=multi-user.target
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Machine:
    """A booted container; run commands inside with :meth:`run`."""

    name: str
    root: Path
    process: subprocess.Popen[bytes]
    console_log: Path
    leader: int = 0
    _reader: threading.Thread | None = field(default=None, repr=False)

    def run(
        self, command: str, *, user: str | None = None, timeout: float = 120,
        check: bool = False, env: dict[str, str] | None = None,
    ) -> Result:
        """``command`` through bash inside the container (as root, or as ``user`` via runuser)."""
        inner = ["/bin/bash", "-lc", command]
        if user is not None:
            inner = ["runuser", "-u", user, "--", *inner]
        base_env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "LANG": "C.UTF-8", "HOME": "/root" if user is None else "/tmp"}
        base_env.update(env or {})
        argv = ["nsenter", "-t", str(self.leader), "-a", "--",
                "env", "-i", *(f"{k}={v}" for k, v in base_env.items()), *inner]
        # a session of its own: nsenter keeps the caller's process group, so a `kill 0` or a
        # job-control signal inside would reach the test run itself (it froze a whole run once)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                              start_new_session=True)
        result = Result(done.returncode, done.stdout, done.stderr)
        if check and done.returncode != 0:
            raise AssertionError(f"{command!r} exited {done.returncode}:\n{result.output}")
        return result

    def show(self, unit: str, prop: str) -> str:
        return self.run(f"systemctl show -P {prop} {unit}", check=True).stdout.strip()

    def wait_for(self, predicate_command: str, timeout: float, interval: float = 0.2) -> bool:
        """Polls a shell predicate inside the container until it succeeds or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.run(predicate_command, timeout=30).returncode == 0:
                return True
            time.sleep(interval)
        return False

    def console(self) -> str:
        return self.console_log.read_text(errors="replace")


def _container_leader(process: subprocess.Popen[bytes], timeout: float) -> int:
    """PID of the container's systemd: the child of systemd-nspawn whose comm is systemd."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"systemd-nspawn exited {process.returncode} while booting")
        for child in _descendants(process.pid):
            comm = ""
            with contextlib.suppress(OSError):
                comm = Path(f"/proc/{child}/comm").read_text().strip()
            if comm == "systemd":
                return child
        time.sleep(0.1)
    raise TimeoutError("no systemd inside the container")


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children")
            with contextlib.suppress(OSError):
                kids = [int(x) for x in children.read_text().split()]
                found.extend(kids)
                pending.extend(kids)
    return found


def _pump(stream: object, log: Path) -> None:
    """Reads the console continuously: a full console pipe would block the container's PID 1."""
    assert hasattr(stream, "read")
    with open(log, "ab", buffering=0) as out:
        while chunk := stream.read(4096):
            out.write(chunk)


def prepare_overlay(lower: Path, work: Path) -> Path:
    upper, scratch, merged = work / "upper", work / "work", work / "merged"
    for d in (upper, scratch, merged):
        d.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={lower},upperdir={upper},workdir={scratch}", str(merged)],
        check=True, timeout=60,
    )
    return merged


def customise(root: Path, *, fake_sound: bool, pip_conf: str) -> None:
    """What only the test harness adds: pip settings and, optionally, the fake sound card."""
    (root / "etc" / "pip.conf").write_text(pip_conf)
    (root / "etc" / "hostname").write_text("maigic-test\n")
    if fake_sound:
        (root / "etc" / "asound.conf").write_text(FAKE_SOUND_ASOUND_CONF)
        pacer = root / "usr" / "local" / "sbin" / "fakesnd-pacer"
        pacer.parent.mkdir(parents=True, exist_ok=True)
        pacer.write_text(FAKE_SOUND_PACER)
        pacer.chmod(0o755)
        unit = root / "etc" / "systemd" / "system" / "fakesnd.service"
        unit.write_text(FAKE_SOUND_UNIT)
        wants = root / "etc" / "systemd" / "system" / "multi-user.target.wants"
        wants.mkdir(parents=True, exist_ok=True)
        link = wants / "fakesnd.service"
        if not link.is_symlink():
            link.symlink_to("/etc/systemd/system/fakesnd.service")


@contextlib.contextmanager
def booted(
    arch: str, name: str, *, fake_sound: bool, binds: Sequence[tuple[Path, str]] = (),
    log: Path | None = None, boot_timeout: float = 180,
    before_boot: Callable[[Path, list[Path], Path], None] | None = None,
) -> Iterator[Machine]:
    """Boots the cached rootfs (built first if needed) on an overlay; tears everything down.

    ``before_boot(root, pip_paths, pip_cache)`` runs on the unbooted tree (an image build's
    chroot steps).
    """
    lower = build_rootfs(arch, log)
    work = Path(tempfile.mkdtemp(prefix=f"maigic-{name}-", dir=CACHE_DIR))
    merged = prepare_overlay(lower, work / "overlay")
    process: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None
    try:
        pip_conf, pip_paths = host_pip_config()
        customise(merged, fake_sound=fake_sound, pip_conf=pip_conf)
        pip_cache = CACHE_DIR / f"pip-cache-{arch}"
        pip_cache.mkdir(exist_ok=True)
        if before_boot is not None:
            before_boot(merged, pip_paths, pip_cache)
        argv = [
            "systemd-nspawn", "-D", str(merged), "-b", "-M", name, "--register=no",
            "--keep-unit", "--resolv-conf=copy-host", "--console=pipe",
            f"--bind={pip_cache}:/root/.cache/pip",
            *(f"--bind-ro={p}" for p in pip_paths),
            *(f"--bind-ro={host}:{inside}" for host, inside in binds),
        ]
        env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1")
        console_log = work / "console.log"
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env,
        )
        reader = threading.Thread(target=_pump, args=(process.stdout, console_log), daemon=True)
        reader.start()
        machine = Machine(name, merged, process, console_log, _reader=reader)
        machine.leader = _container_leader(process, boot_timeout)
        # "running" or "degraded": both mean boot finished (no sound card/bluetooth -> degraded).
        if not machine.wait_for(
            "systemctl is-system-running --wait >/dev/null 2>&1;"
            " s=$(systemctl is-system-running); [ \"$s\" = running ] || [ \"$s\" = degraded ]",
            timeout=boot_timeout, interval=0.5,
        ):
            raise TimeoutError(f"container did not finish booting:\n{machine.console()[-3000:]}")
        yield machine
    finally:
        if process is not None and process.poll() is None:
            process.terminate()  # SIGTERM to nspawn: the container shuts down cleanly
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        if reader is not None:
            reader.join(timeout=10)
        subprocess.run(["umount", "-l", str(merged)], check=False, timeout=60)
        if os.environ.get("MAIGIC_SYSTEM_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)


def shell_quote(text: str) -> str:
    return shlex.quote(text)
