"""A fake OpenAI server in its own process whose every answer is one endless flood of audio.

``python -m tests.chaos.flood_server MINUTES`` prints ``url <base_url>``, then
``deltas <n> bytes <m>`` each half second (audio deltas sent so far), and stops
when its stdin closes. The flood's memory (the reply, the recorded frames) stays
in this process, so the hub's process shows only what the hub itself keeps.
"""

from __future__ import annotations

import sys
import threading

from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer


def main(minutes: float) -> None:
    second = tone_pcm(1000)
    audio = second * int(minutes * 60)
    with FakeOpenAIServer() as server:
        server.script.default_reply = Reply(text="flood", audio=audio, chunk_ms=500)
        print(f"url {server.base_url}", flush=True)
        done = threading.Event()

        def wait_for_eof() -> None:
            sys.stdin.read()
            done.set()

        threading.Thread(target=wait_for_eof, daemon=True).start()
        while not done.wait(0.5):
            with server._lock:
                deltas = [f for f in server.frames
                          if f.direction == "out" and f.type == "response.output_audio.delta"]
                server.frames[:] = [f for f in server.frames if f.direction == "in"][-10:]
            sent = sum(len(f.payload["delta"]) * 3 // 4 for f in deltas)
            print(f"deltas {len(deltas)} bytes {sent}", flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]))
