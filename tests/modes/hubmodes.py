"""Running the whole hub in a given mode for a test, with its engine's events recorded."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from actors.engine import ConversationEngine
from actors.engines.delegating import TappedEngine
from actors.playback import OnIdle, OnWritten, PlaybackDevice, PlaybackFactory
from runtime.cli import build_parser
from runtime.engine_factory import EngineContext, engine_maker
from runtime.hub import Hub
from runtime.hub_parts import build_parts, segmenter
from speech_api import AudioChunk
from speech_api import events as ev
from tests.e2e.hubtest import load, wait_for, write_config
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, silence
from tests.modes.modetest import Events

ALWAYS_LISTENING = """
triggers: {always_listening: true, wake_word: {enabled: false}, button: {enabled: false}}
conversation: {follow_up_s: 0}
"""


class FirstWritten:
    """When each item's first period reached the sound device (monotonic ns), and how
    much of it has been played so far (ms)."""

    def __init__(self) -> None:
        self.at_ns: dict[str, int] = {}
        self.played_ms: dict[str, int] = {}
        self._lock = threading.Lock()

    def wrap(self, factory: PlaybackFactory) -> PlaybackFactory:
        def opened(on_written: OnWritten, on_idle: OnIdle) -> PlaybackDevice:
            def written(item_id: str, played_ms: int, at_ns: int) -> None:
                with self._lock:
                    self.at_ns.setdefault(item_id, at_ns)
                    self.played_ms[item_id] = max(played_ms, self.played_ms.get(item_id, 0))
                on_written(item_id, played_ms, at_ns)

            return factory(written, on_idle)

        return opened


class ModeHub:
    """A hub for ``mode`` on the test PCMs and the fake server, always listening."""

    def __init__(self, tmp_path: Path, server: FakeOpenAIServer, extra: str = "",
                 context: EngineContext | None = None) -> None:
        self.config = load(write_config(tmp_path, server, ALWAYS_LISTENING + extra))
        self.context = context or EngineContext()
        if self.context.make_segmenter is None:  # as the hub gives it (hub_parts.engine_maker)
            self.context.make_segmenter = lambda: segmenter(self.config)
        self.events = Events()
        self.written = FirstWritten()
        parts = build_parts(self.config, open_led=False)
        make = engine_maker(self.config, self.context)

        def tapped() -> ConversationEngine:
            return TappedEngine(make(), self.events)

        self.hub = Hub(self.config, replace(parts, engine=tapped,
                                            playback=self.written.wrap(parts.playback)))

    def answers(self) -> list[str]:
        return [e.transcript for e in self.events.of(ev.ResponseDone)
                if isinstance(e, ev.ResponseDone)]

    def heard(self) -> list[str]:
        return [e.text for e in self.events.of(ev.InputTranscript)
                if isinstance(e, ev.InputTranscript) and e.is_final]

    def reply_audio(self, transcript: str) -> dict[str, AudioChunk]:
        """The audio of the answer that said ``transcript``, per item, as the engine sent it."""
        done = next(e for e in self.events.of(ev.ResponseDone)
                    if isinstance(e, ev.ResponseDone) and e.transcript == transcript)
        items: dict[str, list[AudioChunk]] = {}
        for delta in self.events.of(ev.AudioDelta):
            if isinstance(delta, ev.AudioDelta) and delta.response_id == done.response_id:
                items.setdefault(delta.item_id, []).append(
                    AudioChunk.pcm(delta.pcm, delta.sample_rate))
        return {item: concat(*chunks) for item, chunks in items.items()}

    def wait_played(self, transcript: str, timeout: float) -> None:
        """Until the answer that said ``transcript`` has been played out in full."""
        self.events.wait(lambda _: transcript in self.answers(), timeout, repr(transcript))
        items = self.reply_audio(transcript)
        assert items, f"{transcript!r} came without audio"
        wait_for(lambda: all(self.written.played_ms.get(item, 0) >= (audio.duration_ms or 0) - 20
                             for item, audio in items.items()),
                 timeout, f"{transcript!r} played")

    def wait_answers(self, count: int, timeout: float) -> None:
        self.events.wait(lambda items: len([e for e in items if isinstance(e, ev.ResponseDone)])
                         >= count, timeout, f"{count} answers")


def run_until_idle(config: Path, input_wav: Path, speech: AudioChunk) -> int:
    """``maigic run --config CONFIG --input INPUT --until-idle`` on ``speech`` (after 1.5 s
    of silence, and 1.5 s after it): the exit code."""
    input_wav.write_bytes(concat(silence(1500), speech, silence(1500)).to_wav())
    args = build_parser().parse_args(
        ["run", "--config", str(config), "--input", str(input_wav), "--until-idle"])
    return int(args.handler(args))
