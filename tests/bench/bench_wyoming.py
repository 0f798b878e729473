"""Wyoming engines' speed on this machine: real wyoming-piper and wyoming-faster-whisper servers.

    python -m tests.bench.bench_wyoming [--runs N]

Prints and saves (tests/bench/results/wyoming.json), per figure, the median and the
worst of N runs: piper's first audio chunk and whole sentence, and whisper's
transcript of a 2 s question (tiny.en, beam 1, one thread) measured from the call
(connection, upload, decoding). Say the machine's load when quoting them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from drivers.wyoming import WyomingSpeechToTextClient, WyomingTextToSpeechClient
from tests.local.speech import concat, flite, silence
from tests.wyoming.servers import piper_server, whisper_server

SENTENCE = "It is sunny today, so take a hat when you go out."
RESULTS = Path(__file__).parent / "results" / "wyoming.json"


def summary(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values), 1), "worst_ms": round(max(values), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    question = concat(silence(200), flite("what is the weather like"), silence(200))
    first_chunk, sentence, transcript = [], [], []
    with tempfile.TemporaryDirectory(prefix="maigic-bench-wyoming-") as tmp, \
            whisper_server(Path(tmp)) as whisper, piper_server(Path(tmp)) as piper:
        tts = WyomingTextToSpeechClient(piper.uri, voice="en_US-joe-medium")
        stt = WyomingSpeechToTextClient(whisper.uri, language="en")
        stt.transcribe_blocking(question)  # warm-up: the first decode loads lazily
        for _ in range(runs):
            start = time.perf_counter()
            for index, _chunk in enumerate(tts.synthesize_stream_blocking(SENTENCE)):
                if index == 0:
                    first_chunk.append((time.perf_counter() - start) * 1000)
            sentence.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            stt.transcribe_blocking(question)
            transcript.append((time.perf_counter() - start) * 1000)
    result = {"load_1min": os.getloadavg()[0], "runs": runs,
              "piper_first_chunk": summary(first_chunk), "piper_sentence": summary(sentence),
              "whisper_2s_question": summary(transcript)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
