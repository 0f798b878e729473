"""Wake word detectors on flite-made phrases (several voices) and on human speech without them."""

from __future__ import annotations

import pytest

from drivers.local.wakeword import (
    KeyphraseDetector,
    MicroWakeWordDetector,
    OpenWakeWordDetector,
    WakeDetection,
    WakeWordDetector,
    create_wake_word,
    keyphrase_threshold,
    micro_cutoff,
)
from speech_api import AudioChunk
from tests.local.speech import FLITE_VOICES, cards, concat, flite, librivox, silence

WAKE_PHRASES = {"okay_nabu": "okay nabu", "hey_jarvis": "hey jarvis", "alexa": "alexa"}
OTHER_SPEECH = ["what time is it", "set a timer for ten minutes", "the weather is lovely today"]


def _detections(detector: WakeWordDetector, audio: AudioChunk) -> list[WakeDetection]:
    detector.reset()
    return [d for chunk in audio.split(20) if (d := detector.process(chunk)) is not None]


def _utterance(text: str, voice: str, rate: int = 16000) -> AudioChunk:
    return concat(silence(500), flite(text, voice), silence(700), rate=rate)


@pytest.fixture(scope="module")
def micro() -> dict[str, MicroWakeWordDetector]:
    return {model: MicroWakeWordDetector(model) for model in WAKE_PHRASES}


@pytest.mark.parametrize("model", list(WAKE_PHRASES))
def test_micro_wake_word_hears_its_phrase_in_most_voices(
    model: str, micro: dict[str, MicroWakeWordDetector]
) -> None:
    phrase = WAKE_PHRASES[model]
    texts = (phrase, f"{phrase}, what time is it")
    hits = {(v, t): len(_detections(micro[model], _utterance(t, v)))
            for v in FLITE_VOICES for t in texts}
    rate = sum(n == 1 for n in hits.values()) / len(hits)
    print(f"{model}: detected in {rate:.0%} of {len(hits)} flite utterances", hits)
    # measured: okay_nabu 100%, hey_jarvis and alexa 70% (8 kHz "kal" is the weak voice)
    assert rate >= 0.6
    assert all(n <= 1 for n in hits.values())  # one utterance wakes once
    for other, detector in micro.items():  # and no other model wakes on it
        if other != model:
            assert _detections(detector, _utterance(phrase, "kal16")) == [], other


def test_eight_khz_capture_is_resampled(micro: dict[str, MicroWakeWordDetector]) -> None:
    hits = [len(_detections(micro["okay_nabu"], _utterance("okay nabu", v, rate=8000)))
            for v in FLITE_VOICES]
    print("okay_nabu at 8 kHz:", dict(zip(FLITE_VOICES, hits, strict=True)))
    assert sum(n == 1 for n in hits) >= 3  # measured 4 of 5


def test_micro_wake_word_stays_quiet_on_other_speech(
    micro: dict[str, MicroWakeWordDetector],
) -> None:
    human = [a for _, a, _ in librivox() + cards()]
    synthetic = [_utterance(t, v) for t in OTHER_SPEECH for v in ("kal16", "slt", "rms")]
    audio = concat(*human, *synthetic)
    for model, detector in micro.items():
        assert _detections(detector, audio) == [], model


def test_detection_details_rates_and_refractory_period() -> None:
    detector = MicroWakeWordDetector("okay_nabu", refractory_ms=3000)
    once = _utterance("okay nabu", "slt")
    [hit] = _detections(detector, once)
    assert (hit.name, hit.phrase) == ("okay_nabu", "Okay Nabu")
    assert 0.5e9 < hit.at_ns < once.frames / 16 * 1e6  # inside the utterance, after its start
    assert hit.score > 0.5
    # 8 kHz capture is resampled; the detection time stays about the same
    [hit16] = _detections(detector, _utterance("okay nabu", "rms"))
    [hit8] = _detections(detector, _utterance("okay nabu", "rms", rate=8000))
    assert abs(hit8.at_ns - hit16.at_ns) < 150e6
    # said twice quickly: one wake inside the refractory period, two when it is short
    twice = concat(once, once)
    assert len(_detections(detector, twice)) == 1
    assert len(_detections(MicroWakeWordDetector("okay_nabu", refractory_ms=500), twice)) == 2
    # deterministic
    assert _detections(detector, twice) == _detections(detector, twice)


def test_keyphrase_spotting_for_a_custom_phrase() -> None:
    detector = KeyphraseDetector("okay computer")
    hits = {v: len(_detections(detector, _utterance("okay computer, what time is it", v)))
            for v in ("kal16", "slt", "rms", "awb")}
    print("keyphrase", hits)
    assert sum(n == 1 for n in hits.values()) >= 3
    quiet = concat(*[a for _, a, _ in librivox()],
                   *[_utterance(t, "kal16") for t in OTHER_SPEECH])
    assert _detections(detector, quiet) == []


