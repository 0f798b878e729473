"""ALSA capture and playback for the hub (pyalsaaudio underneath).

The public names live here; the code is split by job: :mod:`drivers.alsa_pcm`
(the PCM seam, :class:`DeviceLostError`, reopening with backoff),
:mod:`drivers.alsa_capture` and :mod:`drivers.alsa_playback`.
"""

from drivers.alsa_capture import AlsaCapture
from drivers.alsa_pcm import (
    DeviceLostError,
    PcmFactory,
    PcmLike,
    default_pcm_factory,
    reopen_with_backoff,
)
from drivers.alsa_playback import AlsaPlayback, OnWritten

__all__ = [
    "AlsaCapture",
    "AlsaPlayback",
    "DeviceLostError",
    "OnWritten",
    "PcmFactory",
    "PcmLike",
    "default_pcm_factory",
    "reopen_with_backoff",
]
