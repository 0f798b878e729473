"""Local mode decodes a turn during its endpoint silence, and never answers a stale guess.

Real pocketsphinx on flite speech (grammar then free-form; free-form alone where a turn
holds two commands, which the grammar search would hear as one), real flite replies; the
recogniser is wrapped only to count and time its decodes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from actors.engines.local import LocalEngine
from runtime.config import HubConfig
from runtime.engine_factory import LocalParts, WithSkills, build_engine
from speech_api import AudioChunk, BlockingSpeechToTextClient, BlockingTextToSpeechClient
from speech_api import events as ev
from speech_api.events import RealtimeSessionConfig, TranscriptionEvent
from tests.local.speech import silence
from tests.modes.modetest import (
    Events,
    free_stt,
    grammar_stt,
    local_tts,
    skills_at_fixed_time,
    utterance,
)

SPECULATE_MS = 200


class CountingStt(BlockingSpeechToTextClient):
    """The real recogniser; counts its decodes and remembers each one's audio length."""

    def __init__(self, inner: BlockingSpeechToTextClient) -> None:
        self.inner = inner
        self.decoded_ms: list[float] = []
        self._cond = threading.Condition()

    def transcribe_blocking(self, audio: AudioChunk, language: str | None = None,
                            prompt: str | None = None) -> str:
        text = self.inner.transcribe_blocking(audio, language, prompt)
        with self._cond:
            self.decoded_ms.append(audio.duration_ms or 0.0)
            self._cond.notify_all()
        return text

    def wait_decodes(self, count: int, timeout_s: float = 30.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.decoded_ms) >= count, timeout_s), \
                f"{count} decodes expected, {len(self.decoded_ms)} made"

    def transcribe_stream_blocking(self, audio: AudioChunk, language: str | None = None,
                                   prompt: str | None = None) -> Iterator[str]:
        return self.inner.transcribe_stream_blocking(audio, language, prompt)

    def transcribe_realtime_blocking(
        self, chunks: Iterator[AudioChunk], config: RealtimeSessionConfig | None = None
    ) -> Iterator[TranscriptionEvent]:
        return self.inner.transcribe_realtime_blocking(chunks, config)

    def supported_languages(self) -> list[str]:
        return self.inner.supported_languages()


class CountingTts(BlockingTextToSpeechClient):
    """Real flite; records each synthesis asked for."""

    def __init__(self) -> None:
        self.inner = local_tts()
        self.asked: list[str] = []

    def synthesize_blocking(self, text: str, voice_id: str | None = None,
                            language: str | None = None, audio_format: object = None) -> bytes:
        raise AssertionError("the engine streams its speech")

    def synthesize_stream_blocking(self, text: str, voice_id: str | None = None,
                                   language: str | None = None) -> Iterator[AudioChunk]:
        self.asked.append(text)
        return self.inner.synthesize_stream_blocking(text, voice_id, language)

    def available_voices(self) -> list[str]:
        return self.inner.available_voices()


def quiet(ms: float) -> list[AudioChunk]:
    return [AudioChunk.pcm(piece.data, piece.sample_rate) for piece in silence(ms).split(20)]


def say(engine: LocalEngine, text: str) -> None:
    """``text`` then 300 ms of silence (``utterance``), as the Session hands it over."""
    for chunk in utterance(text):
        engine.send_audio(chunk)


def finals(events: Events) -> list[str]:
    return [e.text for e in events.of(ev.InputTranscript)
            if isinstance(e, ev.InputTranscript) and e.is_final]


def completed(events: Events) -> list[str]:
    return [e.transcript for e in events.of(ev.ResponseDone)
            if isinstance(e, ev.ResponseDone) and e.status == "completed"]


@contextmanager
def running(stt: BlockingSpeechToTextClient, tts: BlockingTextToSpeechClient | None = None,
            speculate_ms: float = SPECULATE_MS) -> Iterator[tuple[Events, LocalEngine]]:
    """A started local engine (skills at a fixed time), closed afterwards."""
    events = Events()
    with skills_at_fixed_time() as skills:
        engine = LocalEngine(stt, tts or local_tts(), skills, speculate_after_ms=speculate_ms)
        engine.start(events)
        try:
            yield events, engine
        finally:
            engine.close()


def guessed(engine: LocalEngine, stt: CountingStt, text: str) -> None:
    """``text`` said, and its pause decoded (the turn not ended)."""
    say(engine, text)
    stt.wait_decodes(len(stt.decoded_ms) + 1)


