"""Score a VAD against a :class:`SegmentedStream`: frame accuracy and segment timing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivers.local.vad import SpeechSegmenter, SpeechStarted, SpeechStopped, create_vad
from speech_api import AudioChunk
from tests.local.speech import SegmentedStream, add_noise

NOISE_CONDITIONS = (("clean", None), ("white", 10.0), ("white", 0.0), ("pink", 10.0), ("pink", 0.0))


@dataclass(frozen=True)
class VadScore:
    engine: str
    condition: str
    frame_accuracy: float
    segments_found: int
    segments_true: int
    start_errors_ms: list[float]  # detected - true, per matched segment
    end_errors_ms: list[float]

    @property
    def median_abs_start_ms(self) -> float:
        return float(np.median(np.abs(self.start_errors_ms))) if self.start_errors_ms else 1e9

    @property
    def median_abs_end_ms(self) -> float:
        return float(np.median(np.abs(self.end_errors_ms))) if self.end_errors_ms else 1e9


def condition_audio(stream: SegmentedStream, kind: str, snr_db: float | None) -> AudioChunk:
    if snr_db is None:
        return stream.audio
    return add_noise(stream.audio, snr_db, kind, stream.mask())


def score_vad(engine: str, stream: SegmentedStream, kind: str, snr_db: float | None) -> VadScore:
    audio = condition_audio(stream, kind, snr_db)
    vad = create_vad(engine, sample_rate=audio.sample_rate)
    segmenter = SpeechSegmenter(create_vad(engine, sample_rate=audio.sample_rate))
    decisions: list[tuple[int, bool]] = []
    events = []
    for chunk in audio.split(20):
        decisions += vad.classify(chunk)
        events += segmenter.feed(chunk)
    events += segmenter.flush()
    truth = stream.mask(1000)  # per millisecond
    hits = [truth[min(len(truth) - 1, at // 1_000_000 + int(vad.frame_ms) // 2)] == speech
            for at, speech in decisions]
    found = [(s.at_ns / 1e9, e.at_ns / 1e9) for s, e in
             zip([e for e in events if isinstance(e, SpeechStarted)],
                 [e for e in events if isinstance(e, SpeechStopped)], strict=False)]
    starts, ends = [], []
    for true_start, true_end in stream.truth:
        overlapping = [f for f in found if f[0] < true_end and f[1] > true_start]
        if overlapping:
            starts.append((overlapping[0][0] - true_start) * 1000)
            ends.append((overlapping[-1][1] - true_end) * 1000)
    name = "clean" if snr_db is None else f"{kind} {snr_db:g} dB"
    return VadScore(engine, name, float(np.mean(hits)), len(found), len(stream.truth),
                    starts, ends)
