"""Re-framing and format conversion in front of every engine."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.local.framing import Reframer, resample_pcm16, to_pcm16_mono
from speech_api import AudioChunk, AudioError, AudioFormat
from tests.local.speech import goforward


@given(sizes=st.lists(st.integers(min_value=1, max_value=900), min_size=1, max_size=40))
@settings(max_examples=60, deadline=None)
def test_any_chunk_sizes_give_the_same_frames_and_times(sizes: list[int]) -> None:
    audio = goforward()
    reframer = Reframer(16000, 480)
    frames: list[tuple[bytes, int]] = []
    offset = 0
    for size in sizes:
        piece = audio.data[offset * 2 : (offset + size) * 2]
        if not piece:
            break
        at = offset * 1_000_000_000 // 16000
        frames += reframer.feed(AudioChunk.pcm(piece, 16000, captured_at_ns=at))
        offset += size
    whole = audio.data[: offset * 2]
    assert [f for f, _ in frames] == [
        whole[i : i + 960] for i in range(0, len(whole) - 959, 960)
    ]
    assert [t for _, t in frames] == [i * 30_000_000 for i in range(len(frames))]


def test_resampling_stream_keeps_timing_and_level() -> None:
    audio = goforward()
    eight_k = AudioChunk.pcm(resample_pcm16(audio.data, 16000, 8000), 8000, captured_at_ns=0)
    reframer = Reframer(16000, 320)
    frames = [f for chunk in eight_k.split(20) for f in reframer.feed(chunk)]
    # the resampler holds back its look-ahead, and a partial frame waits for more audio
    assert 0 <= eight_k.frames / 8 - len(frames) * 20 <= 100
    out = np.frombuffer(b"".join(f for f, _ in frames), dtype="<i2").astype(float)
    original = np.frombuffer(audio.data, dtype="<i2").astype(float)
    assert 0.7 < np.sqrt(np.mean(out**2)) / np.sqrt(np.mean(original**2)) < 1.3
    # stamped with the capture time of their audio, give or take the look-ahead
    assert abs(frames[10][1] - 200_000_000) <= 30_000_000


def test_wider_and_stereo_input_is_converted() -> None:
    mono = np.array([1000, -2000, 3000], dtype="<i2")
    stereo = np.repeat(mono, 2).astype("<i4") << 16  # 32-bit, two equal channels
    chunk = AudioChunk.pcm(stereo.tobytes(), 16000, channels=2, bit_depth=32)
    assert np.array_equal(to_pcm16_mono(chunk).to_numpy()[:, 0], mono)


def test_encoded_audio_is_decoded() -> None:
    wav = goforward().to_wav()
    chunk = AudioChunk(wav, 16000, format=AudioFormat.WAV)
    assert to_pcm16_mono(chunk).data == goforward().data


def test_bad_input_names_what_was_expected() -> None:
    with pytest.raises(AudioError, match="expected an AudioChunk"):
        to_pcm16_mono(b"\x00\x00")  # type: ignore[arg-type]
    with pytest.raises(AudioError, match="cannot decode"):
        to_pcm16_mono(AudioChunk(b"not an mp3 at all", 16000, format=AudioFormat.MP3))
    with pytest.raises(ValueError, match="positive"):
        Reframer(0, 160)
