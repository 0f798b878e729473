"""Turn chunks of any size, rate and sample width into fixed engine frames.

Every offline engine wants mono 16-bit PCM at one rate in frames of one size;
the hub captures 20 ms chunks at 8 or 16 kHz. :class:`Reframer` converts and
re-cuts a live stream (keeping the remainder between calls and the capture time
of each frame), :func:`to_pcm16_mono` converts one whole chunk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.resample import StreamResampler
from speech_api import AudioChunk, AudioError

if TYPE_CHECKING:
    import numpy as np
else:  # imported at first use, after READY (see drivers.lazy_import)
    from drivers.lazy_import import lazy_module

    np = lazy_module("numpy")

_NS_PER_S = 1_000_000_000


def to_pcm16_mono(chunk: AudioChunk, *, what: str = "audio") -> AudioChunk:
    """``chunk`` as 16-bit mono PCM (decoded, down-mixed and re-quantised as needed)."""
    if not isinstance(chunk, AudioChunk):
        raise AudioError(f"{what}: expected an AudioChunk, got {type(chunk).__name__}")
    pcm = chunk.to_pcm()
    if pcm.channels == 1 and pcm.bit_depth == 16:
        return pcm
    samples = pcm.to_numpy().astype(np.float64)
    if pcm.bit_depth == 8:  # unsigned, WAV convention
        samples = (samples - 128.0) * 256.0
    elif pcm.bit_depth in (24, 32):
        samples /= float(1 << (pcm.bit_depth - 16))
    mono = samples.mean(axis=1)
    data = np.clip(np.round(mono), -32768, 32767).astype("<i2").tobytes()
    return AudioChunk.pcm(data, pcm.sample_rate, captured_at_ns=pcm.captured_at_ns)


def resample_pcm16(pcm: bytes, in_rate: int, out_rate: int) -> bytes:
    """Resample a whole 16-bit mono buffer (one shot, the hub's one resampler)."""
    if in_rate == out_rate or not pcm:
        return pcm
    resampler = StreamResampler(in_rate, out_rate)
    return resampler.process(pcm) + resampler.flush()


class Reframer:
    """Re-cut a live stream into ``frame_samples``-long frames at ``rate``.

    ``feed`` accepts any chunk size, rate (resampled with the hub's streaming
    resampler, which answers every chunk at once; reset when the input rate
    changes), width and channel count, and returns the complete frames with the
    capture time of their first sample.
    Deterministic for a given input: no clocks are read.
    """

    def __init__(self, rate: int, frame_samples: int) -> None:
        if rate <= 0 or frame_samples <= 0:
            raise ValueError(f"rate and frame_samples must be positive: {rate}, {frame_samples}")
        self.rate = rate
        self.frame_samples = frame_samples
        self._frame_bytes = frame_samples * 2
        self._buffer = bytearray()
        self._buffer_start_ns = 0
        self._in_rate = 0
        self._in_total = self._out_total = 0
        self._resampler: StreamResampler | None = None

    @property
    def frame_ns(self) -> int:
        return self.frame_samples * _NS_PER_S // self.rate

    def reset(self) -> None:
        self._buffer.clear()
        self._in_rate = 0
        self._resampler = None

    def feed(self, chunk: AudioChunk) -> list[tuple[bytes, int]]:
        """The complete frames ``chunk`` finishes, as ``(pcm16 bytes, captured_at_ns)``."""
        mono = to_pcm16_mono(chunk)
        data, held = self._convert(mono)
        if not self._buffer:
            # the converted audio ends where the chunk ends, less what the resampler holds
            end_ns = mono.captured_at_ns + mono.frames * _NS_PER_S // mono.sample_rate
            self._buffer_start_ns = end_ns - (len(data) // 2 + held) * _NS_PER_S // self.rate
        self._buffer += data
        frames = []
        offset = 0
        while len(self._buffer) - offset >= self._frame_bytes:
            at_ns = self._buffer_start_ns + (offset // 2) * _NS_PER_S // self.rate
            frames.append((bytes(self._buffer[offset : offset + self._frame_bytes]), at_ns))
            offset += self._frame_bytes
        if offset:
            del self._buffer[:offset]
            self._buffer_start_ns += (offset // 2) * _NS_PER_S // self.rate
        return frames

    def _convert(self, mono: AudioChunk) -> tuple[bytes, int]:
        """PCM at ``rate`` and how many output samples the resampler still holds."""
        if mono.sample_rate == self.rate:
            return mono.data, 0
        if mono.sample_rate != self._in_rate or self._resampler is None:
            self._in_rate = mono.sample_rate
            self._in_total = self._out_total = 0
            # holds back only half its filter (~4 ms at 8 kHz); soxr's stream held 26-130 ms
            self._resampler = StreamResampler(mono.sample_rate, self.rate)
        out = self._resampler.process(mono.data)
        self._in_total += mono.frames
        self._out_total += len(out) // 2
        held = max(0, self._in_total * self.rate // self._in_rate - self._out_total)
        return out, held
