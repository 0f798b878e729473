"""Realtime transcription of a file, paced vs unpaced: is anything lost? (issue 17)

Runs the local recogniser's ``transcribe_realtime`` on the five LibriVox clips
from ``FileAudioSource`` unpaced (as fast as it is read) and paced (real time),
prints each WER against the reference and the wall time, and writes
``tests/bench/results/file_source.json``. Before the fix the unpaced source was
stamped at release time and lost most of the audio (87 % WER vs 38 % paced).

    PYTHONPATH=. .venv/bin/python tests/bench/bench_file_source.py
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from drivers.local.stt import LocalSpeechToTextClient
from speech_api import FileAudioSource, RealtimeSessionConfig
from tests.local.speech import LIBRIVOX, librivox, wer

RESULTS = Path(__file__).parent / "results" / "file_source.json"


async def _transcribe(stt: LocalSpeechToTextClient, path: Path, paced: bool) -> str:
    source = FileAudioSource(path, realtime=paced, trailing_silence_s=1.0)
    config = RealtimeSessionConfig(enable_partial_results=False)
    return " ".join([e.text async for e in stt.transcribe_realtime(source, config)])


def main() -> None:
    stt = LocalSpeechToTextClient()
    rows = {}
    for paced in (False, True):
        pairs, started = [], time.monotonic()
        for name, _audio, truth in librivox():
            pairs.append((truth, asyncio.run(_transcribe(stt, LIBRIVOX / f"{name}.wav", paced))))
        label = "paced" if paced else "unpaced"
        rows[label] = {"wer": round(wer(pairs), 3), "seconds": round(time.monotonic() - started, 1)}
        print(f"{label:8} WER {rows[label]['wer']:.1%}  ({rows[label]['seconds']} s for 5 clips)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                time.gmtime()), **rows}, indent=2))


if __name__ == "__main__":
    main()
