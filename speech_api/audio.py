"""Audio data types: :class:`AudioFormat`, :class:`AudioChunk` and helpers.

Chunks flowing between the hub's actors are raw PCM (``AudioFormat.PCM``, signed
little-endian integers, interleaved). Encoded formats (WAV, FLAC, OGG, MP3) carry a
whole file in ``data`` and are turned into PCM with :func:`decode_audio`.
"""

from __future__ import annotations

import io
import struct
import time
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speech_api.errors import AudioError

if TYPE_CHECKING:
    import numpy.typing as npt

SUPPORTED_BIT_DEPTHS = (8, 16, 24, 32)
MAX_SAMPLE_RATE = 384_000
MAX_DECODED_SECONDS = 3600  # decoding refuses longer audio rather than exhausting memory


class AudioFormat(Enum):
    """How the bytes in :attr:`AudioChunk.data` are laid out."""

    WAV = "wav"
    MP3 = "mp3"
    FLAC = "flac"
    OGG = "ogg"
    PCM = "pcm"  # raw interleaved signed little-endian samples, no header


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """An immutable piece of audio.

    The seed's fields (``data``, ``sample_rate``, ``channels``, ``bit_depth``,
    ``format``, ``duration_ms``) plus ``captured_at_ns``: the ``time.monotonic_ns()``
    at which the first sample was captured, so every hop's latency can be measured.
    For PCM, ``duration_ms`` is computed from the data when not given. For encoded
    formats the numeric fields are only hints; :func:`decode_audio` reads the truth.
    """

    data: bytes
    sample_rate: int = 16000
    channels: int = 1
    bit_depth: int = 16
    format: AudioFormat = AudioFormat.WAV
    duration_ms: float | None = None
    captured_at_ns: int = field(default_factory=time.monotonic_ns)

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes):
            raise AudioError(f"AudioChunk.data must be bytes, got {type(self.data).__name__}")
        if not isinstance(self.format, AudioFormat):
            raise AudioError(f"AudioChunk.format must be an AudioFormat, got {self.format!r}")
        if not 0 < self.sample_rate <= MAX_SAMPLE_RATE:
            raise AudioError(
                f"sample_rate must be between 1 and {MAX_SAMPLE_RATE} Hz, got {self.sample_rate}"
            )
        if not 0 < self.channels <= 32:
            raise AudioError(f"channels must be between 1 and 32, got {self.channels}")
        if self.bit_depth not in SUPPORTED_BIT_DEPTHS:
            raise AudioError(
                f"bit_depth must be one of {SUPPORTED_BIT_DEPTHS}, got {self.bit_depth}"
            )
        if self.format is AudioFormat.PCM:
            frame = self.frame_bytes
            if len(self.data) % frame:
                raise AudioError(
                    f"PCM data of {len(self.data)} bytes is not a whole number of "
                    f"{frame}-byte frames ({self.channels} ch x {self.bit_depth} bit)"
                )
            if self.duration_ms is None:
                object.__setattr__(self, "duration_ms", self.frames * 1000.0 / self.sample_rate)
        elif self.duration_ms is not None and self.duration_ms < 0:
            raise AudioError(f"duration_ms must not be negative, got {self.duration_ms}")

    @classmethod
    def pcm(
        cls,
        data: bytes,
        sample_rate: int,
        channels: int = 1,
        bit_depth: int = 16,
        captured_at_ns: int | None = None,
    ) -> AudioChunk:
        """A raw PCM chunk; the usual way to build one in the hub."""
        return cls(
            data=data,
            sample_rate=sample_rate,
            channels=channels,
            bit_depth=bit_depth,
            format=AudioFormat.PCM,
            captured_at_ns=time.monotonic_ns() if captured_at_ns is None else captured_at_ns,
        )

    @property
    def frame_bytes(self) -> int:
        """Bytes per frame (one sample for each channel)."""
        return self.channels * self.bit_depth // 8

    @property
    def frames(self) -> int:
        """Number of frames in a PCM chunk."""
        self._require_pcm("frames")
        return len(self.data) // self.frame_bytes

    @property
    def is_pcm(self) -> bool:
        return self.format is AudioFormat.PCM

    def _require_pcm(self, what: str) -> None:
        if self.format is not AudioFormat.PCM:
            raise AudioError(f"{what} needs raw PCM; decode this {self.format.value} chunk first")

    def split(self, frame_ms: float) -> list[AudioChunk]:
        """Cut into pieces of ``frame_ms`` each; the last piece may be shorter.

        Each piece's ``captured_at_ns`` is advanced by its offset in the chunk.
        """
        self._require_pcm("split")
        if frame_ms <= 0:
            raise AudioError(f"frame_ms must be positive, got {frame_ms}")
        frames_per_piece = max(1, round(self.sample_rate * frame_ms / 1000))
        step = frames_per_piece * self.frame_bytes
        pieces = []
        for offset in range(0, len(self.data), step):
            offset_ns = (offset // self.frame_bytes) * 1_000_000_000 // self.sample_rate
            pieces.append(
                replace(
                    self,
                    data=self.data[offset : offset + step],
                    duration_ms=None,
                    captured_at_ns=self.captured_at_ns + offset_ns,
                )
            )
        return pieces

    def to_numpy(self) -> npt.NDArray[Any]:
        """A read-only view of the samples, shape ``(frames, channels)``.

        8-bit PCM is unsigned (WAV convention); 24-bit is widened to int32.
        """
        import numpy as np

        self._require_pcm("to_numpy")
        if self.bit_depth == 24:
            raw = np.frombuffer(self.data, dtype=np.uint8).reshape(-1, 3)
            wide = (
                raw[:, 0].astype(np.int32)
                | (raw[:, 1].astype(np.int32) << 8)
                | (raw[:, 2].astype(np.int32) << 16)
            )
            wide = np.where(wide & 0x800000, wide - 0x1000000, wide).astype(np.int32)
            return wide.reshape(-1, self.channels)
        dtype_name = {8: "u1", 16: "<i2", 32: "<i4"}[self.bit_depth]
        samples: npt.NDArray[Any] = np.frombuffer(self.data, dtype=np.dtype(dtype_name))
        return samples.reshape(-1, self.channels)

    def to_wav(self) -> bytes:
        """This PCM chunk as a complete WAV file."""
        self._require_pcm("to_wav")
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(self.channels)
            w.setsampwidth(self.bit_depth // 8)
            w.setframerate(self.sample_rate)
            w.writeframes(self.data)
        return buf.getvalue()

    def to_pcm(self) -> AudioChunk:
        """This chunk as raw PCM (decoding it if it is an encoded file)."""
        return self if self.is_pcm else decode_audio(self.data, self.format)


def join_chunks(chunks: Iterable[AudioChunk]) -> AudioChunk:
    """Concatenate PCM chunks of the same shape; keeps the first capture time."""
    items = list(chunks)
    if not items:
        raise AudioError("cannot join an empty list of chunks")
    first = items[0]
    for c in items:
        c._require_pcm("join_chunks")
        if (c.sample_rate, c.channels, c.bit_depth) != (
            first.sample_rate,
            first.channels,
            first.bit_depth,
        ):
            raise AudioError(
                "cannot join chunks of different shapes: "
                f"{first.sample_rate} Hz/{first.channels} ch/{first.bit_depth} bit vs "
                f"{c.sample_rate} Hz/{c.channels} ch/{c.bit_depth} bit"
            )
    return replace(first, data=b"".join(c.data for c in items), duration_ms=None)


def iter_frames(chunk: AudioChunk, frame_ms: float) -> Iterator[AudioChunk]:
    """Lazy form of :meth:`AudioChunk.split`."""
    yield from chunk.split(frame_ms)


_SUFFIX_FORMATS = {
    ".wav": AudioFormat.WAV,
    ".wave": AudioFormat.WAV,
    ".mp3": AudioFormat.MP3,
    ".flac": AudioFormat.FLAC,
    ".ogg": AudioFormat.OGG,
    ".oga": AudioFormat.OGG,
    ".raw": AudioFormat.PCM,
    ".pcm": AudioFormat.PCM,
}


def format_for_path(path: str | Path) -> AudioFormat:
    """The :class:`AudioFormat` a file name's suffix stands for."""
    suffix = Path(path).suffix.lower()
    try:
        return _SUFFIX_FORMATS[suffix]
    except KeyError:
        raise AudioError(
            f"{path}: unknown audio file type {suffix!r}; expected one of "
            f"{', '.join(sorted(_SUFFIX_FORMATS))}"
        ) from None


def load_audio(path: str | Path) -> AudioChunk:
    """Read an audio file (WAV, FLAC, OGG, MP3) from disk and decode it to PCM."""
    p = Path(path)
    fmt = format_for_path(p)
    if fmt is AudioFormat.PCM:
        raise AudioError(f"{p}: raw PCM has no header; build AudioChunk.pcm() with its rate")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise AudioError(f"{p}: cannot read audio file: {exc.strerror or exc}") from exc
    return decode_audio(data, fmt, name=str(p))


def decode_audio(data: bytes, fmt: AudioFormat | None = None, *, name: str = "audio") -> AudioChunk:
    """Decode an encoded audio file held in memory to a 16-bit PCM chunk.

    WAV is read with the standard library; FLAC, OGG and MP3 with libsndfile
    (through ``soundfile``, imported only when needed).
    """
    if not data:
        raise AudioError(f"{name}: empty audio data")
    if fmt is AudioFormat.PCM:
        raise AudioError(f"{name}: raw PCM needs no decoding")
    if fmt in (None, AudioFormat.WAV) and data[:4] == b"RIFF":
        try:
            return _decode_wav(data)
        except (wave.Error, EOFError, AudioError, RuntimeError, ValueError, struct.error):
            pass  # float, extensible or damaged WAV: libsndfile reads or refuses those
    return _decode_with_soundfile(data, name)


def _decode_wav(data: bytes) -> AudioChunk:
    with wave.open(io.BytesIO(data), "rb") as w:
        frames = w.readframes(w.getnframes())
        width = w.getsampwidth()
        chunk = AudioChunk(
            data=frames,
            sample_rate=w.getframerate(),
            channels=w.getnchannels(),
            bit_depth=width * 8,
            format=AudioFormat.PCM,
        )
    if len(frames) != w.getnframes() * width * w.getnchannels():
        raise AudioError("WAV data is truncated")
    return chunk


def _decode_with_soundfile(data: bytes, name: str) -> AudioChunk:
    try:
        import soundfile
    except ImportError as exc:  # pragma: no cover - soundfile is a core dependency
        raise AudioError("decoding FLAC/OGG/MP3 needs the 'soundfile' package") from exc
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as f:
            rate, channels = int(f.samplerate), int(f.channels)
            if not (0 < rate <= MAX_SAMPLE_RATE and 0 < channels <= 32):
                raise AudioError(
                    f"{name}: audio reports an impossible rate ({rate} Hz) or "
                    f"channel count ({channels})"
                )
            # read in blocks: a damaged header may claim any length, memory stays bounded
            limit = MAX_DECODED_SECONDS * rate
            blocks, frames = [], 0
            for block in f.blocks(blocksize=rate, dtype="int16", always_2d=True):
                blocks.append(block.tobytes())
                frames += len(block)
                if frames > limit:
                    raise AudioError(f"{name}: longer than {MAX_DECODED_SECONDS} s; refused")
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        raise AudioError(f"{name}: cannot decode audio: {exc}") from exc
    return AudioChunk(
        data=b"".join(blocks),
        sample_rate=rate,
        channels=channels,
        bit_depth=16,
        format=AudioFormat.PCM,
    )
