"""Near-field screening through the whole hub in realtime mode (real ALSA file plugin fed in
real time, real VAD and wake word, the fake OpenAI server): after one wake word the wearer's
loud follow-up is answered, and quiet room speech in the next follow-up window is not."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from runtime.hub import Hub
from speech_api import AudioChunk
from tests.alsa.alsa_harness import AlsaFiles, FifoFeeder
from tests.e2e.hubtest import (
    Transitions,
    load,
    loud_ms,
    played,
    running_hub,
    wait_for,
    write_config,
)
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, librivox, pink_noise, silence

RATE = 16000
ROOM_NOISE_DBFS = -58.0  # a quiet room's own noise under everything the microphone hears
ROOM_SPEECH_DB = -24.0  # someone reading aloud across the room, against the wearer's own voice


def in_the_room(*parts: AudioChunk, gain_db: float = 0.0, seed: int = 1) -> bytes:
    """``parts`` (at ``gain_db``) over the room's noise, as the capture FIFO's PCM."""
    x = concat(*parts).to_numpy()[:, 0].astype(np.float64) * 10 ** (gain_db / 20)
    noise = pink_noise(len(x), np.random.default_rng(seed))
    x += noise * 32768 * 10 ** (ROOM_NOISE_DBFS / 20) / np.sqrt(np.mean(noise**2))
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def follow_up_windows(caplog: pytest.LogCaptureFixture) -> int:
    return sum("follow-up window" in r.getMessage() for r in caplog.records
               if r.name == "actors.conversation")


def commits(server: FakeOpenAIServer) -> int:
    return server.types("in").count("input_audio_buffer.commit")


@pytest.mark.parametrize("snr_db", [22, 0], ids=["screening", "screening-off"])
def test_room_speech_in_the_follow_up_window_is_not_a_turn_the_wearer_s_is(
    snr_db: int, tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    for _ in range(3):
        fake_openai.script.add_reply(Reply(text="answer", audio=tone_pcm(700)))
    start = in_the_room(silence(800), flite("okay nabu", "slt"),
                        flite("what is the weather like tomorrow", "rms"), silence(8000))
    wearer = in_the_room(silence(300), flite("and the day after that", "rms"), silence(1500),
                         seed=2)
    reading = librivox()[0][1]  # 7 s of a person reading aloud
    room = in_the_room(silence(300), reading, silence(2000), gain_db=ROOM_SPEECH_DB, seed=3)
    hub = Hub(load(write_config(tmp_path, fake_openai, f"""
triggers: {{always_listening: false, wake_word: {{enabled: true, engine: micro,
                                                   model: okay_nabu}}}}
conversation: {{follow_up_s: 4, near_field_snr_db: {snr_db}}}
""")))
    feed: FifoFeeder
    with running_hub(hub, alsa_files, start) as feed:
        assert hub.wait_for_state("listening", 10), "the wake word was not heard"
        wait_for(lambda: follow_up_windows(caplog) == 1, 20, "the first answer")
        assert commits(fake_openai) == 1, fake_openai.types("in")
        feed.say(wearer)  # the wearer goes on, without a trigger
        wait_for(lambda: follow_up_windows(caplog) == 2, 20, "the answer to the follow-up")
        assert commits(fake_openai) == 2, fake_openai.types("in")
        feed.say(room)  # the room talks into the next window
        assert fake_openai.wait_until(lambda: commits(fake_openai) == 3, 12) == (snr_db == 0)
        assert hub.wait_for_state("idle", 20)
    ignored = [r.getMessage() for r in caplog.records if "not the wearer, ignored" in
               r.getMessage()]
    if snr_db:
        assert commits(fake_openai) == 2
        assert len(ignored) == 1, ignored  # logged once, with the level and the floor
        assert "dB over the floor" in ignored[0]
        assert "input_audio_buffer.clear" in fake_openai.types("in")  # the room's audio dropped
        assert Transitions(caplog.records).states()[-2:] == ["LISTENING", "IDLE"]
    else:
        assert ignored == []


def test_room_speech_does_not_interrupt_the_answer(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Someone reads aloud across the room while the answer plays: the answer plays to its
    end, and their speech running on into the follow-up window is not a turn either."""
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="long", audio=tone_pcm(4000), pace_s=0.1))
    start = in_the_room(silence(800), flite("okay nabu", "slt"),
                        flite("tell me about the weather", "rms"), silence(8000))
    room = in_the_room(silence(200), librivox()[0][1], silence(2000), gain_db=ROOM_SPEECH_DB,
                       seed=3)
    hub = Hub(load(write_config(tmp_path, fake_openai, """
triggers: {always_listening: false, wake_word: {enabled: true, engine: micro, model: okay_nabu}}
conversation: {follow_up_s: 4, barge_in: true, barge_in_min_speech_ms: 250,
               near_field_snr_db: 22}
""")))
    with running_hub(hub, alsa_files, start) as feed:
        assert hub.wait_for_state("speaking", 20), f"no answer (state {hub.state})"
        feed.say(room)
        wait_for(lambda: follow_up_windows(caplog) == 1, 20, "the answer played to its end")
        assert hub.wait_for_state("idle", 20)
    sent = fake_openai.types("in")
    assert "response.cancel" not in sent and "conversation.item.truncate" not in sent, sent
    assert sent.count("input_audio_buffer.commit") == 1, sent
    assert loud_ms(played(alsa_files)) >= 3800  # all of the 4 s answer was heard
    said = [r.getMessage() for r in caplog.records if "not the wearer" in r.getMessage()]
    assert any("no barge-in" in s for s in said), said
    assert Transitions(caplog.records).states()[-1] == "IDLE"
