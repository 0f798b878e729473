"""Turn-taking that loses nothing, through the real hub (real ALSA file plugin fed in real
time, real VAD, flite and LibriVox speech): pauses, barge-in, monologues, the room.

Realtime mode runs against the fake provider with the hub's own VAD (``turn_detection:
none``), so every append, commit, create and cancel the hub sends can be checked; local
mode runs the real offline engines.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest

from runtime.hub import Hub
from speech_api import AudioChunk
from speech_api import events as ev
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import Transitions, load, loud_ms, played, running_hub, write_config
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, librivox, silence, speech_span
from tests.modes.hubmodes import ALWAYS_LISTENING, ModeHub

PROVIDER_RATE = 24000  # the hub sends the provider 24 kHz PCM16


def spoken(text: str) -> AudioChunk:
    """``text`` by flite without the silence flite puts around it (pauses are exact)."""
    clip = flite(text)
    start_s, end_s = speech_span(clip, floor_db=40)
    bytes_per_s = clip.sample_rate * 2
    return AudioChunk.pcm(clip.data[int(start_s * bytes_per_s) // 2 * 2:
                                    int(end_s * bytes_per_s) // 2 * 2], clip.sample_rate)


def appended_ms(server: FakeOpenAIServer) -> list[float]:
    """Milliseconds of audio appended before each commit (and after the last one)."""
    turns = [0.0]
    for frame in server.frames_of("in", "realtime"):
        if frame.type == "input_audio_buffer.append":
            turns[-1] += len(base64.b64decode(frame.payload["audio"])) / 2 / PROVIDER_RATE * 1000
        elif frame.type == "input_audio_buffer.commit":
            turns.append(0.0)
    return turns


def provider_errors(server: FakeOpenAIServer) -> list[str]:
    return [str(f.payload["error"].get("code")) for f in server.frames_of("out", "realtime")
            if f.type == "error"]


def completed(server: FakeOpenAIServer) -> int:
    return sum(1 for f in server.frames_of("out", "realtime") if f.type == "response.done"
               and f.payload["response"]["status"] == "completed")


def test_a_pause_longer_than_the_endpoint_mid_sentence_gets_one_answer_realtime(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    # the answer to the first half would be long; the one to the whole sentence short
    fake_openai.script.add_reply(Reply(text="half", audio=tone_pcm(4000), pace_s=0.05))
    fake_openai.script.add_reply(Reply(text="whole", audio=tone_pcm(700)))
    pcm = concat(silence(600), spoken("What will the weather be like"), silence(900),
                 spoken("in Paris tomorrow afternoon?"), silence(9000)).data
    hub = Hub(load(write_config(tmp_path, fake_openai, ALWAYS_LISTENING)))
    with running_hub(hub, alsa_files, pcm):
        assert fake_openai.wait_until(lambda: completed(fake_openai) == 1, 20), \
            f"no answer; sent {fake_openai.types('in')}"
        assert hub.wait_for_state("idle", 10)
    sent = fake_openai.types("in")
    assert sent.count("input_audio_buffer.commit") == 2
    assert sent.count("response.create") == 2
    first, second = (i for i, t in enumerate(sent) if t == "input_audio_buffer.commit")
    # the first answer was cancelled before the rest of the sentence was committed, and the
    # second commit asks for one answer to both user items
    assert "response.cancel" in sent[first:second]
    assert "input_audio_buffer.append" in sent[first:second]
    assert "conversation_already_has_active_response" not in provider_errors(fake_openai)
    assert completed(fake_openai) == 1
    assert 600 <= loud_ms(played(alsa_files)) <= 700 + 800  # at most a moment of the first
    assert any("the user went on speaking" in r.getMessage() for r in caplog.records)
    assert Transitions(caplog.records).states()[-1] == "IDLE"


def test_a_pause_longer_than_the_endpoint_mid_sentence_gets_one_answer_local(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    pcm = concat(silence(600), spoken("set a timer for"), silence(900), spoken("ten minutes"),
                 silence(9000)).data
    run = ModeHub(tmp_path, fake_openai, "mode: local\n")
    with running_hub(run.hub, alsa_files, pcm):
        run.events.wait(lambda items: any(isinstance(e, ev.ResponseDone)
                                          and e.status == "completed" for e in items),
                        60, "an answer")  # a wait, not a speed check (two decodes, loaded CI)
        assert run.hub.wait_for_state("idle", 10)
    done = [e for e in run.events.of(ev.ResponseDone) if isinstance(e, ev.ResponseDone)]
    answered = [e.transcript for e in done if e.status == "completed"]
    assert len(answered) == 1, done
    assert "10 minutes" in answered[0] or "ten minutes" in answered[0], answered
    assert "ten minutes" in run.heard()[-1]  # the whole turn was heard again


def test_speech_starting_as_the_answer_starts_interrupts_it(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="long", audio=tone_pcm(5000), pace_s=0.1))
    fake_openai.script.add_reply(Reply(text="short", audio=tone_pcm(500)))
    first = spoken("What is the capital of France?")
    first_s = (first.duration_ms or 0) / 1000
    # the second question starts 0.7 s (the endpoint) + 0.15 s after the first ends: about
    # 0.1 s into the fake provider's answer, or before it when this machine is slow
    pcm = concat(silence(600), first, silence(850), spoken("No wait, tell me about Spain."),
                 silence(9000)).data
    hub = Hub(load(write_config(tmp_path, fake_openai, ALWAYS_LISTENING)))
    with running_hub(hub, alsa_files, pcm):
        assert fake_openai.wait_until(lambda: completed(fake_openai) == 1, 20 + first_s)
        assert hub.wait_for_state("idle", 10)
    sent = fake_openai.types("in")
    assert sent.count("response.create") == 2
    assert "response.cancel" in sent
    assert "conversation_already_has_active_response" not in provider_errors(fake_openai)
    # the long answer stopped at once: what played is the short one and a moment of it
    assert 400 <= loud_ms(played(alsa_files)) <= 500 + 1000
    assert Transitions(caplog.records).states()[-1] == "IDLE"
    assert any("the user went on speaking" in r.getMessage() for r in caplog.records)


def test_a_monologue_becomes_consecutive_turns_with_nothing_lost(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    sentences = [flite(text) for text in (
        "I want to tell you about my day, which started very early this morning.",
        "First I walked the dog around the park, and the weather was lovely.",
        "Then I took the train into town and met an old friend for coffee.",
        "We talked about our children, our jobs, and the holidays we want to take.",
    )]
    parts: list[AudioChunk] = []
    while sum((p.duration_ms or 0) for p in parts) < 60_000:
        parts += [sentences[len(parts) // 2 % len(sentences)], silence(300)]
    monologue = concat(*parts[:-1])
    spoken_ms = monologue.duration_ms or 0
    for _ in range(4):
        fake_openai.script.add_reply(Reply(text="ok", audio=tone_pcm(600)))
    config = ALWAYS_LISTENING.replace("{follow_up_s: 0}", "{follow_up_s: 0, max_utterance_s: 20}")
    hub = Hub(load(write_config(tmp_path, fake_openai, config)))
    pcm = concat(silence(600), monologue, silence(8000)).data
    with running_hub(hub, alsa_files, pcm):
        # a split keeps the hub listening: it thinks only once the user stopped
        assert hub.wait_for_state("thinking", spoken_ms / 1000 + 10), \
            f"no end of the monologue; sent {set(fake_openai.types('in'))}"
        assert hub.wait_for_state("idle", 15)
    turns = appended_ms(fake_openai)
    assert turns[-1] == 0  # nothing sent after the last commit
    committed = turns[:-1]
    assert len(committed) >= 3, committed  # 20 s at most each
    # every turn but the last was cut at 20 s of speech, and together they hold all of it
    # (plus the pre-roll before it and the endpoint's silence after it)
    assert all(ms <= 20_000 + 1000 for ms in committed), committed
    assert sum(committed) >= spoken_ms, (sum(committed), spoken_ms)
    assert sum(committed) <= spoken_ms + 2000, (sum(committed), spoken_ms)
    assert "conversation_already_has_active_response" not in provider_errors(fake_openai)
    assert loud_ms(played(alsa_files)) <= 600 + 400  # one answer, after the user stopped
    assert Transitions(caplog.records).states() == ["IDLE", "LISTENING", "THINKING", "SPEAKING",
                                                    "IDLE"]


def test_room_speech_after_one_wake_word_ends_in_idle(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A wake word, then a minute of other people reading aloud (LibriVox): the hub
    answers the turn the wake word opened, and no more than one more, then rests."""
    caplog.set_level(logging.INFO)
    readings = [audio for _name, audio, _text in librivox()]
    room: list[AudioChunk] = []
    while sum((r.duration_ms or 0) for r in room) < 60_000:
        room += [readings[len(room) // 2 % len(readings)], silence(400)]
    pcm = concat(silence(800), flite("okay nabu", "slt"), silence(600), *room,
                 silence(3000)).data
    run = ModeHub(tmp_path, fake_openai, """
mode: local
triggers: {always_listening: false, wake_word: {enabled: true, engine: micro, model: okay_nabu}}
conversation: {follow_up_s: 4, barge_in: true}
""")
    with running_hub(run.hub, alsa_files, pcm) as feed:
        assert run.hub.wait_for_state("listening", 10), "the wake word was not heard"
        feed.join(120)  # the whole reading has been heard
        assert run.hub.wait_for_state("idle", 30)
    done = [e for e in run.events.of(ev.ResponseDone) if isinstance(e, ev.ResponseDone)]
    assert sum(e.status == "completed" for e in done) <= 2, [e.transcript for e in done]
    starts = [r.getMessage() for r in caplog.records if r.name == "actors.conversation"
              and "-> LISTENING" in r.getMessage()]
    assert len(starts) <= 4, starts
    assert Transitions(caplog.records).states()[-1] == "IDLE"


def test_a_long_decode_drops_no_captured_chunk(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Read speech decoded by pocketsphinx (which keeps Python's interpreter lock for a
    whole decode: in-process, seconds without capture) while the microphone streams on."""
    caplog.set_level(logging.INFO)
    reading = concat(*(clip for _name, clip, _text in librivox()))  # 25 s, one turn
    pcm = concat(silence(600), reading, silence(60_000)).data  # the feed stops with the test
    run = ModeHub(tmp_path, fake_openai, "mode: local\n")
    with running_hub(run.hub, alsa_files, pcm):
        run.wait_answers(1, 120)
        assert run.hub.wait_for_state("idle", 20)
    behind = [r.getMessage() for r in caplog.records if "fell behind" in r.getMessage()]
    assert behind == []
    assert len(run.heard()[-1].split()) > 20  # heard as one turn, and answered
