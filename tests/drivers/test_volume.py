"""The speaker volume: a squared gain curve, applied by the playback writer per period."""

from __future__ import annotations

import numpy as np

from drivers.alsa import AlsaPlayback
from drivers.volume import VolumeControl
from tests.alsa.alsa_harness import PLAYBACK_PCM, AlsaFiles, iter_chunks, read_played_wav, sine_pcm


def peak(pcm: bytes) -> int:
    return int(np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.int32)).max())


def test_level_is_clamped_and_gain_follows_a_squared_curve() -> None:
    volume = VolumeControl(150)
    assert volume.level == 100 and volume.gain == 1.0
    volume.level = -5
    assert volume.level == 0 and volume.gain == 0.0
    volume.level = 50
    assert volume.gain == 0.25


def test_apply_scales_samples_and_leaves_full_volume_untouched() -> None:
    pcm = np.array([1000, -1000, 32767, -32768], dtype="<i2").tobytes()
    assert VolumeControl(100).apply(pcm) == pcm
    half = np.frombuffer(VolumeControl(50).apply(pcm), dtype="<i2").tolist()
    assert half == [250, -250, 8192, -8192]
    assert VolumeControl(0).apply(pcm) == b"\x00" * len(pcm)


def test_playback_applies_the_volume_and_a_change_is_heard(alsa_files: AlsaFiles) -> None:
    tone = sine_pcm(440.0, 16000, 0.4)
    volume = VolumeControl(100)
    with AlsaPlayback(PLAYBACK_PCM, 16000, volume=volume) as play:
        for chunk in iter_chunks(tone, 16000, 20):
            play.enqueue(chunk, "loud")
        assert play.drain(timeout=5)
        volume.level = 50
        for chunk in iter_chunks(tone, 16000, 20):
            play.enqueue(chunk, "quiet")
        assert play.drain(timeout=5)
    played = read_played_wav(alsa_files.outfile).data
    half = len(played) // 2
    assert peak(played[:half]) == peak(tone)
    assert abs(peak(played[half:]) - peak(tone) / 4) <= 1
