"""The speaker as a Speech API audio sink: ALSA playback for a plain asyncio script.

``AlsaSpeaker`` plays answer audio of any rate (resampled to the device) and
knows, per answer item, how many milliseconds the listener has really heard:
the playback writer (:class:`drivers.alsa_playback.AlsaPlayback`) reports the
played position as each period reaches the device, and :meth:`AlsaSpeaker.flush`
(barge-in) silences the device within about one period and returns it, which is
what a realtime provider's truncate needs.
"""

from __future__ import annotations

import threading

from drivers.alsa_pcm import DeviceLostError
from drivers.alsa_playback import AlsaPlayback
from speech_api.audio import AudioChunk
from speech_api.bridge import run_blocking
from speech_api.errors import AudioError
from speech_api.sinks import AudioSink


class AlsaSpeaker(AudioSink):
    """Plays PCM16 chunks on an ALSA playback PCM (open on construction; close when done).

    A device that is not there raises :class:`AudioError` naming it.
    """

    def __init__(self, device: str = "default", sample_rate: int = 24000, *,
                 channels: int = 1, period_ms: int = 20) -> None:
        self.device = device
        self._played: dict[str, int] = {}
        self._lock = threading.Lock()
        self._playback = AlsaPlayback(device, sample_rate, channels, period_ms,
                                      on_written=self._on_written)
        try:
            self._playback.open()
        except DeviceLostError as exc:
            raise AudioError(f"cannot open speaker {device!r}: {exc.reason}") from None

    def _on_written(self, item_id: str, played_ms: int, _at_ns: int) -> None:
        with self._lock:
            self._played[item_id] = max(played_ms, self._played.get(item_id, 0))

    async def play(self, chunk: AudioChunk, item_id: str = "") -> None:
        self._playback.enqueue(chunk, item_id)

    async def flush(self) -> dict[str, int]:
        played = self._playback.flush()
        with self._lock:
            self._played.update(played)
        return played

    async def drain(self, timeout: float = 60.0) -> bool:
        return await run_blocking(lambda: self._playback.drain(timeout))

    def played_ms(self, item_id: str) -> int:
        with self._lock:
            return self._played.get(item_id, 0)

    async def close(self) -> None:
        await run_blocking(self._playback.close)
