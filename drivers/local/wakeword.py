"""Wake word detection on the live capture stream.

- :class:`MicroWakeWordDetector` (default): ``pymicro-wakeword`` with the models
  its wheel ships (okay_nabu, hey_jarvis, alexa, hey_mycroft) or a user model.
- :class:`KeyphraseDetector`: pocketsphinx keyphrase spotting for a custom phrase.
- :class:`OpenWakeWordDetector`: openWakeWord, only with a user-supplied model.

All take 20 ms chunks (or any size) at the capture rate, resample to 16 kHz, and
stay quiet for ``refractory_ms`` of audio after a detection so that one
utterance wakes the hub once. Time is counted in audio, not wall clock, so
results are deterministic for a given input.

``alert`` is True while an engine's running score says the phrase may be under way
(microWakeWord: its probability above ``ALERT_PROBABILITY``, held ``ALERT_HOLD_MS``):
a caller that takes its audio in batches hands it over chunk by chunk then, so the
decision is not held back by a batch. Ordinary speech stays far below it (LibriVox:
0.07 at most, against 0.85-0.97 cutoffs).
"""

from __future__ import annotations

import importlib
import math
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from drivers.local.framing import Reframer
from speech_api import AudioChunk

WAKE_ENGINES = ("micro", "keyphrase", "openwakeword")
MICRO_MODELS = ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft")
ENGINE_RATE = 16000
_NS_PER_MS = 1_000_000
# microWakeWord averages its last N probabilities (one per 30 ms stride) against the
# cutoff; the shipped models say 5. Three decides 60 ms sooner (median over 15 flite
# phrases: 40 ms after the phrase's end instead of 100) and on 34 s of LibriVox speech
# the 3-stride mean peaked at 0.07 (0.06 with 5), far below every model's cutoff.
MICRO_WINDOW = 3
ALERT_PROBABILITY = 0.3
ALERT_HOLD_MS = 300


@dataclass(frozen=True, slots=True)
class WakeDetection:
    """The wake phrase was heard; ``at_ns`` is the capture time of the frame that decided."""

    name: str
    phrase: str
    at_ns: int
    score: float


@runtime_checkable
class WakeWordDetector(Protocol):
    def process(self, chunk: AudioChunk) -> WakeDetection | None: ...

    def reset(self) -> None: ...


class FramedWakeWord(ABC):
    """Re-framing, refractory period and reset shared by every engine."""

    def __init__(self, name: str, phrase: str, frame_samples: int, refractory_ms: float) -> None:
        if refractory_ms < 0:
            raise ValueError(f"refractory_ms must not be negative, got {refractory_ms}")
        self.name = name
        self.phrase = phrase
        self.refractory_ms = refractory_ms
        self._reframer = Reframer(ENGINE_RATE, frame_samples)
        self._quiet_until_ns: int | None = None
        self._alert_until_ns = 0
        self._heard_ns = 0  # the last frame's capture time

    @property
    def alert(self) -> bool:
        """The phrase may be under way (the engine's score is up): see the module doc."""
        return self._heard_ns < self._alert_until_ns

    def process(self, chunk: AudioChunk) -> WakeDetection | None:
        """Feed one chunk; a detection when the phrase just ended, else None."""
        found: WakeDetection | None = None
        for pcm, at_ns in self._reframer.feed(chunk):
            score = self._score_frame(pcm)
            self._heard_ns = at_ns
            if self._stirred():
                self._alert_until_ns = at_ns + ALERT_HOLD_MS * _NS_PER_MS
            if self._quiet_until_ns is not None and at_ns < self._quiet_until_ns:
                continue
            if score is not None and found is None:
                found = WakeDetection(self.name, self.phrase, at_ns, score)
                self._quiet_until_ns = at_ns + round(self.refractory_ms * _NS_PER_MS)
                self._after_detection()
        return found

    def reset(self) -> None:
        """Forget buffered audio, engine state and the refractory period."""
        self._reframer.reset()
        self._quiet_until_ns = None
        self._alert_until_ns = 0
        self._reset_engine()

    @abstractmethod
    def _score_frame(self, pcm: bytes) -> float | None:
        """The detection score if this frame completes the phrase, else None."""

    @abstractmethod
    def _reset_engine(self) -> None: ...

    def _stirred(self) -> bool:
        """Whether the last frame's running score was up (engines that have one say)."""
        return False

    def _after_detection(self) -> None:
        self._reset_engine()


