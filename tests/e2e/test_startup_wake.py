"""READY comes before the wake word detector is loaded, and a wake word spoken while the
hub is still starting is heard anyway: the audio waits for the detector, nothing is lost."""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from actors.supervisor import SupervisionPolicy
from drivers.local.lazy_wakeword import Detector, LazyWakeWord
from drivers.local.wakeword import create_wake_word
from runtime.hub import Hub
from runtime.hub_parts import build_parts
from tests.alsa.alsa_harness import AlsaFiles, FifoFeeder
from tests.e2e.hubtest import PERIOD_MS, RATE, load, speech, wait_for, write_config
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence

CONFIG = """
    triggers:
      button: {enabled: false}
      wake_word: {enabled: true, engine: micro, model: okay_nabu}
    conversation: {follow_up_s: 0}
"""


def test_a_wake_word_spoken_as_the_hub_starts_is_heard_and_its_turn_whole(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_openai.script.add_reply(Reply(text="ok", audio=tone_pcm(400)))
    phrase = flite("okay nabu", "slt")
    question = speech("What is on my calendar?")
    pcm = concat(silence(100), phrase, silence(300), question, silence(8000)).data
    config = load(write_config(tmp_path, fake_openai, CONFIG))
    loading, release = threading.Event(), threading.Event()
    built: list[LazyWakeWord] = []

    def held_back() -> Detector:  # the real detector, its load held until the phrase is over
        loading.set()
        assert release.wait(30)
        return create_wake_word("micro", model="okay_nabu")

    def wake() -> LazyWakeWord:
        built.append(LazyWakeWord(held_back, name="micro okay_nabu"))
        return built[-1]

    hub = Hub(config, replace(build_parts(config), wake=wake))
    with FifoFeeder(alsa_files.infile, pcm, RATE, chunk_ms=PERIOD_MS) as feeder:
        hub.start()  # returns once READY=1 would be sent
        try:
            assert built and not built[0].loaded  # READY without the detector
            assert loading.wait(10), "the first audio did not start the detector's load"
            while not feeder.started_at_ns:
                time.sleep(0.005)
            phrase_over_s = (100 + (phrase.duration_ms or 0) + 300) / 1000
            # the whole phrase (and the question's start) is spoken before the detector exists
            time.sleep(max(0.0, feeder.started_at_ns / 1e9 + phrase_over_s - time.monotonic()))
            assert not built[0].loaded
            release.set()
            assert hub.wait_for_state("listening", 10), "the wake word was not heard"
            assert hub.wait_for_state("speaking", 15)
            assert hub.wait_for_state("idle", 10)
        finally:
            release.set()
            hub.stop()
        assert feeder.error is None, feeder.error
    assert any("IDLE -> LISTENING (wake word 'okay_nabu')" in r.getMessage()
               for r in caplog.records)
    assert fake_openai.types("in").count("input_audio_buffer.commit") == 1
    sent = sum(len(base64.b64decode(f.payload["audio"]))
               for f in fake_openai.frames_of("in", "realtime")
               if f.type == "input_audio_buffer.append")
    # the turn holds the whole question (at the provider's 24 kHz), not only its end
    assert sent / 2 / 24000 * 1000 >= (question.duration_ms or 0)


def test_a_wake_word_detector_that_cannot_load_is_reported_with_its_cause(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    config = load(write_config(tmp_path, fake_openai, CONFIG))
    missing = tmp_path / "gone" / "model.json"

    def wake() -> LazyWakeWord:  # a model that went missing after the config was checked
        return LazyWakeWord(lambda: create_wake_word("micro", model=str(missing)),
                            name=f"micro {missing}")

    policy = SupervisionPolicy(max_failures=3, initial_delay_s=0.01, max_delay_s=0.05)
    hub = Hub(config, replace(build_parts(config), wake=wake), policy=policy)
    with FifoFeeder(alsa_files.infile, bytes(RATE * 2 * 20), RATE, chunk_ms=PERIOD_MS):
        hub.start()  # READY: the detector loads with the first audio, after it
        try:
            wait_for(lambda: hub.fatal_reason is not None, 20, "the Supervisor to give up")
        finally:
            hub.stop()
    messages = [r.getMessage() for r in caplog.records]
    loads = [m for m in messages if "the wake word detector" in m and "could not be loaded" in m]
    assert loads and all(str(missing) in m for m in loads), messages  # names what is missing
    assert any(m.startswith("listener actor failed: WakeWordLoadError") for m in messages)
    assert any(r.levelno == logging.CRITICAL and "giving up" in r.getMessage()
               for r in caplog.records)
