"""Playback through real alsa-lib (file plugin): played WAV == what was written, flush, drain."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from drivers.alsa import AlsaPlayback, DeviceLostError
from speech_api.audio import AudioChunk
from tests.alsa.alsa_harness import (
    PLAYBACK_PCM,
    AlsaFiles,
    iter_chunks,
    noise_pcm,
    read_played_wav,
    sine_pcm,
)


def test_played_wav_equals_what_was_written(alsa_files: AlsaFiles) -> None:
    pcm = noise_pcm(24000, 0.5)
    idle = threading.Event()
    with AlsaPlayback(PLAYBACK_PCM, 24000, on_idle=idle.set) as play:
        for chunk in iter_chunks(pcm, 24000, 20):
            play.enqueue(chunk, "reply-1")
        assert play.drain(timeout=5)
        assert idle.wait(1)
    played = read_played_wav(alsa_files.outfile)
    assert (played.sample_rate, played.channels, played.bit_depth) == (24000, 1, 16)
    assert played.data == pcm
    assert play.underruns == 0 and play.dropped_frames == 0


def test_playback_runs_in_real_time_on_an_instant_device(alsa_files: AlsaFiles) -> None:
    # The file plugin swallows audio instantly; the writer must still pace itself.
    written: list[tuple[str, int, int]] = []

    def on_written(item: str, ms: int, at_ns: int) -> None:
        written.append((item, ms, at_ns))

    with AlsaPlayback(PLAYBACK_PCM, 16000, on_written=on_written) as play:
        started = time.monotonic()
        play.enqueue(AudioChunk.pcm(sine_pcm(440, 16000, 0.6), 16000), "a")
        assert play.drain(timeout=5)
        elapsed = time.monotonic() - started
    assert elapsed > 0.5  # paced: an unpaced writer is done in milliseconds
    assert [w[0] for w in written] == ["a"] * 30  # one callback per 20 ms period
    assert [w[1] for w in written] == [20 * (i + 1) for i in range(30)]
    stamps = [w[2] for w in written]
    assert (stamps[-1] - stamps[0]) / 1e9 > 0.4


def test_flush_reports_played_ms_within_one_period(alsa_files: AlsaFiles) -> None:
    half_played = threading.Event()

    def on_written(item: str, ms: int, at_ns: int) -> None:
        if item == "item-1" and ms >= 500:
            half_played.set()

    marker = noise_pcm(24000, 0.1, seed=3)
    with AlsaPlayback(PLAYBACK_PCM, 24000, on_written=on_written) as play:
        play.enqueue(AudioChunk.pcm(noise_pcm(24000, 2.0), 24000), "item-1")
        play.enqueue(AudioChunk.pcm(noise_pcm(24000, 0.5, seed=9), 24000), "item-2")
        assert half_played.wait(5)
        played = play.flush()
        # Whatever reaches the device next is the next item: nothing flushed is written late.
        play.enqueue(AudioChunk.pcm(marker, 24000), "item-3")
        assert play.drain(timeout=5)
    data = read_played_wav(alsa_files.outfile).data
    assert data.endswith(marker)
    truth_ms = (len(data) - len(marker)) / 2 * 1000 / 24000
    assert set(played) == {"item-1", "item-2"}
    assert played["item-2"] == 0
    assert abs(played["item-1"] - truth_ms) <= 20, (played, truth_ms)
    assert 480 <= played["item-1"] < 2000  # at least the 500 ms written, less a period


def test_other_rates_are_resampled_to_the_device_rate(alsa_files: AlsaFiles) -> None:
    with AlsaPlayback(PLAYBACK_PCM, 48000) as play:
        for chunk in iter_chunks(sine_pcm(1000, 16000, 0.5), 16000, 20):
            play.enqueue(chunk, "tts")
        assert play.drain(timeout=5)
    played = read_played_wav(alsa_files.outfile)
    assert played.sample_rate == 48000
    assert played.frames == 24000  # 0.5 s, tail included by drain
    y = played.to_numpy()[:, 0].astype(float)[2400:-2400]
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.argmax(spectrum) * 48000 / len(y) == pytest.approx(1000, abs=5)


def test_full_buffer_drops_oldest_audio(alsa_files: AlsaFiles) -> None:
    play = AlsaPlayback(PLAYBACK_PCM, 16000, max_buffer_ms=200)
    play.open()
    try:
        play.flush()
        first = noise_pcm(16000, 0.3, seed=1)
        second = noise_pcm(16000, 0.1, seed=2)
        play.enqueue(AudioChunk.pcm(first, 16000), "old")
        play.enqueue(AudioChunk.pcm(second, 16000), "new")
        assert play.dropped_ms >= 100
        assert play.buffered_ms <= 200
        assert play.drain(timeout=5)
    finally:
        play.close()
    played = read_played_wav(alsa_files.outfile).data
    assert played.endswith(second)  # the newest audio always survives
    assert len(played) <= len(first) + len(second) - int(play.dropped_frames) * 2 + 1280


def test_enqueue_rejects_bad_audio_and_closed_playback(alsa_files: AlsaFiles) -> None:
    play = AlsaPlayback(PLAYBACK_PCM, 16000)
    with pytest.raises(RuntimeError, match="open"):
        play.enqueue(AudioChunk.pcm(b"\0\0", 16000))
    play.open()
    with pytest.raises(Exception, match="16-bit"):
        play.enqueue(AudioChunk(b"RIFF....", format=AudioChunk.pcm(b"", 8000).format.WAV))
    play.close()
    play.close()


def test_missing_device_raises_device_lost() -> None:
    with pytest.raises(DeviceLostError, match="nowhere"):
        AlsaPlayback("nowhere", 16000).open()