def _micro_config_path(model: str) -> Path:
    if model in MICRO_MODELS:
        import pymicro_wakeword

        return Path(pymicro_wakeword.__file__).parent / "models" / f"{model}.json"
    path = Path(model)
    if path.suffix != ".json" or not path.is_file():
        raise FileNotFoundError(
            f"microWakeWord model {model!r}: expected one of {', '.join(MICRO_MODELS)} "
            "or the path of a model's .json file"
        )
    return path


class _FloatStatistics:
    """What pymicro-wakeword uses of :mod:`statistics`: the mean of its probability window."""

    @staticmethod
    def mean(values: Any) -> float:
        return math.fsum(values) / len(values)


def _average_in_floats() -> None:
    """pymicro-wakeword averages its window of ~10 probabilities with ``statistics.mean``,
    which sums exact fractions: a quarter of the wake word's CPU at 50 chunks a second,
    every second the hub listens. A float mean (``fsum``: correctly rounded) decides the
    same; only that library module's name is rebound, and only while it looks as expected."""
    import statistics  # here: the library imports it anyway, the hub's start need not

    import pymicro_wakeword.microwakeword as library

    current = getattr(library, "statistics", None)
    if current is statistics:
        setattr(library, "statistics", _FloatStatistics)  # noqa: B010 - a library module


class MicroWakeWordDetector(FramedWakeWord):
    """microWakeWord (TFLite micro models through ``pymicro-wakeword``).

    ``probability_cutoff`` overrides the model's own threshold (lower = more
    sensitive, more false wakes); ``window`` is how many probabilities are averaged
    (0: the model's own, 5 for the shipped ones; see ``MICRO_WINDOW``).
    """

    def __init__(
        self,
        model: str = "okay_nabu",
        *,
        probability_cutoff: float | None = None,
        sensitivity: float | None = None,
        refractory_ms: float = 2000.0,
        window: int = MICRO_WINDOW,
    ) -> None:
        from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures

        _average_in_floats()
        self._model: Any = MicroWakeWord.from_config(_micro_config_path(model))
        if window:
            _set_window(self._model, window)
        self._probability = 0.0  # the last frame's (for alert)
        if probability_cutoff is None and sensitivity is not None:
            probability_cutoff = micro_cutoff(self._model.probability_cutoff, sensitivity)
        if probability_cutoff is not None:
            if not 0.0 < probability_cutoff < 1.0:
                raise ValueError(f"probability_cutoff must be in (0, 1), got {probability_cutoff}")
            self._model.probability_cutoff = probability_cutoff
        self._features: Any = MicroWakeWordFeatures()
        # 20 ms frames, the capture's chunk: the model runs once per 30 ms stride, so a
        # decision comes with the same chunk as with 10 ms frames, for half the Python calls
        super().__init__(self._model.id, self._model.wake_word, 320, refractory_ms)

    def _score_frame(self, pcm: bytes) -> float | None:
        best: float | None = None
        self._probability = 0.0
        for features in self._features.process_streaming(pcm):
            probability = self._model.process_streaming_prob(features)
            if probability is None:
                continue
            self._probability = max(self._probability, float(probability))
            if probability > self._model.probability_cutoff:
                best = max(best or 0.0, float(probability))
        return best

    def _stirred(self) -> bool:
        return self._probability > ALERT_PROBABILITY

    def _reset_engine(self) -> None:
        self._features.reset()
        # the model's streaming layers keep state inside the TFLite interpreter, beside its
        # feature stride buffer and probability window: only the library's reload clears
        # it all (0.5 ms); without it a detection depended on the audio before the reset
        self._model.reset()

    def close(self) -> None:
        self._model.close()


def _set_window(model: Any, window: int) -> None:
    """Average ``window`` probabilities: the library reads its size once, into its deque."""
    if not 1 <= window <= 50:
        raise ValueError(f"the micro wake word window must be 1-50 probabilities, got {window}")
    if not isinstance(getattr(model, "_probabilities", None), deque):
        raise RuntimeError("pymicro-wakeword changed: its probability window cannot be set")
    model.sliding_window_size = window
    model._probabilities = deque(maxlen=window)


