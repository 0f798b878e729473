"""Voice activity detection: is this frame speech?

Two engines behind one small interface: WebRTC VAD (the default: tiny, fine on
a Pi Zero 2 W) and Silero (its ONNX file run with onnxruntime, no torch: better
in noisy rooms, for a Pi 4). Callers hand in chunks of any size at any rate;
each engine re-frames and resamples internally. The smoothed start/end detector
on top is :class:`SpeechSegmenter` (re-exported here).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from drivers.local.framing import Reframer
from drivers.local.segmenter import (
    Endpointer,
    SpeechSegmenter,
    SpeechStarted,
    SpeechStopped,
    VadEvent,
)
from speech_api import AudioChunk

if TYPE_CHECKING:
    import numpy as np
else:  # imported at first use, after READY (see drivers.lazy_import)
    from drivers.lazy_import import lazy_module

    np = lazy_module("numpy")

__all__ = [
    "VAD_ENGINES",
    "Endpointer",
    "FramedVad",
    "SileroVad",
    "SpeechSegmenter",
    "SpeechStarted",
    "SpeechStopped",
    "Vad",
    "VadEvent",
    "WebRtcVad",
    "create_vad",
]

VAD_ENGINES = ("webrtc", "silero")


@runtime_checkable
class Vad(Protocol):
    """What the Listener and the segmenter need from a VAD."""

    @property
    def frame_ms(self) -> float: ...

    def is_speech(self, frame: AudioChunk) -> bool: ...

    def classify(self, chunk: AudioChunk) -> list[tuple[int, bool]]: ...

    def reset(self) -> None: ...


class FramedVad(ABC):
    """Shared plumbing: re-frame the input, classify each engine frame."""

    def __init__(self, rate: int, frame_samples: int) -> None:
        self._reframer = Reframer(rate, frame_samples)
        self._last = False

    @property
    def frame_ms(self) -> float:
        return self._reframer.frame_samples * 1000.0 / self._reframer.rate

    def classify(self, chunk: AudioChunk) -> list[tuple[int, bool]]:
        """One ``(captured_at_ns, is_speech)`` per complete engine frame ``chunk`` finishes."""
        return [(at_ns, self._is_speech_frame(pcm)) for pcm, at_ns in self._reframer.feed(chunk)]

    def is_speech(self, frame: AudioChunk) -> bool:
        """Whether ``frame`` (any size) is mostly speech.

        Frames shorter than the engine's frame are buffered: until one completes
        the previous decision is returned.
        """
        decisions = [speech for _, speech in self.classify(frame)]
        if decisions:
            self._last = 2 * sum(decisions) >= len(decisions)
        return self._last

    def reset(self) -> None:
        self._reframer.reset()
        self._last = False
        self._reset_engine()

    @abstractmethod
    def _is_speech_frame(self, pcm: bytes) -> bool: ...

    @abstractmethod
    def _reset_engine(self) -> None:
        """Clear recurrent engine state."""


class WebRtcVad(FramedVad):
    """Google's WebRTC VAD (``webrtcvad-wheels``).

    ``aggressiveness`` 0-3: higher rejects more non-speech (and some speech).
    Runs natively at 8/16/32/48 kHz; other rates are resampled to 16 kHz.
    """

    NATIVE_RATES = (8000, 16000, 32000, 48000)

    def __init__(
        self, *, sample_rate: int = 16000, aggressiveness: int = 2, frame_ms: int = 30
    ) -> None:
        import webrtcvad

        if aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"webrtc VAD aggressiveness must be 0-3, got {aggressiveness}")
        if frame_ms not in (10, 20, 30):
            raise ValueError(f"webrtc VAD frame_ms must be 10, 20 or 30, got {frame_ms}")
        rate = sample_rate if sample_rate in self.NATIVE_RATES else 16000
        super().__init__(rate, rate * frame_ms // 1000)
        self._rate = rate
        self._aggressiveness = aggressiveness
        self._vad = webrtcvad.Vad(aggressiveness)

    def _is_speech_frame(self, pcm: bytes) -> bool:
        return bool(self._vad.is_speech(pcm, self._rate))

    def _reset_engine(self) -> None:
        import webrtcvad

        self._vad = webrtcvad.Vad(self._aggressiveness)  # it adapts to the noise floor


def silero_model_path() -> Path:
    """The ONNX file the ``silero-vad`` wheel ships (importing the package would pull torch)."""
    import importlib.util

    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "Silero VAD needs the 'silero-vad' package: pip install --no-deps silero-vad"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"


class SileroVad(FramedVad):
    """Silero VAD v5 run with onnxruntime (32 ms frames at 8 or 16 kHz).

    ``threshold`` is the speech probability above which a frame counts as speech.
    """

    _STATE_SHAPE = (2, 1, 128)

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        threshold: float = 0.5,
        model_path: str | Path | None = None,
    ) -> None:
        import onnxruntime

        if not 0.0 < threshold < 1.0:
            raise ValueError(f"silero VAD threshold must be between 0 and 1, got {threshold}")
        path = Path(model_path) if model_path is not None else silero_model_path()
        if not path.is_file():
            raise FileNotFoundError(f"Silero VAD model not found: {path}")
        rate = 8000 if sample_rate == 8000 else 16000
        super().__init__(rate, 256 if rate == 8000 else 512)
        self.threshold = threshold
        self._context_size = 32 if rate == 8000 else 64
        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        self._session: Any = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._sr = np.array(rate, dtype=np.int64)
        self._input = np.zeros((1, self._context_size + self._reframer.frame_samples), np.float32)
        self._state = np.zeros(self._STATE_SHAPE, np.float32)

    def probability(self, pcm: bytes) -> float:
        """Speech probability of one engine frame (advances the recurrent state)."""
        context = self._context_size
        self._input[0, :context] = self._input[0, -context:]
        self._input[0, context:] = np.frombuffer(pcm, dtype="<i2") / 32768.0
        out, self._state = self._session.run(
            None, {"input": self._input, "state": self._state, "sr": self._sr}
        )
        return float(out[0, 0])

    def _is_speech_frame(self, pcm: bytes) -> bool:
        return self.probability(pcm) >= self.threshold

    def _reset_engine(self) -> None:
        self._input[:] = 0.0
        self._state = np.zeros(self._STATE_SHAPE, np.float32)


def create_vad(
    engine: str = "webrtc",
    *,
    sample_rate: int = 16000,
    aggressiveness: int = 2,
    threshold: float = 0.5,
    model_path: str | Path | None = None,
) -> FramedVad:
    """A VAD by config name: ``webrtc`` (default) or ``silero``."""
    if engine == "webrtc":
        return WebRtcVad(sample_rate=sample_rate, aggressiveness=aggressiveness)
    if engine == "silero":
        return SileroVad(sample_rate=sample_rate, threshold=threshold, model_path=model_path)
    raise ValueError(f"unknown VAD engine {engine!r}; expected one of {', '.join(VAD_ENGINES)}")
