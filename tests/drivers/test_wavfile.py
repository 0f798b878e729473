"""Audio files: WAV/FLAC/OGG round trips, real speech, real-time pacing, writer checks."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drivers.wavfile import WavWriter, read_chunks
from speech_api.audio import AudioChunk, join_chunks, load_audio
from speech_api.errors import AudioError
from tests.alsa.alsa_harness import noise_pcm, sine_pcm

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
SPEECH = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0870.wav"


def test_write_then_read_back_equals_input(tmp_path: Path) -> None:
    pcm = noise_pcm(16000, 0.5)
    path = tmp_path / "x.wav"
    with WavWriter(path, 16000) as writer:
        for chunk in AudioChunk.pcm(pcm, 16000).split(30):
            writer.write(chunk)
        assert writer.duration_ms == pytest.approx(500)
    chunks = list(read_chunks(path, frame_ms=20))
    assert [c.frames for c in chunks] == [320] * 25
    assert join_chunks(chunks).data == pcm
    stamps = [c.captured_at_ns for c in chunks]
    assert stamps[1] - stamps[0] == 20_000_000


@pytest.mark.parametrize("fmt", ["FLAC", "OGG", "MP3"])
def test_reads_encoded_formats(tmp_path: Path, fmt: str) -> None:
    samples = np.frombuffer(sine_pcm(440, 16000, 0.5), "<i2")
    path = tmp_path / f"x.{fmt.lower()}"
    soundfile.write(path, samples, 16000, format=fmt)
    chunks = list(read_chunks(path))
    audio = join_chunks(chunks)
    assert audio.sample_rate == 16000 and audio.channels == 1
    assert audio.frames == pytest.approx(8000, abs=1200)  # MP3 pads whole frames
    y = audio.to_numpy()[:, 0].astype(float)
    assert np.argmax(np.abs(np.fft.rfft(y))) * 16000 / len(y) == pytest.approx(440, abs=3)
    if fmt == "FLAC":  # lossless
        assert audio.data == samples.tobytes()


def test_reads_real_speech() -> None:
    chunks = list(read_chunks(SPEECH, frame_ms=20))
    assert chunks[0].sample_rate == 16000
    assert join_chunks(chunks).data == load_audio(SPEECH).data
    assert sum(c.duration_ms or 0 for c in chunks) > 1000


def test_realtime_pacing(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(AudioChunk.pcm(sine_pcm(440, 8000, 0.4), 8000).to_wav())
    started = time.monotonic()
    chunks = list(read_chunks(path, frame_ms=20, realtime=True))
    elapsed = time.monotonic() - started
    assert len(chunks) == 20
    assert elapsed >= 0.37  # the last chunk is due at 380 ms
    assert chunks[-1].captured_at_ns - chunks[0].captured_at_ns >= 370_000_000


def test_writer_rejects_mismatched_audio_and_writes_after_close(tmp_path: Path) -> None:
    writer = WavWriter(tmp_path / "y.wav", 16000)
    with pytest.raises(AudioError, match="expected 16-bit PCM at 16000 Hz"):
        writer.write(AudioChunk.pcm(b"\0\0", 24000))
    writer.close()
    with pytest.raises(AudioError, match="closed"):
        writer.write(AudioChunk.pcm(b"\0\0", 16000))


def test_unreadable_inputs_are_named(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="cannot read"):
        list(read_chunks(tmp_path / "missing.wav"))
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(AudioError, match=r"bad\.flac"):
        list(read_chunks(bad))
    with pytest.raises(AudioError, match="cannot write"):
        WavWriter(tmp_path / "no" / "dir.wav", 16000)
