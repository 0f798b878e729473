"""Audio files as PCM chunks (WAV, FLAC, OGG, MP3 in; WAV out) for tests, demos and the CLI."""

from __future__ import annotations

import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from speech_api.audio import AudioChunk, load_audio
from speech_api.errors import AudioError


def read_chunks(
    path: str | Path, frame_ms: int = 20, realtime: bool = False
) -> Iterator[AudioChunk]:
    """Decode ``path`` and yield PCM chunks of ``frame_ms`` (the last may be shorter).

    ``realtime=True`` paces the chunks at wall-clock speed (like a microphone) and
    stamps each with the time it was yielded; otherwise they come as fast as the
    caller takes them, stamped as if captured back to back from the first one.
    """
    if frame_ms <= 0:
        raise AudioError(f"frame_ms must be positive, got {frame_ms}")
    audio = load_audio(path)
    start = time.monotonic()
    start_ns = time.monotonic_ns()
    for index, chunk in enumerate(audio.split(frame_ms)):
        if realtime:
            delay = start + index * frame_ms / 1000 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield replace(chunk, captured_at_ns=time.monotonic_ns())
        else:
            yield replace(chunk, captured_at_ns=start_ns + index * frame_ms * 1_000_000)


class WavWriter:
    """Append PCM16 chunks to a WAV file; thread-safe; the header is final after :meth:`close`."""

    def __init__(self, path: str | Path, sample_rate: int, channels: int = 1) -> None:
        if sample_rate <= 0 or channels <= 0:
            raise AudioError(
                f"WavWriter needs a positive rate and channel count, got {sample_rate}, {channels}"
            )
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames_written = 0
        self._lock = threading.Lock()
        try:
            # Open the file ourselves: wave.open on a bad path leaves a half-made writer
            # whose __del__ raises.
            self._file = self.path.open("wb")
        except OSError as exc:
            raise AudioError(f"{self.path}: cannot write WAV: {exc.strerror or exc}") from exc
        self._wav: wave.Wave_write | None = wave.open(self._file, "wb")  # noqa: SIM115
        self._wav.setnchannels(channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)

    def write(self, chunk: AudioChunk) -> None:
        shape = (chunk.sample_rate, chunk.channels, chunk.bit_depth)
        if not chunk.is_pcm or shape != (self.sample_rate, self.channels, 16):
            raise AudioError(
                f"{self.path}: expected 16-bit PCM at {self.sample_rate} Hz/{self.channels} ch, "
                f"got {chunk.format.value} {chunk.bit_depth} bit at "
                f"{chunk.sample_rate} Hz/{chunk.channels} ch (resample first)"
            )
        with self._lock:
            if self._wav is None:
                raise AudioError(f"{self.path}: WavWriter is closed")
            self._wav.writeframes(chunk.data)
            self.frames_written += chunk.frames

    @property
    def duration_ms(self) -> float:
        return self.frames_written * 1000 / self.sample_rate

    def close(self) -> None:
        with self._lock:
            wav, self._wav = self._wav, None
        if wav is not None:
            wav.close()  # patches the header sizes
            self._file.close()

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