def test_factory_and_config_errors() -> None:
    assert isinstance(create_wake_word("micro", model="hey_jarvis"), MicroWakeWordDetector)
    assert isinstance(create_wake_word("keyphrase", phrase="hello there"), KeyphraseDetector)
    with pytest.raises(ValueError, match="expected one of micro, keyphrase, openwakeword"):
        create_wake_word("porcupine")
    with pytest.raises(FileNotFoundError, match="okay_nabu, hey_jarvis"):
        create_wake_word("micro", model="/nowhere/model.json")
    with pytest.raises(ValueError, match="not in the pocketsphinx dictionary"):
        KeyphraseDetector("hey zorblaxian")
    with pytest.raises(ValueError, match="needs a phrase"):
        create_wake_word("keyphrase")
    with pytest.raises(ValueError, match="probability_cutoff"):
        MicroWakeWordDetector(probability_cutoff=2.0)
    with pytest.raises(FileNotFoundError, match="openWakeWord model not found"):
        OpenWakeWordDetector("/nowhere/hey.onnx")


def test_sensitivity_moves_the_threshold_both_ways() -> None:
    assert micro_cutoff(0.97, 0.5) == pytest.approx(0.97)  # 0.5 keeps the model's tuning
    assert micro_cutoff(0.97, 1.0) < 0.97 < micro_cutoff(0.97, 0.2) <= 0.999
    assert keyphrase_threshold(0.5) == pytest.approx(1e-20)
    assert keyphrase_threshold(0.9) < keyphrase_threshold(0.5) < keyphrase_threshold(0.1)
    phrase = _utterance("okay nabu", "kal16")
    assert _detections(create_wake_word("micro", sensitivity=0.5), phrase)
    assert _detections(create_wake_word("micro", sensitivity=0.0), phrase) == []



def test_a_reset_forgets_everything_the_detector_heard(
        micro: dict[str, MicroWakeWordDetector]) -> None:
    """After ``reset`` (a new listening session, or a detection), what came before makes no
    difference: the model's streaming state is cleared, not only its buffers."""
    detector = micro["okay_nabu"]
    audio = _utterance("okay nabu", "slt")
    clean = [(d.at_ns, round(d.score, 9)) for d in _detections(detector, audio)]
    for before in ("what time is it", "okay nabu", "okay"):  # cut off mid-speech
        detector.reset()
        for chunk in flite(before, "rms").split(20):
            detector.process(chunk)
        assert [(d.at_ns, round(d.score, 9)) for d in _detections(detector, audio)] == clean
    assert len(clean) == 1


def test_the_float_mean_decides_as_the_exact_mean_did(
        micro: dict[str, MicroWakeWordDetector], monkeypatch: pytest.MonkeyPatch) -> None:
    """The detector averages its probability window in floats (not ``statistics.mean``'s
    exact fractions: a quarter of its CPU); the same phrases give the same detections."""
    import statistics

    import pymicro_wakeword.microwakeword as library

    assert getattr(library, "statistics") is not statistics  # noqa: B009 - rebound by a build
    audio = concat(_utterance("okay nabu", "slt"), _utterance("what time is it", "rms"),
                   _utterance("okay nabu", "awb"))
    detector = micro["okay_nabu"]
    fast = [(d.at_ns, round(d.score, 9)) for d in _detections(detector, audio)]
    monkeypatch.setattr(library, "statistics", statistics)  # the library's own exact mean
    exact = [(d.at_ns, round(d.score, 9)) for d in _detections(detector, audio)]
    assert fast == exact and len(fast) == 2


def _first_decision_ms(detector: MicroWakeWordDetector, audio: AudioChunk) -> float | None:
    detector.reset()
    for index, chunk in enumerate(audio.split(20)):
        if detector.process(chunk) is not None:
            return (index + 1) * 20.0
    return None


def test_micro_window_of_three_decides_sooner_than_the_models_five() -> None:
    audio = _utterance("okay nabu", "kal16")
    own = _first_decision_ms(MicroWakeWordDetector("okay_nabu", window=0), audio)
    three = _first_decision_ms(MicroWakeWordDetector("okay_nabu", window=3), audio)
    print(f"okay nabu decided at {own} ms (the model's window of 5) and {three} ms (3)")
    assert own is not None and three is not None
    assert three < own  # measured 30-60 ms sooner
    with pytest.raises(ValueError, match="window"):
        MicroWakeWordDetector("okay_nabu", window=-1)


def test_alert_is_raised_before_the_decision_and_never_by_other_speech(
    micro: dict[str, MicroWakeWordDetector],
) -> None:
    detector = micro["okay_nabu"]
    detector.reset()
    alert_at = decided_at = None
    for index, chunk in enumerate(_utterance("okay nabu", "kal16").split(20)):
        found = detector.process(chunk)
        if detector.alert and alert_at is None:
            alert_at = index
        if found is not None:
            decided_at = index
            break
    assert alert_at is not None and decided_at is not None
    assert alert_at < decided_at - 1  # a batching caller goes chunk by chunk in time
    detector.reset()
    assert not detector.alert
    human = concat(*[a for _, a, _ in librivox() + cards()])
    for chunk in human.split(20):
        detector.process(chunk)
        assert not detector.alert
