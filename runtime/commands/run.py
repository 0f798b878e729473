"""``maigic run``: run the hub until stopped (SIGTERM/SIGINT), reloading on SIGHUP."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType

from runtime.config import DEFAULT_CONFIG_PATH, ConfigError, HubConfig, load_config
from runtime.hub import Hub, HubControl, HubStartError
from runtime.hub_parts import UnsupportedModeError, build_parts
from speech_api import AudioChunk, FileAudioSource, load_audio

log = logging.getLogger(__name__)

TRAILING_SILENCE_S = 2.0  # after an --input file, so the last utterance is endpointed


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="run the hub (what the systemd service starts)")
    parser.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help="config file (default /etc/maigic/maigic.yaml)")
    parser.add_argument("--input", type=Path, default=None,
                        help="take the microphone from this audio file (played in real time)")
    parser.add_argument("--until-idle", action="store_true",
                        help="exit once the --input file has ended and the hub is idle again")
    parser.set_defaults(handler=run_hub)


def run_hub(args: argparse.Namespace) -> int:
    path = Path(getattr(args, "config", None) or DEFAULT_CONFIG_PATH)
    if args.until_idle and args.input is None:
        print("maigic run: --until-idle needs --input FILE")
        return 2
    try:
        config = load_config(path).config
        parts = build_parts(config)
    except (ConfigError, UnsupportedModeError) as exc:
        log.error("cannot start: %s", exc)
        return 2
    if args.input is not None:
        if not args.input.is_file():
            log.error("cannot start: --input %s is not a file", args.input)
            return 2
        source = args.input
        parts = replace(parts, capture=lambda: FileCapture(source, config))
    hub = Hub(config, parts, config_path=path)
    control = HubControl(until_idle=args.until_idle)
    with handle_signals(control):
        try:
            return hub.run(control)
        except HubStartError as exc:
            log.error("cannot start: %s", exc)
            return 1


class handle_signals:  # noqa: N801 - used as a context manager, reads like one
    """SIGTERM/SIGINT stop the hub, SIGHUP reloads the config; restored on exit."""

    def __init__(self, control: HubControl) -> None:
        self.control = control
        self._previous: dict[int, object] = {}

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            log.info("SIGHUP: reloading the config")
            self.control.reload.set()
        else:
            log.info("%s: stopping", signal.Signals(signum).name)
            self.control.stop.set()

    def __enter__(self) -> handle_signals:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


class FileCapture:
    """An audio file as the microphone, in real time, then silence (for demos and tests)."""

    def __init__(self, path: Path, config: HubConfig) -> None:
        cap = config.audio.capture
        self.period_ms = cap.period_ms
        audio = load_audio(str(path)).to_pcm()
        if audio.sample_rate != cap.sample_rate or audio.channels != 1:
            from drivers.resample import resample_chunk, to_mono

            mono = AudioChunk.pcm(to_mono(audio.data, audio.channels), audio.sample_rate)
            audio = resample_chunk(mono, cap.sample_rate)
        self.source = FileAudioSource(audio, frame_ms=cap.period_ms, realtime=True,
                                      trailing_silence_s=TRAILING_SILENCE_S)

    def stream(self, stop: threading.Event) -> Iterator[AudioChunk]:
        return self.source.blocking(stop)

    def close(self) -> None:
        pass
