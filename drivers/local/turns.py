"""Turn detection for the library's chained voice agent, from the local VAD.

:class:`VadTurnDetector` is a ``speech_api.agents.TurnDetector``: it runs the
hub's own smoothed segmenter (``drivers.local.segmenter``) over a chunk stream
and reports speech start and end as the Speech API's ``SpeechStarted`` /
``SpeechStopped`` events, with times in ms from the first chunk it saw.
"""

from __future__ import annotations

from drivers.local import segmenter
from drivers.local.segmenter import SpeechSegmenter, VadEvent
from drivers.local.vad import Vad, WebRtcVad
from speech_api import AudioChunk
from speech_api.events import SpeechStarted, SpeechStopped


class VadTurnDetector:
    """``SpeechStarted`` / ``SpeechStopped`` from a VAD (WebRTC at 16 kHz by default)."""

    def __init__(self, vad: Vad | None = None, *, hangover_ms: float = 600.0,
                 min_speech_ms: float = 150.0) -> None:
        self._segmenter = SpeechSegmenter(vad or WebRtcVad(), hangover_ms=hangover_ms,
                                          min_speech_ms=min_speech_ms)
        self._origin_ns: int | None = None
        self._turns = 0

    def feed(self, chunk: AudioChunk) -> list[SpeechStarted | SpeechStopped]:
        if self._origin_ns is None:
            self._origin_ns = chunk.captured_at_ns
        return [self._convert(event) for event in self._segmenter.feed(chunk)]

    def flush(self) -> list[SpeechStarted | SpeechStopped]:
        return [self._convert(event) for event in self._segmenter.flush()]

    def _convert(self, event: VadEvent) -> SpeechStarted | SpeechStopped:
        origin = self._origin_ns or 0
        if isinstance(event, segmenter.SpeechStarted):
            self._turns += 1
            return SpeechStarted(item_id=f"turn_{self._turns}",
                                 audio_start_ms=(event.at_ns - origin) // 1_000_000)
        assert isinstance(event, segmenter.SpeechStopped)
        return SpeechStopped(item_id=f"turn_{self._turns}",
                             audio_end_ms=(event.at_ns - origin) // 1_000_000)
