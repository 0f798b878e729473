"""Wake latency: end of the spoken wake phrase -> detection, with the hub's detector.

Each wake phrase of the built-in models is spoken by every flite voice at three
speaking rates. The detector (built as the hub builds it) gets 20 ms chunks; the
chunk that fires would, on a live microphone, be complete at its end, and the
detection comes after that chunk's processing, so the latency is measured as
(end of the firing chunk - end of the phrase's speech) + that chunk's processing
time on this machine.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from drivers.local.wakeword import create_wake_word
from speech_api import AudioChunk, load_audio
from tests.bench.inputs import END_FLOOR_DB
from tests.bench.report import Figure, figure
from tests.local.speech import FLITE_VOICES, concat, silence, speech_span

PHRASES = {"okay_nabu": "okay nabu", "hey_jarvis": "hey jarvis", "alexa": "alexa"}
STRETCHES = (0.85, 1.0, 1.2)
CHUNK_MS = 20


def spoken(text: str, voice: str, stretch: float, work: Path) -> AudioChunk:
    path = work / f"{voice}-{stretch}-{text.replace(' ', '_')}.wav"
    subprocess.run(["flite", "-voice", voice, "--setf", f"duration_stretch={stretch}",
                    "-t", text, "-o", str(path)], check=True, timeout=30)
    return load_audio(path)


def latency_ms(model: str, clip: AudioChunk) -> float | None:
    """Milliseconds from the phrase's end to the detection, or None if it never fired."""
    detector = create_wake_word("micro", model=model, phrase=None, refractory_ms=2000)
    try:
        lead = 500.0
        audio = concat(silence(lead), clip, silence(1500))
        end_ms = lead + float(speech_span(concat(clip), END_FLOOR_DB)[1]) * 1000
        for index, chunk in enumerate(audio.split(CHUNK_MS)):
            started = time.perf_counter()
            found = detector.process(chunk)
            spent_ms = (time.perf_counter() - started) * 1000
            if found is not None:
                return (index + 1) * CHUNK_MS - end_ms + spent_ms
        return None
    finally:
        close = getattr(detector, "close", None)
        if callable(close):
            close()


def run(models: tuple[str, ...]) -> tuple[list[Figure], dict[str, object]]:
    values: list[float] = []
    missed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="maigic-bench-wake-") as tmp:
        for model in models:
            for voice in FLITE_VOICES:
                for stretch in STRETCHES:
                    clip = spoken(PHRASES[model], voice, stretch, Path(tmp))
                    found = latency_ms(model, clip)
                    if found is None:
                        missed.append(f"{model}/{voice}/{stretch}")
                    else:
                        values.append(found)
    tried = len(models) * len(FLITE_VOICES) * len(STRETCHES)
    fig = figure("wake_latency", "wake: phrase end -> detected", [v / 1000 for v in values],
                 "s", goal_median=0.2, keep_samples=False,
                 note=f"{len(values)} of {tried} flite phrases detected "
                      f"({', '.join(models)}; 5 voices x 3 speaking rates)")
    return [fig], {"wake_missed": missed}
