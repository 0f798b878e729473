"""Convert any PCM chunk to what the Realtime API takes: 24 kHz mono PCM16 bytes.

Stateful, because resampling a stream in 20 ms pieces needs the filter's memory
carried from one piece to the next (no clicks at the seams); the hardware
drivers' :class:`drivers.resample.StreamResampler` does the resampling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.resample import StreamResampler, float_to_s16, to_mono
from speech_api.audio import AudioChunk
from speech_api.errors import AudioError

if TYPE_CHECKING:
    import numpy as np
else:  # imported at first use, after READY (see drivers.lazy_import)
    from drivers.lazy_import import lazy_module

    np = lazy_module("numpy")

TARGET_RATE = 24000


class Pcm24kConverter:
    """Feed chunks in capture order; each returns the matching 24 kHz PCM16 bytes."""

    def __init__(self) -> None:
        self._resampler: StreamResampler | None = None
        self._rate: int | None = None

    def convert(self, chunk: AudioChunk) -> bytes:
        if not chunk.is_pcm:
            raise AudioError(
                f"realtime audio must be raw PCM chunks, got {chunk.format.value}; decode it first"
            )
        mono16 = _mono_s16(chunk)
        if chunk.sample_rate == TARGET_RATE:
            return mono16
        if self._resampler is None or self._rate != chunk.sample_rate:
            self._resampler = StreamResampler(chunk.sample_rate, TARGET_RATE, 1)
            self._rate = chunk.sample_rate
        return self._resampler.process(mono16)


def _mono_s16(chunk: AudioChunk) -> bytes:
    if chunk.bit_depth == 16:
        return chunk.data if chunk.channels == 1 else to_mono(chunk.data, chunk.channels)
    samples = chunk.to_numpy().astype(np.float64)
    if chunk.bit_depth == 8:
        samples -= 128.0  # 8-bit WAV samples are unsigned
    return float_to_s16(samples.mean(axis=1) / float(2 ** (chunk.bit_depth - 1)))
