"""The microphone as a Speech API audio source: ALSA capture for ``async for``.

``AlsaMicrophoneSource`` is the seed's microphone source over ALSA (the seed had
PyAudio): a plain asyncio script can hand it to ``transcribe_realtime`` or to a
voice agent. Capture runs on a worker thread (:class:`drivers.alsa_capture.AlsaCapture`,
which opens and reopens the device through ``drivers.alsa_pcm``); a lost device is
reopened with backoff; leaving the ``async for`` stops and closes it.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator

from drivers.alsa_capture import AlsaCapture
from drivers.alsa_pcm import DeviceLostError
from speech_api.audio import AudioChunk
from speech_api.bridge import iterate_in_thread
from speech_api.errors import AudioError


class AlsaMicrophoneSource:
    """Mono PCM16 chunks of ``period_ms`` from an ALSA capture PCM, in real time.

    ``seconds`` ends the source after that much audio (``None``: until the consumer
    stops). Opening a device that is not there raises :class:`AudioError` naming it.
    """

    paced = True  # a microphone delivers audio at the pace it is spoken

    def __init__(self, device: str = "default", sample_rate: int = 16000, *,
                 channels: int = 1, period_ms: int = 20, seconds: float | None = None) -> None:
        if seconds is not None and seconds <= 0:
            raise AudioError(f"seconds must be positive, got {seconds}")
        self.device = device
        self.sample_rate = sample_rate
        self.channels = channels
        self.period_ms = period_ms
        self.seconds = seconds

    def blocking(self, stop: threading.Event) -> Iterator[AudioChunk]:
        """The chunks as a blocking iterator (from a thread) until ``stop`` or ``seconds``."""
        capture = AlsaCapture(self.device, self.sample_rate, self.channels, self.period_ms)
        try:
            capture.open()  # the first open fails loudly; later losses are retried
        except DeviceLostError as exc:
            raise AudioError(f"cannot open microphone {self.device!r}: {exc.reason}") from None
        limit = None if self.seconds is None else round(self.seconds * 1000 / self.period_ms)
        for count, chunk in enumerate(capture.stream(stop), start=1):
            yield chunk
            if limit is not None and count >= limit:
                return

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        stop = threading.Event()
        try:
            async for chunk in iterate_in_thread(lambda: self.blocking(stop)):
                yield chunk
        finally:
            stop.set()
