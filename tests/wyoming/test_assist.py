"""Assist mode: the hub as Home Assistant's Wyoming satellite, driven by a stand-in for HA
that uses the real Wyoming speech servers as its pipeline's STT and TTS."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.volume import VolumeControl
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import loud_ms, played, running_hub
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence
from tests.modes.hubmodes import ModeHub
from tests.modes.modetest import heard
from tests.wyoming.ha_standin import HomeAssistantStandIn
from tests.wyoming.servers import WyomingServer, free_port


@pytest.fixture
def satellite_uri() -> str:
    return f"tcp://127.0.0.1:{free_port()}"


@pytest.fixture
def home_assistant(satellite_uri: str, whisper: WyomingServer,
                   piper: WyomingServer) -> Iterator[HomeAssistantStandIn]:
    with HomeAssistantStandIn(satellite_uri, whisper.uri, piper.uri) as ha:
        yield ha
    assert ha.violations == []


def assist_hub(tmp_path: Path, server: FakeOpenAIServer, uri: str) -> ModeHub:
    return ModeHub(tmp_path, server, f"""
mode: assist
assist: {{uri: "{uri}", name: test satellite, area: kitchen}}
fallback: {{enabled: true}}
conversation: {{follow_up_s: 0, think_timeout_s: 90}}  # HA's whisper + piper, on a loaded CI box
""")


def test_a_turn_through_home_assistants_pipeline_and_its_timer_rings_here(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    home_assistant: HomeAssistantStandIn, satellite_uri: str,
) -> None:
    ha = home_assistant
    ha.answers.append("It is sunny in the kitchen.")
    pcm = concat(silence(600), flite("what is the weather like"), silence(40000)).data
    run = assist_hub(tmp_path, fake_openai, satellite_uri)
    with running_hub(run.hub, alsa_files, pcm):
        ha.wait(lambda: ha.info is not None, 20, "the satellite's info")
        run.wait_answers(1, 60)
        ha.wait(lambda: ha.runs and ha.runs[0].played_at is not None, 30, "played")
        ha.send_timer("t1", "pasta", 5, finished=True)
        run.wait_played("Your pasta timer is done.", 20)  # the ring, heard in full
        assert run.hub.wait_for_state("idle", 20)
    assert ha.info is not None and ha.info.satellite is not None
    assert (ha.info.satellite.name, ha.info.satellite.area) == ("test satellite", "kitchen")
    (pipeline,) = ha.runs
    assert pipeline.transcript is not None and "weather" in pipeline.transcript.lower()
    assert run.heard() == [pipeline.transcript]
    assert run.answers() == ["It is sunny in the kitchen.", "Your pasta timer is done."]
    assert 1 < sum(c.duration_ms or 0 for c in pipeline.audio) / 1000 < 10  # the turn streamed
    assert ha.received[:2] == ["info", "run-pipeline"] or ha.received[0] == "info"
    after = ha.received[ha.received.index("run-pipeline"):]
    assert after[1] == "audio-chunk" and "audio-stop" in after and "played" in after
    # piper's answer and the ring (earcon and local voice) were both played in full
    sent = [audio for answer in run.answers() for audio in run.reply_audio(answer).values()]
    out = played(alsa_files)
    gain = VolumeControl(round(run.config.audio.playback.volume * 100)).gain
    assert len(sent) == 2
    assert loud_ms(out, 1000 * gain) >= 0.95 * sum(loud_ms(audio) for audio in sent)
    assert "kitchen" in heard(out)
    assert pipeline.played_at is not None and pipeline.answer_sent_at is not None
    assert fake_openai.requests == []  # assist mode needs no OpenAI at all


def test_home_assistant_gone_the_hub_answers_itself_and_back_the_turns_go_to_it_again(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    home_assistant: HomeAssistantStandIn, satellite_uri: str,
) -> None:
    ha = home_assistant
    ha.answers.append("Welcome back.")
    pcm = concat(silence(5000), flite("what time is it"), silence(20000),
                 flite("are you there"), silence(40000)).data
    run = assist_hub(tmp_path, fake_openai, satellite_uri)
    with running_hub(run.hub, alsa_files, pcm):
        ha.wait(lambda: ha.info is not None, 20, "the satellite's info")
        ha.leave()  # HA goes away before the first question (at 5 s)
        run.wait_answers(1, 40)
        offline_answer = run.answers()[0]
        assert run.context.link.online is False
        ha.come_back()  # and is back before the second one (at ~26 s)
        ha.wait(lambda: ha.connections >= 2, 20, "HA reconnecting")
        run.wait_answers(2, 60)
        assert run.hub.wait_for_state("idle", 20)
    assert offline_answer.startswith("I'm offline") and "It's" in offline_answer
    (pipeline,) = ha.runs  # only the second question reached HA
    assert pipeline.transcript is not None and "there" in pipeline.transcript.lower()
    assert run.answers()[1] == "Welcome back."
    assert run.context.link.online is True


def test_barge_in_stops_home_assistants_answer_and_tells_it_played(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    home_assistant: HomeAssistantStandIn, satellite_uri: str,
) -> None:
    ha = home_assistant
    story = " ".join(["Once upon a time there was a kitchen with a very long story to tell."] * 5)
    ha.answers += [story, "Okay."]
    # the question at 0.6 s; "stop please" two seconds into the answer (about 20 s of speech)
    pcm = concat(silence(600), flite("tell me a story"), silence(90000)).data
    run = assist_hub(tmp_path, fake_openai, satellite_uri)
    with running_hub(run.hub, alsa_files, pcm) as feeder:
        ha.wait(lambda: ha.info is not None, 20, "the satellite's info")
        assert run.hub.wait_for_state("speaking", 60), "the story was not played"
        time.sleep(2.0)
        feeder.say(flite("stop please").data)
        run.wait_answers(2, 80)
        assert run.hub.wait_for_state("idle", 20)
    # (HA streams its answer faster than it plays: it may be received in full, "completed",
    # before the barge-in; the Session then stops the playback and the engine says "played")
    assert run.answers()[1] == "Okay."
    first, second = ha.runs
    assert first.answer_sent_at is not None and first.played_at is not None
    # "played" came when the user cut in, before the whole story could have been heard (how
    # much was cut is checked on the device below; a margin here would be a timing bet)
    assert first.played_at < first.answer_sent_at + first.answer_s
    assert second.transcript is not None and "stop" in second.transcript.lower()
    assert loud_ms(played(alsa_files)) < first.answer_s * 1000 - 3000
