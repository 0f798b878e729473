"""Realtime mode with the offline fallback, and the skills as realtime tools, through the hub."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from runtime.engine_factory import EngineContext
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import running_hub
from tests.fakes.openai_script import ChatReply, Reply, ToolCall
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence
from tests.modes.hubmodes import ModeHub

OFFLINE_ANSWER = re.compile(
    r"I'm offline, I can still tell the time and set timers\. It's \d{1,2}(:\d\d| o'clock) [AP]M\.")


def test_provider_lost_answers_offline_with_the_notice_then_goes_online_again(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.script.add_reply(Reply(text="Online answer one.", ms_per_char=30))
    fake_openai.script.add_reply(Reply(text="Online answer two.", ms_per_char=30))
    question = flite("what time is it")
    # 8 s after the first answer: the standby recogniser has loaded (on a busy machine its
    # load stalls the capture path for a moment and the start of a question is lost)
    pcm = concat(silence(600), question, silence(8000), question, silence(16000), question,
                 silence(8000)).data
    context = EngineContext()
    run = ModeHub(tmp_path, fake_openai, "fallback: {enabled: true}", context)
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(1, 20)
        assert run.hub.wait_for_state("idle", 10)
        assert context.link.online is True
        # the provider goes away: the link drops and three handshakes are refused (the
        # backoff's tries at ~1, 3 and 7 s), the fourth (~15 s, at most 18 s) is accepted
        fake_openai.script.reject_websocket(503, code="server_error", times=3)
        fake_openai.drop_realtime_connections()
        run.wait_answers(2, 25)
        assert context.link.online is False
        offline = context.link.snapshot()
        run.events.wait(lambda _: context.link.online, 30, "the link back online")
        run.wait_answers(3, 30)
        assert run.hub.wait_for_state("idle", 10)
        back_online = context.link.online
    assert run.answers()[0] == "Online answer one."
    assert OFFLINE_ANSWER.fullmatch(run.answers()[1]), (run.answers(), run.heard())
    assert run.answers()[2] == "Online answer two."
    assert run.heard()[1] == "what time is it"  # heard by the local recogniser
    assert fake_openai.types("in").count("response.create") == 2
    assert offline["offline_turns"] == 1 and "503" in (offline["last_error"] or "")
    assert back_online


def test_a_realtime_tool_call_sets_a_timer_on_the_hub_and_it_rings(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    call = ToolCall("set_timer", json.dumps({"duration_seconds": 4}))
    fake_openai.script.add_reply(Reply(text="", tool_call=call))
    fake_openai.script.add_reply(Reply(text="Your timer is set.", ms_per_char=30))
    pcm = concat(silence(600), flite("set a timer for four seconds"), silence(14000)).data
    run = ModeHub(tmp_path, fake_openai)
    with caplog.at_level(logging.INFO, logger="actors.conversation"), \
            running_hub(run.hub, alsa_files, pcm):
        run.events.wait(lambda _: "Your 4 seconds timer is done." in run.answers(), 25,
                        "the timer ringing")
        run.wait_played("Your 4 seconds timer is done.", 15)
        assert run.hub.wait_for_state("idle", 10)
    assert run.answers() == ["Your timer is set.", "Your 4 seconds timer is done."]
    # the ring is spoken like an answer (a tap would stop it), then the hub rests
    states = [r.getMessage() for r in caplog.records if r.getMessage().startswith("state ")]
    assert states[-2:] == ["state IDLE -> SPEAKING (announcement)",
                           "state SPEAKING -> IDLE (announcement played)"], states
    update = next(f.payload for f in fake_openai.frames_of("in", "realtime")
                  if f.type == "session.update")
    assert "set_timer" in [t["name"] for t in update["session"]["tools"]]
    sent = [f.payload for f in fake_openai.frames_of("in", "realtime")]
    outputs = [p for p in sent if p.get("type") == "conversation.item.create"
               and p["item"]["type"] == "function_call_output"]
    assert len(outputs) == 1
    assert outputs[0]["item"]["call_id"] == call.call_id
    assert outputs[0]["item"]["output"] == "Timer set for 4 seconds."
    after = [p["type"] for p in sent[sent.index(outputs[0]) + 1:]]
    assert after == ["response.create"]  # exactly one: the model answers with the result
    assert "error" not in fake_openai.types("out")  # no conversation_already_has_active_response


def test_a_chained_turn_the_provider_fails_is_answered_locally_and_the_next_goes_online(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.script.transcript = "what time is it"
    fake_openai.script.add_chat_reply(ChatReply(text="Online answer one."))
    fake_openai.script.add_chat_reply(ChatReply(text="Online answer two."))
    question = flite("what time is it")
    pcm = concat(silence(600), question, silence(4000), question, silence(9000), question,
                 silence(6000)).data
    context = EngineContext()
    run = ModeHub(tmp_path, fake_openai, """
mode: chained
chained: {stt: {mode: batch}}
openai: {max_retries: 0}
fallback: {enabled: true}
""", context)
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(1, 20)
        fake_openai.script.fail_http("/v1/audio/transcriptions", 500, code="server_error",
                                     message="The server had an error")
        run.wait_answers(2, 25)
        assert context.link.online is False
        run.wait_answers(3, 25)
        assert run.hub.wait_for_state("idle", 10)
        back_online = context.link.online
    answers = run.answers()
    assert answers[0] == "Online answer one."
    assert OFFLINE_ANSWER.fullmatch(answers[1]), answers
    assert answers[2] == "Online answer two."
    assert back_online
    transcriptions = [r for r in fake_openai.requests if r.path.endswith("/transcriptions")]
    assert len(transcriptions) == 3  # the failed turn was tried online first


def test_with_server_turn_detection_local_mode_finds_the_turns_itself(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.script.add_reply(Reply(text="Online answer one.", ms_per_char=30))
    question = flite("what time is it")
    pcm = concat(silence(600), question, silence(4000), question, silence(8000)).data
    run = ModeHub(tmp_path, fake_openai, """
openai: {realtime: {turn_detection: server_vad}}
fallback: {enabled: true}
""")
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(1, 20)
        assert run.hub.wait_for_state("idle", 10)
        fake_openai.script.reject_websocket(401, code="invalid_api_key", times=1000)
        fake_openai.drop_realtime_connections()
        run.wait_answers(2, 25)
        assert run.hub.wait_for_state("idle", 10)
    assert "input_audio_buffer.commit" not in fake_openai.types("in")  # the server's VAD
    assert OFFLINE_ANSWER.fullmatch(run.answers()[1]), (run.answers(), run.heard())
    kinds = [type(e).__name__ for e in run.events.items]
    after_first = kinds[kinds.index("ResponseDone") + 1:]
    # the fallback stood in for the provider's VAD: speech started, stopped, then the answer
    started = after_first.index("SpeechStarted")
    stopped = after_first.index("SpeechStopped", started)
    heard_at = after_first.index("InputTranscript", stopped)
    assert heard_at < after_first.index("ResponseDone", heard_at)
    assert run.heard()[-1] == "what time is it"
