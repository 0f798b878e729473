"""Barge-in on a stalled chat model: cancel() -> the chat turn has ended (issue 17).

Runs ``ChatTurn`` (the chat -> TTS core of the library agents and the hub's chained
engine) with the real chat client against the fake OpenAI server, whose answer
waits a minute before its first word; the turn is cancelled while its worker is
blocked reading the stream. Prints, per run, the milliseconds from ``cancel()`` to
the worker thread's end, with the chat stream's socket shutdown (the fix) and
without it (closing the response alone: the read sleeps until its timeout, 10 s
here), and writes ``tests/bench/results/chat_cancel.json``.

    PYTHONPATH=. .venv/bin/python tests/bench/bench_chat_cancel.py
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

import drivers.openai.chat as chat_driver
from drivers.local.tts import LocalTextToSpeechClient
from drivers.openai import ChatClient, OpenAIConfig
from speech_api.chat_turn import ChatTurn
from speech_api.history import ConversationHistory
from tests.fakes.openai_script import ChatReply
from tests.fakes.openai_server import FakeOpenAIServer

RESULTS = Path(__file__).parent / "results" / "chat_cancel.json"
RUNS = 6


def _chat_frames(server: FakeOpenAIServer) -> int:
    return sum(f.channel.endswith("/chat/completions") for f in server.frames_of("out"))


def _cancel_ms(server: FakeOpenAIServer, config: OpenAIConfig) -> float:
    server.script.add_chat_reply(ChatReply(text="One. Two.", pace_s=60.0))
    sent = _chat_frames(server)
    turn = ChatTurn(ChatClient(config), LocalTextToSpeechClient().synthesize_stream_blocking,
                    ConversationHistory(10))
    worker = threading.Thread(target=lambda: list(turn.run("count")), daemon=True)
    worker.start()
    if not server.wait_until(lambda: _chat_frames(server) > sent, 30):
        raise RuntimeError("the chat request never reached the fake server")
    started = time.monotonic()
    turn.cancel()
    worker.join(30)
    return (time.monotonic() - started) * 1000


def main() -> None:
    wake = chat_driver._wake_reader
    rows = {}
    with FakeOpenAIServer() as server:
        config = OpenAIConfig(api_key=server.api_key, base_url=server.base_url,
                              max_retries=0, timeout_s=10.0)
        for label, waker in (("socket_shutdown", wake), ("close_only", lambda _s: None)):
            chat_driver._wake_reader = waker
            try:
                runs = [_cancel_ms(server, config) for _ in range(RUNS)]
            finally:
                chat_driver._wake_reader = wake
            rows[label] = {"median_ms": round(statistics.median(runs), 1),
                           "runs_ms": [round(ms, 1) for ms in runs]}
            print(f"{label:16} cancel -> turn ended: median {rows[label]['median_ms']} ms "
                  f"{rows[label]['runs_ms']}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
