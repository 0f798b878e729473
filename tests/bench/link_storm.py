"""How often the hub's realtime link tries a server that closes right after session.update.

Run: ``python -m tests.bench.link_storm [seconds]`` (default 60). Prints the connection
attempts in that time and the link's log lines (one per state change).
"""

from __future__ import annotations

import logging
import sys
import threading

from actors.realtime_engine import RealtimeEngine
from drivers.openai import OpenAIConfig
from drivers.openai.realtime import OpenAIRealtimeClient
from tests.fakes.openai_server import FakeOpenAIServer


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def main(seconds: float) -> None:
    lines = _Lines()
    logging.getLogger().addHandler(lines)
    logging.getLogger().setLevel(logging.INFO)
    with FakeOpenAIServer() as server:
        server.script.close_after_session_update = True
        client = OpenAIRealtimeClient(OpenAIConfig(api_key=server.api_key,
                                                   base_url=server.base_url,
                                                   max_reconnect_attempts=0))
        engine = RealtimeEngine(client.open_speech_to_speech)
        engine.start(lambda _event: None)
        threading.Event().wait(seconds)
        attempts = engine.link.snapshot()["attempts"]
        engine.close()
    print(f"connection attempts in {seconds:.0f} s: {attempts}")
    print(f"log lines at INFO or above: {len(lines.lines)}")
    for line in lines.lines:
        print(f"  {line}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0)