def test_a_turn_is_decoded_in_its_pause_and_answered_from_that_decode_at_its_end() -> None:
    stt = CountingStt(grammar_stt())
    with running(stt) as (events, engine):
        guessed(engine, stt, "what time is it")  # during the silence: the turn goes on
        assert finals(events) == [], "a speculative decode must not be told as heard"
        for chunk in quiet(400):  # the rest of the endpoint's silence
            engine.send_audio(chunk)
        engine.end_turn()
        events.wait(events.done(), 60, "the answer")
    assert len(stt.decoded_ms) == 1, "the turn was decoded again at its end"
    assert finals(events) == ["what time is it"]
    assert completed(events) == ["It's 10:30 AM."]
    assert engine.speculation.used == 1


def test_speech_after_the_speculative_decode_gets_the_whole_turn_decoded() -> None:
    stt = CountingStt(free_stt())
    with running(stt) as (events, engine):
        guessed(engine, stt, "what time is it")  # a guess of "what time is it" is ready...
        say(engine, "set a timer for ten minutes")  # ...and the user goes on
        engine.end_turn()
        events.wait(events.done(), 60, "the answer")
    assert engine.speculation.discarded >= 1
    assert finals(events) != ["what time is it"], "answered the stale guess"
    assert "timer" in finals(events)[0]
    first_alone = stt.decoded_ms[0]
    assert max(stt.decoded_ms) > first_alone + 1000, "the answer did not hear the whole turn"


def test_a_turn_resumed_after_its_speculative_answer_is_answered_whole() -> None:
    stt = CountingStt(free_stt())
    with running(stt) as (events, engine):
        guessed(engine, stt, "what time is it")
        engine.end_turn()  # answered at once from the guess...
        engine.resume_turn()  # ...but the user was not done: the turn comes back
        say(engine, "set a timer for ten minutes")
        engine.end_turn()
        # the first commit's answer may have been skipped (stale) or started
        events.wait(lambda _: any("timer" in text for text in finals(events)), 60,
                    "the whole turn's transcript")
        events.wait(events.done(len(finals(events))), 30, "every answer's end")
    last = finals(events)[-1]
    assert "time" in last and "timer" in last, f"the resumed turn was not heard whole: {last!r}"
    assert max(stt.decoded_ms) > stt.decoded_ms[0] + 1000


def test_a_speculative_decode_is_dropped_when_the_turn_is_cancelled() -> None:
    stt = CountingStt(grammar_stt())
    with running(stt) as (events, engine):
        guessed(engine, stt, "what time is it")
        engine.cancel_turn()
        say(engine, "set a timer for ten minutes")
        engine.end_turn()
        events.wait(events.done(), 60, "the answer")
    assert finals(events) == ["set a timer for ten minutes"]
    assert completed(events) == ["Timer set for 10 minutes."]


def test_the_offline_refusal_is_synthesised_once_and_spoken_the_same_every_time() -> None:
    tts = CountingTts()
    with running(grammar_stt(), tts, speculate_ms=0) as (events, engine):
        for _ in range(2):
            say(engine, "tell me a joke about penguins")
            engine.end_turn()
        events.wait(events.done(2), 60, "both answers")
    first, second = (e for e in events.of(ev.ResponseDone) if isinstance(e, ev.ResponseDone))
    assert first.transcript == second.transcript == engine.unknown_request
    assert tts.asked == [engine.unknown_request]
    assert events.reply_audio(first.response_id).data == \
        events.reply_audio(second.response_id).data


def test_local_mode_decodes_in_the_pause_as_configured() -> None:
    base = HubConfig()
    parts = LocalParts(grammar_stt(), local_tts())
    for setting in (350, 0):
        stt = replace(base.local.stt, speculate_after_ms=setting)
        config = replace(base, mode="local", local=replace(base.local, stt=stt))
        engine = build_engine(config, local=parts)
        try:
            assert isinstance(engine, WithSkills) and isinstance(engine.inner, LocalEngine)
            assert engine.inner.speculate_after_ms == setting
        finally:
            engine.close()


def test_the_first_sentence_is_emitted_before_the_last_is_synthesised() -> None:
    tts = local_tts()
    flite_engine = tts.engine
    started: list[tuple[str, int]] = []
    synthesize = flite_engine.synthesize

    def recorded(text: str, voice: str) -> AudioChunk:
        started.append((text, time.monotonic_ns()))
        return synthesize(text, voice)

    flite_engine.synthesize = recorded  # type: ignore[method-assign]
    with running(grammar_stt(), tts, speculate_ms=0) as (events, engine):
        engine.announce("Your timer is done. It rang just now. Here is the third sentence.")
        events.wait(events.done(), 30, "the announcement")
    assert [text for text, _ in started] == ["Your timer is done.", "It rang just now.",
                                             "Here is the third sentence."]
    first_audio = next(e for e in events.items if isinstance(e, ev.AudioDelta))
    assert first_audio.received_at_ns < started[-1][1]
