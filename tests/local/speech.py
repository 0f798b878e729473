"""Real speech for the offline-engine tests and benchmarks.

Human recordings come from Debian's ``pocketsphinx-testdata``; synthetic speech
is made with flite (several voices) at run time and cached per process.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from drivers.local.framing import resample_pcm16
from speech_api import AudioChunk, load_audio

TESTDATA = Path("/usr/share/pocketsphinx/test/data")
LIBRIVOX = TESTDATA / "librivox"
CARDS = TESTDATA / "cards"
FLITE_VOICES = ("kal", "kal16", "slt", "rms", "awb")
_FLITE_CACHE = Path(tempfile.mkdtemp(prefix="maigic-flite-"))


def _transcripts(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        found = re.match(r"<s>(.*)</s>\s*\((.*)\)", line.strip())
        if found:
            out[found.group(2)] = " ".join(found.group(1).split())
    return out


def librivox() -> list[tuple[str, AudioChunk, str]]:
    """(name, audio, transcript) for the five LibriVox clips."""
    truth = _transcripts(LIBRIVOX / "transcription")
    return [(n, load_audio(LIBRIVOX / f"{n}.wav"), t) for n, t in sorted(truth.items())]


def cards() -> list[tuple[str, AudioChunk, str]]:
    """(name, audio, transcript) for the five "cards" clips."""
    truth = _transcripts(CARDS / "cards.transcription")
    return [(n, load_audio(CARDS / f"{n}.wav"), t) for n, t in sorted(truth.items())]


def goforward() -> AudioChunk:
    """"go forward ten meters" (raw 16 kHz)."""
    return AudioChunk.pcm((TESTDATA / "goforward.raw").read_bytes(), 16000, captured_at_ns=0)


@cache
def flite(text: str, voice: str = "kal16") -> AudioChunk:
    """``text`` spoken by flite's ``voice`` (cached on disk for this run)."""
    safe = re.sub(r"[^a-z0-9]+", "_", text.lower())[:60]
    path = _FLITE_CACHE / f"{voice}-{safe}-{abs(hash(text))}.wav"
    if not path.exists():
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(path)], check=True,
                       timeout=30)
    return load_audio(path)


def silence(ms: float, rate: int = 16000) -> AudioChunk:
    return AudioChunk.pcm(bytes(int(rate * ms / 1000) * 2), rate, captured_at_ns=0)


def at_rate(chunk: AudioChunk, rate: int) -> AudioChunk:
    return AudioChunk.pcm(resample_pcm16(chunk.data, chunk.sample_rate, rate), rate,
                          captured_at_ns=chunk.captured_at_ns)


def concat(*parts: AudioChunk, rate: int = 16000) -> AudioChunk:
    """Parts resampled to ``rate`` and joined; capture time 0."""
    data = b"".join(at_rate(p, rate).data for p in parts)
    return AudioChunk.pcm(data, rate, captured_at_ns=0)


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length)."""
    ref, hyp = reference.lower().split(), hypothesis.lower().split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[len(hyp)], len(ref)


def wer(pairs: list[tuple[str, str]]) -> float:
    errors = [word_errors(ref, hyp) for ref, hyp in pairs]
    return sum(e for e, _ in errors) / max(1, sum(n for _, n in errors))


def pink_noise(samples: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise: white noise shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    freqs[0] = 1.0
    return np.fft.irfft(spectrum / np.sqrt(freqs), n=samples)


def over_room_noise(samples: np.ndarray, floor_dbfs: float | None, seed: int,
                    rate: int = 16000) -> AudioChunk:
    """``samples`` over pink noise at ``floor_dbfs`` (None: digital silence), as 16-bit PCM."""
    x = samples.astype(np.float64)
    if floor_dbfs is not None:
        noise = pink_noise(len(x), np.random.default_rng(seed))
        x = x + noise * 32768 * 10 ** (floor_dbfs / 20) / np.sqrt(np.mean(noise**2))
    pcm = np.clip(np.round(x), -32768, 32767).astype("<i2")
    return AudioChunk.pcm(pcm.tobytes(), rate, captured_at_ns=0)


def add_noise(clean: AudioChunk, snr_db: float, kind: str, speech_mask: np.ndarray,
              seed: int = 5) -> AudioChunk:
    """``clean`` with white or pink noise at ``snr_db`` relative to the speech's power."""
    rng = np.random.default_rng(seed)
    x = clean.to_numpy()[:, 0].astype(np.float64)
    noise = rng.standard_normal(len(x)) if kind == "white" else pink_noise(len(x), rng)
    speech_power = float(np.mean(x[speech_mask] ** 2))
    noise *= np.sqrt(speech_power / (10 ** (snr_db / 10)) / np.mean(noise**2))
    mixed = np.clip(np.round(x + noise), -32768, 32767).astype("<i2")
    return AudioChunk.pcm(mixed.tobytes(), clean.sample_rate, captured_at_ns=0)


def speech_span(clip: AudioChunk, floor_db: float = 25.0) -> tuple[float, float]:
    """(start_s, end_s) of the speech in a clean clip: 10 ms frames within
    ``floor_db`` of the loudest frame."""
    x = clip.to_numpy()[:, 0].astype(np.float64)
    hop = clip.sample_rate // 100
    frames = x[: len(x) // hop * hop].reshape(-1, hop)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-9)
    active = np.flatnonzero(level > level.max() - floor_db)
    return active[0] / 100, (active[-1] + 1) / 100


@dataclass(frozen=True)
class SegmentedStream:
    """Speech clips separated by known silences, and where the speech is."""

    audio: AudioChunk
    truth: list[tuple[float, float]]  # speech segments, seconds

    def mask(self, rate: int | None = None) -> np.ndarray:
        rate = rate or self.audio.sample_rate
        mask = np.zeros(self.audio.frames * rate // self.audio.sample_rate, dtype=bool)
        for start, end in self.truth:
            mask[int(start * rate) : int(end * rate)] = True
        return mask


def segmented_stream(rate: int = 16000) -> SegmentedStream:
    """Nine human recordings (cards, goforward, LibriVox) with 1-2 s silences between."""
    clips = [goforward()] + [a for _, a, _ in cards()] + [
        a for n, a, _ in librivox() if n.endswith(("0880", "0930", "0890"))
    ]
    gaps = [1500, 1000, 2000, 1200, 1800, 1000, 1500, 1300, 2000]
    parts: list[AudioChunk] = [silence(1000)]
    truth = []
    t = 1.0
    for clip, gap in zip(clips, gaps, strict=True):
        start, end = speech_span(clip)
        truth.append((t + start, t + end))
        t += clip.frames / clip.sample_rate + gap / 1000
        parts += [clip, silence(gap)]
    return SegmentedStream(concat(*parts, rate=rate), truth)
