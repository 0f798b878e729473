"""Local mode's engine on real engines: pocketsphinx (grammar) -> skills -> flite."""

from __future__ import annotations

import json

from actors.engines.local import LocalEngine
from speech_api import AudioChunk
from speech_api import events as ev
from tests.modes.modetest import (
    Events,
    heard,
    local_engine,
    skills_at_fixed_time,
    utterance,
)


def ask(*questions: str) -> tuple[Events, LocalEngine]:
    """Each question (empty: a turn with no audio) asked in turn; waits for every answer."""
    events = Events()
    with skills_at_fixed_time() as skills:
        engine = local_engine(skills)
        engine.start(events)
        try:
            for question in questions:
                for chunk in utterance(question) if question else ():
                    engine.send_audio(chunk)
                engine.end_turn()
            events.wait(events.done(len(questions)), 30, "the answers")
        finally:
            engine.close()
    return events, engine


def test_a_spoken_question_is_answered_with_the_events_of_an_online_provider() -> None:
    events, engine = ask("what time is it")
    kinds = [type(e) for e in events.items]
    assert kinds[0] is ev.SessionReady
    assert kinds.index(ev.InputTranscript) < kinds.index(ev.ResponseStarted) \
        < kinds.index(ev.AudioDelta) < kinds.index(ev.ResponseDone)
    transcript = events.of(ev.InputTranscript)[0]
    assert isinstance(transcript, ev.InputTranscript)
    assert transcript.is_final and transcript.text == "what time is it"
    done = events.of(ev.ResponseDone)[0]
    assert isinstance(done, ev.ResponseDone)
    assert done.status == "completed" and done.transcript == "It's 10:30 AM."
    reply = events.reply_audio(done.response_id)
    assert "ten thirty" in heard(reply)
    assert engine.last_answer == "It's 10:30 AM."


def test_an_unknown_request_gets_the_offline_apology_and_silence_is_not_a_question() -> None:
    events, _ = ask("tell me a joke about penguins", "")
    first, second = (e for e in events.of(ev.ResponseDone) if isinstance(e, ev.ResponseDone))
    assert first.transcript.startswith("Sorry, offline I can only tell the time")
    assert second.transcript == "Sorry, I did not catch that."


def test_a_timer_set_as_a_tool_rings_as_an_announcement_led_by_its_earcon() -> None:
    events = Events()
    with skills_at_fixed_time() as skills:
        engine = local_engine(skills, render_earcon=_beep)
        skills.context.on_timer_ring = lambda ring: engine.announce(ring.message, ring.earcon)
        engine.start(events)
        try:
            result = skills.call_tool("set_timer", json.dumps({"duration_seconds": 1}))
            assert result == "Timer set for 1 second."
            events.wait(events.done(), 15, "the timer's ring")
        finally:
            engine.close()
    done = events.of(ev.ResponseDone)[0]
    assert isinstance(done, ev.ResponseDone) and done.transcript == "Your 1 second timer is done."
    first_audio = events.of(ev.AudioDelta)[0]
    assert isinstance(first_audio, ev.AudioDelta)
    assert first_audio.pcm == _beep("TIMER").data  # the earcon leads, at the voice's rate


def test_barge_in_stops_the_answer_being_spoken() -> None:
    events = Events()
    with skills_at_fixed_time() as skills:
        engine = local_engine(skills)
        engine.start(events)
        try:
            engine.announce("This is a long announcement. It has several sentences. "
                            "Each of them takes a while to say. Nobody wants to hear it all.")
            events.wait(lambda items: any(isinstance(e, ev.AudioDelta) for e in items), 15,
                        "the first audio")
            engine.interrupt(True, ())
            events.wait(events.done(), 15, "the cancelled answer's end")
        finally:
            engine.close()
    done = events.of(ev.ResponseDone)[0]
    assert isinstance(done, ev.ResponseDone) and done.status == "cancelled"
    spoken_ms = sum(len(e.pcm) / 32 for e in events.of(ev.AudioDelta) if isinstance(
        e, ev.AudioDelta))
    assert spoken_ms < 4000, "the whole announcement was still emitted"


def _beep(kind: str) -> AudioChunk:
    assert kind == "TIMER"
    return AudioChunk.pcm(b"\x10\x00" * 1600, 16000)


def test_a_failing_skill_is_answered_with_an_apology_not_silence() -> None:
    events, _ = ask("turn up the volume")  # this hub's skill context has no volume control
    done = events.of(ev.ResponseDone)[0]
    assert isinstance(done, ev.ResponseDone)
    assert done.transcript == "Sorry, that did not work: this hub has no volume control"
