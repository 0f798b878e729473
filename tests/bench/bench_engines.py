"""CPU time per second of audio and peak memory of each offline engine.

Each engine runs in its own child process (so memory figures do not mix):
it loads real speech (LibriVox + cards, ~35 s; flite-spoken commands for the
grammar recogniser), notes CPU time and peak RSS after the imports, builds the
engine, feeds it, and reports CPU seconds per audio second and the peak RSS
the engine added. Prints a table and writes ``tests/bench/results/engines.json``.

    .venv/bin/python -m tests.bench.bench_engines
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "engines.json"
ENGINES = (
    "vad-webrtc-16k", "vad-webrtc-8k", "vad-silero-16k", "vad-silero-8k",
    "wake-micro", "wake-keyphrase", "stt-free", "stt-grammar", "stt-grammar+free",
    "tts-flite", "tts-espeak-ng",
)
TTS_TEXT = ("Your ten minute timer is done. It is three o'clock in the afternoon. "
            "The earpiece battery is at eighty percent.")


def _human_speech(rate: int) -> Any:
    from tests.local.speech import cards, concat, librivox

    return concat(*[a for _, a, _ in librivox() + cards()], rate=rate)


def _stream(feed: Callable[[Any], object], audio: Any) -> None:
    for chunk in audio.split(20):
        feed(chunk)


def _measure(engine: str) -> dict[str, Any]:  # runs in the child
    from drivers.local.skills import SkillRegistry
    from drivers.local.stt import LocalSpeechToTextClient
    from drivers.local.tts import LocalTextToSpeechClient
    from drivers.local.vad import create_vad
    from drivers.local.wakeword import create_wake_word
    from tests.local.commands import COMMANDS
    from tests.local.speech import concat, flite

    rate = 8000 if engine.endswith("-8k") else 16000
    audio = _human_speech(rate)
    commands = concat(*[flite(t, "kal16") for t, _, _ in COMMANDS])
    with SkillRegistry() as registry:
        grammar = registry.jsgf()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = (audio.duration_ms or 0) / 1000
    if engine.startswith("vad-"):
        vad = create_vad(engine.split("-")[1], sample_rate=rate)
        _stream(vad.is_speech, audio)
    elif engine.startswith("wake-"):
        kind = engine.split("-")[1]
        detector = create_wake_word(kind, model="okay_nabu", phrase="okay computer")
        _stream(detector.process, audio)
    elif engine.startswith("stt-"):
        mode = engine.split("-", 1)[1]
        client = LocalSpeechToTextClient(mode=mode, grammar=None if mode == "free" else grammar)
        if mode == "free":
            client.transcribe_blocking(audio)
        else:
            audio = commands
            seconds = (commands.duration_ms or 0) / 1000
            for text, _, _ in COMMANDS:
                client.transcribe_blocking(flite(text, "kal16"))
    else:
        tts = LocalTextToSpeechClient(engine=engine.split("-", 1)[1])
        seconds = sum((c.duration_ms or 0) for c in tts.synthesize_stream_blocking(TTS_TEXT)) / 1000
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (children.ru_utime + children.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    cpu = time.process_time() - started + child_cpu
    peak_rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, children.ru_maxrss)
    return {
        "engine": engine,
        "audio_s": round(seconds, 2),
        "cpu_ms_per_audio_s": round(cpu * 1000 / seconds, 2),
        "real_time_factor": round(cpu / seconds, 4),
        "peak_rss_mb": round(peak_rss / 1024, 1),
        "added_rss_mb": round(max(0, peak_rss - base_rss) / 1024, 1),
    }


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(_measure(sys.argv[2])))
        return 0
    rows = []
    for engine in ENGINES:
        done = subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_engines", "--child", engine],
            capture_output=True, text=True, timeout=600, check=False,
        )
        if done.returncode != 0:
            print(f"{engine}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    header = f"{'engine':<18}{'audio s':>9}{'CPU ms/s':>10}{'RTF':>9}{'peak MB':>9}{'added MB':>10}"
    print(header)
    for r in rows:
        print(f"{r['engine']:<18}{r['audio_s']:>9}{r['cpu_ms_per_audio_s']:>10}"
              f"{r['real_time_factor']:>9}{r['peak_rss_mb']:>9}{r['added_rss_mb']:>10}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                time.gmtime()),
                                   "engines": rows}, indent=2) + "\n")
    print(f"written {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
