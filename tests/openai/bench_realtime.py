"""Figures for the Realtime path against the fake server (prints and saves JSON).

    .venv/bin/python -m tests.openai.bench_realtime [--out results.json]

- frame -> event: from the fake sending ``response.output_audio.delta`` to the
  session yielding the ``AudioDelta`` (websocket-client, JSON, base64, queue);
- send_audio: the cost of one 20 ms 16 kHz chunk (resample to 24 kHz, base64, send);
- reconnect: from the link being cut to ``SessionReady(reconnected=True)``.
Not assertions: numbers to compare between machines and changes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from drivers.openai.config import OpenAIConfig
from drivers.openai.realtime import OpenAIRealtimeClient
from speech_api.audio import AudioChunk
from speech_api.events import AudioDelta, ResponseDone, SessionReady
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.openai.helpers import send_all, utterance, wait_for


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p95": ordered[int(0.95 * (len(ordered) - 1))],
        "max": ordered[-1],
        "n": float(len(ordered)),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="/tmp/maigic-bench-openai-realtime.json")
    args = p.parse_args()
    results: dict[str, dict[str, float]] = {}
    with FakeOpenAIServer() as server:
        config = OpenAIConfig(api_key=server.api_key, base_url=server.base_url)
        server.script.add_reply(Reply(audio=tone_pcm(5000), chunk_ms=20, pace_s=0.02))
        session = OpenAIRealtimeClient(config).open_speech_to_speech()
        try:
            session.initialize_session()
            wait_for(session, SessionReady)

            chunk = AudioChunk.pcm(bytes(640), 16000)
            costs = []
            for _ in range(200):
                start = time.perf_counter()
                session.send_audio(chunk)
                costs.append((time.perf_counter() - start) * 1e6)
            results["send_audio_20ms_16k_us"] = percentiles(costs)

            send_all(session, utterance())
            _, events = wait_for(session, ResponseDone, timeout=30)
            sent = [
                f.at for f in server.frames_of("out") if f.type == "response.output_audio.delta"
            ]
            got = [e.received_at_ns / 1e9 for e in events if isinstance(e, AudioDelta)]
            results["frame_to_event_ms"] = percentiles(
                [(g - s) * 1000 for s, g in zip(sent, got, strict=True)]
            )

            reconnects = []
            for _ in range(5):
                cut = time.monotonic()
                server.drop_realtime_connections()
                ready, _ = wait_for(session, SessionReady, timeout=30)
                assert ready.reconnected
                reconnects.append((time.monotonic() - cut) * 1000)
            results["reconnect_ms"] = percentiles(reconnects)
        finally:
            session.close()
    for name, figures in results.items():
        print(f"{name:28s} " + "  ".join(f"{k}={v:.2f}" for k, v in figures.items()))
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"saved to {args.out}")


if __name__ == "__main__":
    main()
