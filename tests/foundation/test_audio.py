"""AudioChunk immutability and validation; decoding of files the tests make."""

from __future__ import annotations

import dataclasses
import math
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile

from speech_api import AudioChunk, AudioError, AudioFormat, decode_audio, join_chunks, load_audio


def sine_pcm(freq: float = 440.0, rate: int = 16000, seconds: float = 0.5) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * math.pi * freq * t) * 12000).astype("<i2").tobytes()


def test_chunk_is_frozen_and_slotted() -> None:
    chunk = AudioChunk.pcm(b"\x00\x00" * 160, 16000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        chunk.data = b""  # type: ignore[misc]
    assert not hasattr(chunk, "__dict__")


def test_pcm_chunk_computes_duration_and_frames() -> None:
    chunk = AudioChunk.pcm(b"\x01\x00" * 320, 16000)
    assert chunk.frames == 320
    assert chunk.duration_ms == pytest.approx(20.0)
    stereo = AudioChunk.pcm(b"\x00" * 4 * 480, 48000, channels=2)
    assert stereo.frames == 480 and stereo.duration_ms == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"data": b"\x00" * 3, "sample_rate": 16000}, "whole number of 2-byte frames"),
        ({"data": b"\x00" * 6, "sample_rate": 16000, "channels": 2}, "4-byte frames"),
        ({"data": b"", "sample_rate": 0}, "sample_rate must be between"),
        ({"data": b"", "sample_rate": -8000}, "sample_rate must be between"),
        ({"data": b"", "sample_rate": 16000, "channels": 0}, "channels must be"),
        ({"data": b"", "sample_rate": 16000, "bit_depth": 12}, "bit_depth must be one of"),
    ],
)
def test_invalid_pcm_chunks_raise_audio_error(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(AudioError, match=fragment):
        AudioChunk(format=AudioFormat.PCM, **kwargs)  # type: ignore[arg-type]


def test_data_must_be_bytes() -> None:
    with pytest.raises(AudioError, match="must be bytes"):
        AudioChunk(data=bytearray(b"\x00\x00"), format=AudioFormat.PCM)  # type: ignore[arg-type]


def test_split_and_join_round_trip_and_advance_capture_time() -> None:
    data = sine_pcm(seconds=0.105)
    chunk = AudioChunk.pcm(data, 16000, captured_at_ns=1_000_000_000)
    frames = chunk.split(20)
    assert [f.frames for f in frames] == [320] * 5 + [80]
    assert frames[1].captured_at_ns - frames[0].captured_at_ns == 20_000_000
    assert join_chunks(frames).data == data


def test_join_refuses_mixed_shapes() -> None:
    with pytest.raises(AudioError, match="different shapes"):
        join_chunks([AudioChunk.pcm(b"\x00\x00", 16000), AudioChunk.pcm(b"\x00\x00", 8000)])


def test_numpy_view_shapes_and_values() -> None:
    chunk = AudioChunk.pcm(np.array([1, -2, 3, -4], dtype="<i2").tobytes(), 16000, channels=2)
    arr = chunk.to_numpy()
    assert arr.shape == (2, 2)
    assert arr.tolist() == [[1, -2], [3, -4]]
    wide = AudioChunk.pcm(b"\xff\xff\xff\x01\x00\x00", 16000, bit_depth=24).to_numpy()
    assert wide.ravel().tolist() == [-1, 1]


def test_encoded_chunk_refuses_pcm_only_helpers() -> None:
    chunk = AudioChunk(data=b"RIFF....", format=AudioFormat.WAV)
    with pytest.raises(AudioError, match="needs raw PCM"):
        chunk.split(20)


def test_wav_round_trip(tmp_path: Path) -> None:
    pcm = sine_pcm()
    wav = AudioChunk.pcm(pcm, 16000).to_wav()
    decoded = decode_audio(wav)
    assert decoded.data == pcm and decoded.sample_rate == 16000 and decoded.is_pcm
    path = tmp_path / "a.wav"
    path.write_bytes(wav)
    assert load_audio(path).data == pcm


@pytest.mark.parametrize(("suffix", "fmt"), [("flac", "FLAC"), ("ogg", "OGG"), ("mp3", "MP3")])
def test_decode_compressed_formats(tmp_path: Path, suffix: str, fmt: str) -> None:
    rate = 16000 if suffix != "mp3" else 24000
    pcm = sine_pcm(rate=rate, seconds=1.0)
    samples = np.frombuffer(pcm, dtype="<i2")
    path = tmp_path / f"tone.{suffix}"
    subtype = {"flac": "PCM_16", "ogg": "VORBIS", "mp3": "MPEG_LAYER_III"}[suffix]
    soundfile.write(path, samples, rate, format=fmt, subtype=subtype)
    chunk = load_audio(path)
    assert chunk.sample_rate == rate and chunk.channels == 1
    got = chunk.to_numpy().ravel().astype(float)
    if suffix == "flac":
        assert chunk.data == pcm  # lossless
    else:
        # lossy codecs keep the tone: the spectrum peaks at 440 Hz
        spectrum = np.abs(np.fft.rfft(got[: rate // 2]))
        peak_hz = np.argmax(spectrum) * rate / (rate // 2)
        assert abs(peak_hz - 440) < 5
    assert chunk.duration_ms == pytest.approx(1000, abs=120)


def test_decode_wav_written_by_sox(tmp_path: Path) -> None:
    sox = shutil.which("sox")
    assert sox, "sox is installed by .ci/run"
    out = tmp_path / "sox.wav"
    cmd = [sox, "-n", "-r", "8000", "-c", "1", "-b", "16", str(out), "synth", "0.25", "sine", "300"]
    subprocess.run(cmd, check=True, timeout=30)
    chunk = load_audio(out)
    with wave.open(str(out)) as w:
        assert chunk.frames == w.getnframes() == 2000
    assert chunk.sample_rate == 8000


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty audio"),
        (b"RIFF\x10\x00\x00\x00WAVEjunk", "cannot decode"),
        (b"not audio at all" * 10, "cannot decode"),
        (b"fLaC\x00\x00", "cannot decode"),
    ],
)
def test_garbage_is_a_clean_audio_error(data: bytes, fragment: str) -> None:
    with pytest.raises(AudioError, match=fragment):
        decode_audio(data)


def test_truncated_wav_is_refused_or_shortened_cleanly() -> None:
    wav = AudioChunk.pcm(sine_pcm(), 16000).to_wav()
    try:
        chunk = decode_audio(wav[:1001])
    except AudioError:
        return
    assert chunk.is_pcm and len(chunk.data) <= 1001


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="unknown audio file type"):
        load_audio(tmp_path / "x.txt")
    with pytest.raises(AudioError, match="cannot read"):
        load_audio(tmp_path / "missing.wav")