class KeyphraseDetector(FramedWakeWord):
    """pocketsphinx keyphrase spotting; every word must be in its dictionary.

    ``threshold`` is pocketsphinx's ``kws_threshold`` (1e-40 .. 1e-5; smaller
    is more sensitive).
    """

    def __init__(
        self, phrase: str, *, threshold: float = 1e-20, refractory_ms: float = 2000.0
    ) -> None:
        from pocketsphinx import Decoder

        words = phrase.lower().split()
        if not words:
            raise ValueError("keyphrase must not be empty")
        self._decoder: Any = Decoder(
            samprate=ENGINE_RATE, kws_threshold=threshold, loglevel="FATAL"
        )
        unknown = [w for w in words if self._decoder.lookup_word(w) is None]
        if unknown:
            raise ValueError(
                f"keyphrase {phrase!r}: words not in the pocketsphinx dictionary: {unknown}"
            )
        self._decoder.add_keyphrase("wake", " ".join(words))
        self._decoder.activate_search("wake")
        self._decoder.start_utt()
        super().__init__("keyphrase", " ".join(words), 320, refractory_ms)

    def _score_frame(self, pcm: bytes) -> float | None:
        self._decoder.process_raw(pcm, False, False)
        hyp = self._decoder.hyp()
        if hyp is None or not hyp.hypstr:
            return None
        return 1.0

    def _reset_engine(self) -> None:
        self._decoder.end_utt()
        self._decoder.start_utt()

    def close(self) -> None:
        self._decoder.end_utt()


class OpenWakeWordDetector(FramedWakeWord):
    """openWakeWord with a user-supplied ``.onnx`` model (no model ships with the package)."""

    def __init__(
        self, model_path: str | Path, *, threshold: float = 0.5, refractory_ms: float = 2000.0
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"openWakeWord model not found: {path}")
        try:
            model_module = importlib.import_module("openwakeword.model")
        except ImportError as exc:
            raise RuntimeError(
                "the openwakeword engine needs the 'openwakeword' package installed"
            ) from exc
        self.threshold = threshold
        self._oww: Any = model_module.Model(wakeword_models=[str(path)], inference_framework="onnx")
        super().__init__(path.stem, path.stem.replace("_", " "), 1280, refractory_ms)

    def _score_frame(self, pcm: bytes) -> float | None:
        import numpy as np

        scores = self._oww.predict(np.frombuffer(pcm, dtype="<i2"))
        best = max((float(s) for s in scores.values()), default=0.0)
        return best if best >= self.threshold else None

    def _reset_engine(self) -> None:
        self._oww.reset()


def micro_cutoff(model_cutoff: float, sensitivity: float) -> float:
    """The probability cutoff for a 0-1 sensitivity: 0.5 keeps the model's own tuning,
    higher lowers the cutoff (wakes more easily), lower raises it."""
    return min(0.999, max(0.05, math.pow(model_cutoff, 2.0 * sensitivity)))


def keyphrase_threshold(sensitivity: float) -> float:
    """pocketsphinx's keyphrase threshold spans many decades: 0.5 -> 1e-20 (its usual value)."""
    return math.pow(10.0, -40.0 * sensitivity)


def create_wake_word(
    engine: str = "micro",
    *,
    model: str = "okay_nabu",
    phrase: str | None = None,
    threshold: float | None = None,
    sensitivity: float | None = None,
    refractory_ms: float = 2000.0,
    window: int = MICRO_WINDOW,
) -> FramedWakeWord:
    """A wake word detector by config name.

    ``micro``: ``model`` is a shipped model name or a model .json path;
    ``keyphrase``: ``phrase`` is the words to spot; ``openwakeword``: ``model``
    is the user's .onnx path; ``window`` is the micro engine's (0: the model's own).
    ``threshold`` is the engine's own knob; ``sensitivity``
    (0-1, higher wakes more easily; 0.5 = the engine's default) is the config's, mapped
    onto each engine's scale. ``threshold`` wins when both are given.
    """
    if engine == "micro":
        return MicroWakeWordDetector(
            model, probability_cutoff=threshold, sensitivity=sensitivity,
            refractory_ms=refractory_ms, window=window,
        )
    if engine == "keyphrase":
        if not phrase:
            raise ValueError("the keyphrase wake word engine needs a phrase")
        if threshold is None:
            threshold = keyphrase_threshold(0.5 if sensitivity is None else sensitivity)
        return KeyphraseDetector(phrase, threshold=threshold, refractory_ms=refractory_ms)
    if engine == "openwakeword":
        if threshold is None:
            threshold = min(0.99, max(0.01, 1.0 - (0.5 if sensitivity is None else sensitivity)))
        return OpenWakeWordDetector(model, threshold=threshold, refractory_ms=refractory_ms)
    raise ValueError(
        f"unknown wake word engine {engine!r}; expected one of {', '.join(WAKE_ENGINES)}"
    )
