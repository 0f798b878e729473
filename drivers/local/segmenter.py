"""Smoothed speech start / speech end detection on top of a frame VAD.

Raw VAD decisions flicker. The segmenter turns them into utterances:

- a *candidate* starts at the first of ``start_ms`` consecutive speech frames;
- it is *confirmed* (``SpeechStarted``, stamped with the candidate's first frame)
  once it holds ``min_speech_ms`` of speech, so clicks and coughs never start
  an utterance;
- it ends (``SpeechStopped``) after ``hangover_ms`` of silence, stamped where the
  speech really ended: the VAD's last speech frame, moved back to the last frame still
  speech by its energy (``drivers.local.speech_end``: the VAD hears a word's fading
  tail for ~100 ms); an unconfirmed candidate is dropped silently.

:class:`Endpointer` turns those segments into the user's turn-level speech: a
pause shorter than the endpoint inside a sentence is not the end of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers.local.speech_end import EndRule, EnergyEnd
from speech_api import AudioChunk

if TYPE_CHECKING:
    from drivers.local.vad import Vad

_NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech began; ``at_ns`` is the capture time of its first frame."""

    at_ns: int


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """Speech ended; ``at_ns`` is the capture time just after its last speech frame (by
    energy, when the segmenter has an end rule)."""

    at_ns: int
    started_at_ns: int

    @property
    def duration_ms(self) -> float:
        return (self.at_ns - self.started_at_ns) / _NS_PER_MS


VadEvent = SpeechStarted | SpeechStopped


class SpeechSegmenter:
    """Feed chunks of any size; get :class:`SpeechStarted` / :class:`SpeechStopped` events.

    ``end_rule`` None stamps the end at the VAD's last speech frame (a transcriber that
    trims its audio there keeps the whole tail)."""

    def __init__(
        self,
        vad: Vad,
        *,
        start_ms: float = 60.0,
        hangover_ms: float = 400.0,
        min_speech_ms: float = 150.0,
        end_rule: EndRule | None = EndRule(),  # noqa: B008 (frozen: shared safely)
    ) -> None:
        for name, value in (("start_ms", start_ms), ("hangover_ms", hangover_ms),
                            ("min_speech_ms", min_speech_ms)):
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")
        self.vad = vad
        self.start_ms = start_ms
        self.hangover_ms = hangover_ms
        self.min_speech_ms = min_speech_ms
        self._frame_ns = round(vad.frame_ms * _NS_PER_MS)
        self._energy = None if end_rule is None else \
            EnergyEnd(end_rule, keep_ms=hangover_ms + 2 * vad.frame_ms)
        self._reset_state()

    @property
    def in_speech(self) -> bool:
        """True between a SpeechStarted and its SpeechStopped."""
        return self._confirmed

    @property
    def hearing(self) -> bool:
        """True while speech is heard, confirmed or not yet (or, after speech ended, a
        frame is as loud as that speech's end by energy)."""
        return self._candidate or self._run_ns > 0 or \
            (self._energy is not None and self._energy.loud)

    def reset(self) -> None:
        """Forget any utterance in progress (no event) and the VAD's state."""
        self.vad.reset()
        if self._energy is not None:
            self._energy.reset()
        self._reset_state()

    def feed(self, chunk: AudioChunk) -> list[VadEvent]:
        events: list[VadEvent] = []
        if self._energy is not None:
            self._energy.feed(chunk)
        for at_ns, speech in self.vad.classify(chunk):
            event = self._step(at_ns, speech)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[VadEvent]:
        """End of stream: close an utterance still open."""
        events: list[VadEvent] = []
        if self._confirmed:
            events.append(self._stopped())
        self._reset_state()
        return events

    def _reset_state(self) -> None:
        self._run_ns = 0  # consecutive speech before a candidate exists
        self._run_start_ns = 0
        self._candidate = False
        self._confirmed = False
        self._candidate_start_ns = 0
        self._speech_ns = 0
        self._silence_ns = 0
        self._last_speech_end_ns = 0

    def _step(self, at_ns: int, speech: bool) -> VadEvent | None:
        frame = self._frame_ns
        if not self._candidate:
            if not speech:
                self._run_ns = 0
                return None
            if self._run_ns == 0:
                self._run_start_ns = at_ns
            self._run_ns += frame
            if self._run_ns < self.start_ms * _NS_PER_MS:
                return None
            self._candidate = True
            self._candidate_start_ns = self._run_start_ns
            self._speech_ns = self._run_ns
            self._silence_ns = 0
            self._last_speech_end_ns = at_ns + frame
            return self._maybe_confirm()
        if speech:
            self._speech_ns += frame
            self._silence_ns = 0
            self._last_speech_end_ns = at_ns + frame
            return self._maybe_confirm()
        self._silence_ns += frame
        if self._silence_ns < self.hangover_ms * _NS_PER_MS:
            return None
        ended = self._stopped() if self._confirmed else None
        self._reset_state()
        return ended

    def _stopped(self) -> SpeechStopped:
        end_ns, start_ns = self._last_speech_end_ns, self._candidate_start_ns
        if self._energy is not None:
            end_ns = self._energy.end(end_ns, start_ns)
        return SpeechStopped(end_ns, start_ns)

    def _maybe_confirm(self) -> VadEvent | None:
        if self._confirmed or self._speech_ns < self.min_speech_ms * _NS_PER_MS:
            return None
        self._confirmed = True
        return SpeechStarted(self._candidate_start_ns)


class Endpointer:
    """The user's speech as a turn sees it: segments closer than ``endpoint_ms`` are one.

    ``SpeechStarted`` when a segment starts while the user was quiet; ``SpeechStopped``
    (stamped at the end of the last speech frame) once ``endpoint_ms`` of audio passed
    after a segment ended with nothing heard since: counted from where the speech really
    ended (the segmenter's energy end), not from where the VAD stopped hearing its tail.
    Time is the audio's own capture clock, so a busy machine shifts nothing. A segment
    only ends after the segmenter's ``hangover_ms`` (after the VAD's own end), so the
    turn never ends sooner than that.
    """

    def __init__(self, segmenter: SpeechSegmenter, endpoint_ms: float) -> None:
        if endpoint_ms < 0:
            raise ValueError(f"endpoint_ms must not be negative, got {endpoint_ms}")
        self.segmenter = segmenter
        self.endpoint_ns = round(endpoint_ms * _NS_PER_MS)
        self.speaking = False
        self._ended: SpeechStopped | None = None  # the last segment's end, not yet final

    @property
    def hearing(self) -> bool:
        """The VAD hears speech (confirmed or not yet)."""
        return self.segmenter.hearing

    def reset(self) -> None:
        self.segmenter.reset()
        self.speaking = False
        self._ended = None

    def feed(self, chunk: AudioChunk) -> list[VadEvent]:
        out: list[VadEvent] = []
        for event in self.segmenter.feed(chunk):
            if isinstance(event, SpeechStopped):
                self._ended = event
            elif self._ended is not None:
                self._ended = None  # a pause inside the turn: the user goes on
            elif not self.speaking:
                self.speaking = True
                out.append(event)
        ended = self._ended
        audio_end_ns = chunk.captured_at_ns + round((chunk.duration_ms or 0.0) * _NS_PER_MS)
        if ended is not None and audio_end_ns - ended.at_ns >= self.endpoint_ns and \
                not self.segmenter.hearing:
            self._ended, self.speaking = None, False
            out.append(ended)
        return out
