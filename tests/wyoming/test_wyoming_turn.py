"""A real turn through the hub with speech-to-text and text-to-speech at Wyoming servers.

Flite speaks the question into the hub's capture device; wyoming-faster-whisper
(tiny.en) hears it, the chat stage (the fake OpenAI server) answers, wyoming-piper
(en_US-joe-medium) speaks the answer sentence by sentence, and it is played.
"""

from __future__ import annotations

from pathlib import Path

from drivers.volume import VolumeControl
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import loud_ms, played, running_hub
from tests.fakes.openai_script import ChatReply
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence
from tests.modes.hubmodes import ModeHub
from tests.modes.modetest import heard
from tests.wyoming.servers import WyomingServer, free_port


def test_a_turn_heard_by_whisper_and_spoken_by_piper_over_wyoming(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    whisper: WyomingServer, piper: WyomingServer,
) -> None:
    fake_openai.script.add_chat_reply(ChatReply(text="It is sunny today. Take a hat."))
    pcm = concat(silence(600), flite("what is the weather like"), silence(40000)).data
    run = ModeHub(tmp_path, fake_openai, f"""
mode: chained
chained:
  stt: {{provider: wyoming, base_url: "{whisper.uri}"}}
  tts: {{provider: wyoming, base_url: "{piper.uri}", voice: en_US-joe-medium}}
""")
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_played("It is sunny today. Take a hat.", 60)
        assert run.hub.wait_for_state("idle", 20)
    (transcript,) = run.heard()
    assert "weather" in transcript.lower()
    (request,) = [f.payload for f in fake_openai.frames_of("in", "/v1/chat/completions")]
    assert request["messages"][-1] == {"role": "user", "content": transcript}
    assert run.answers() == ["It is sunny today. Take a hat."]
    assert [r.path for r in fake_openai.requests if r.method == "POST"] == [
        "/v1/chat/completions"]  # speech went to the Wyoming servers only
    # piper's answer was played in full (its loud time at the device, scaled by the gain) ...
    sent = concat(*run.reply_audio("It is sunny today. Take a hat.").values())  # per sentence
    reply = played(alsa_files)
    gain = VolumeControl(round(run.config.audio.playback.volume * 100)).gain
    assert loud_ms(sent) > 800
    assert loud_ms(reply, 1000 * gain) >= 0.95 * loud_ms(sent)
    # ... and it is piper's voice saying the answer, understood by the offline recogniser
    said = heard(reply)
    assert "sunny" in said, f"played: {said!r}; as piper sent it: {heard(sent)!r}"
    stages = run.context.stages.snapshot()
    assert {n: (s["provider"], s["endpoint"], s["healthy"]) for n, s in stages.items()} == {
        "stt": ("wyoming", whisper.uri, True), "llm": ("openai", fake_openai.base_url, True),
        "tts": ("wyoming", piper.uri, True)}


def test_a_dead_speech_server_costs_only_its_stage_the_turn_is_heard_locally(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    dead = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    fake_openai.script.add_chat_reply(ChatReply(text="It is ten thirty in the morning."))
    pcm = concat(silence(600), flite("what time is it"), silence(12000)).data
    run = ModeHub(tmp_path, fake_openai, f"""
mode: chained
fallback: {{enabled: true}}
chained:
  stt: {{provider: wyoming, base_url: "{dead}"}}
  tts: {{provider: local}}
""")
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(1, 40)
        assert run.hub.wait_for_state("idle", 20)
    assert run.heard() == ["what time is it"]  # by the local recogniser
    (request,) = [f.payload for f in fake_openai.frames_of("in", "/v1/chat/completions")]
    assert request["messages"][-1] == {"role": "user", "content": "what time is it"}
    assert run.answers() == ["It is ten thirty in the morning."]  # still the chat model's
    stt = run.context.stages.snapshot()["stt"]
    assert (stt["provider"], stt["endpoint"], stt["healthy"]) == ("wyoming", dead, False)
    assert stt["local_answers"] == 1 and "127.0.0.1" in (stt["last_error"] or "")
    assert run.context.link.online is not False  # the provider as a whole stayed online
