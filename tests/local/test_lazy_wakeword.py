"""The wake word detector loaded after READY: audio heard while it loads is not lost,
and a load that fails says why."""

from __future__ import annotations

import logging
import threading

import pytest

from drivers.local.lazy_wakeword import LazyWakeWord, WakeWordLoadError
from drivers.local.wakeword import MicroWakeWordDetector, WakeDetection, create_wake_word
from runtime.config import HubConfig
from runtime.hub_parts import wake_word
from speech_api import AudioChunk
from tests.local.speech import concat, flite, silence

WAIT_S = 30.0


def _phrase_at_start() -> AudioChunk:
    return concat(silence(100), flite("okay nabu", "slt"), silence(700))


def test_a_wake_word_heard_while_the_detector_loads_is_detected() -> None:
    audio = _phrase_at_start()
    direct = create_wake_word("micro", model="okay_nabu")
    expected = [d for c in audio.split(20) if (d := direct.process(c)) is not None]
    assert len(expected) == 1

    loading, release = threading.Event(), threading.Event()

    def make() -> object:
        loading.set()
        assert release.wait(WAIT_S)
        return create_wake_word("micro", model="okay_nabu")

    lazy = LazyWakeWord(make, name="micro okay_nabu")  # type: ignore[arg-type]
    assert not lazy.loaded  # building it loads nothing (the hub is READY before the load)
    found: list[WakeDetection] = []
    done = threading.Event()

    def listener() -> None:  # the Listener's thread: every chunk, in order
        found.extend(d for c in audio.split(20) if (d := lazy.process(c)) is not None)
        done.set()

    thread = threading.Thread(target=listener)
    thread.start()
    assert loading.wait(WAIT_S), "the first chunk did not start the load"
    assert not lazy.loaded and not done.is_set()  # the audio waits for the detector
    release.set()
    thread.join(WAIT_S)
    assert done.is_set() and lazy.loaded
    assert [(d.name, d.at_ns) for d in found] == [(d.name, d.at_ns) for d in expected]
    lazy.close()


def test_a_load_that_fails_is_reported_with_its_cause(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    lazy = LazyWakeWord(lambda: create_wake_word("micro", model="/nowhere/model.json"),
                        name="micro /nowhere/model.json")
    with pytest.raises(WakeWordLoadError) as raised:
        lazy.process(silence(20))
    assert "(micro /nowhere/model.json) could not be loaded" in str(raised.value)
    assert isinstance(raised.value.__cause__, FileNotFoundError)
    assert "/nowhere/model.json" in str(raised.value.__cause__)
    assert any("could not be loaded" in r.getMessage() and r.levelno == logging.ERROR
               for r in caplog.records)
    with pytest.raises(WakeWordLoadError):  # every later chunk too: the Listener restarts
        lazy.process(silence(20))


def test_a_load_that_never_ends_times_out() -> None:
    release = threading.Event()
    lazy = LazyWakeWord(lambda: (release.wait(WAIT_S), create_wake_word("micro"))[1],
                        name="micro okay_nabu", load_timeout_s=0.05)
    with pytest.raises(WakeWordLoadError, match=r"did not load within 0\.05 s"):
        lazy.process(silence(20))
    release.set()
    lazy.close()


def test_the_hub_builds_the_local_wake_word_unloaded() -> None:
    config = HubConfig()
    assert config.triggers.wake_word.enabled and config.triggers.wake_word.engine == "micro"
    detector = wake_word(config)
    assert isinstance(detector, LazyWakeWord)
    assert not detector.loaded
    assert detector.process(silence(20)) is None  # loads on the first chunk, then hears it
    assert detector.loaded
    detector.close()


def test_a_stop_during_the_load_does_not_wait_for_it_and_closes_what_it_loads() -> None:
    release, closed = threading.Event(), threading.Event()

    class Closing(MicroWakeWordDetector):
        def close(self) -> None:
            super().close()
            closed.set()

    lazy = LazyWakeWord(lambda: (release.wait(WAIT_S), Closing("okay_nabu"))[1],
                        name="micro okay_nabu")
    lazy.preload()
    lazy.close()  # returns after CLOSE_TIMEOUT_S at most, the load still held back
    assert not closed.is_set()
    release.set()
    assert closed.wait(WAIT_S)  # the detector loaded after the stop is closed by the loader


def test_the_loaded_detectors_alert_reaches_the_listener() -> None:
    class Stirred(MicroWakeWordDetector):
        @property
        def alert(self) -> bool:
            return True  # its score is up: the Listener stops batching

    lazy = LazyWakeWord(Stirred, name="stirred")
    assert lazy.alert is False  # nothing loaded, nothing heard
    lazy.detector()
    assert lazy.alert is True
    lazy.close()
