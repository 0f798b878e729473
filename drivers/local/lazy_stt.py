"""A speech-to-text client that loads its engine only when it is first needed.

In the online modes the offline recogniser is a standby: it answers only while the
provider is away. pocketsphinx with its model costs about 100 MB of RAM, most of a
Pi Zero 2 W's headroom, so the hub keeps it unloaded until the link first falters
(:meth:`preload` starts loading in the background then) or a turn needs it.
Where the recogniser hears every turn (local mode, offline dictation) it is preloaded
at once, so the hub's start-up (READY) does not wait for the model; a first turn does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

from speech_api import AudioChunk, BlockingSpeechToTextClient
from speech_api.events import RealtimeSessionConfig, TranscriptionEvent

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 30.0  # a model load on a slow SD card


class LazySpeechToText(BlockingSpeechToTextClient):
    def __init__(self, make: Callable[[], BlockingSpeechToTextClient], *,
                 name: str = "local speech-to-text") -> None:
        self._make = make
        self._name = name
        self._client: BlockingSpeechToTextClient | None = None
        self._error: Exception | None = None
        self._lock = threading.Lock()  # the loader's state: never held during a load
        self._load_lock = threading.Lock()  # held while loading: one load at a time
        self._loader: threading.Thread | None = None

    @property
    def loaded(self) -> bool:
        return self._client is not None

    def preload(self) -> None:
        """Start loading in the background (idempotent; returns at once, even while a load
        is under way: the provider link calls it from an actor's thread)."""
        with self._lock:
            if self._client is not None or self._loader is not None:
                return
            self._loader = threading.Thread(target=self._load_quietly, name="stt-preload",
                                            daemon=True)
            self._loader.start()

    def abort(self) -> None:
        """Stop waiting for a decode in another process (see ``ChildProcessSpeechToText``)."""
        abort = getattr(self._client, "abort", None)
        if callable(abort):
            abort()

    def close(self) -> None:
        """Wait for a background load to finish (so no thread outlives the hub)."""
        loader = self._loader
        if loader is not None and loader is not threading.current_thread():
            loader.join(JOIN_TIMEOUT_S)

    def client(self) -> BlockingSpeechToTextClient:
        """The engine, loaded now if nothing loaded it yet (raises what loading raised)."""
        self.close()  # a background load in progress: wait for it rather than load twice
        with self._load_lock:
            if self._client is None:
                self._error = None
                log.info("loading the %s engine", self._name)
                self._client = self._make()
            return self._client

    def _load_quietly(self) -> None:
        try:
            with self._load_lock:
                if self._client is None:
                    log.info("loading the %s engine (standby for offline answers)", self._name)
                    self._client = self._make()
        except Exception as exc:  # noqa: BLE001 - reported when a turn needs the engine
            self._error = exc
            log.error("loading the %s engine failed: %s", self._name, exc)

    # --- BlockingSpeechToTextClient ---------------------------------------------------

    def transcribe_blocking(self, audio: AudioChunk, language: str | None = None,
                            prompt: str | None = None) -> str:
        return self.client().transcribe_blocking(audio, language, prompt)

    def transcribe_stream_blocking(self, audio: AudioChunk, language: str | None = None,
                                   prompt: str | None = None) -> Iterator[str]:
        return self.client().transcribe_stream_blocking(audio, language, prompt)

    def transcribe_realtime_blocking(
        self, chunks: Iterator[AudioChunk], config: RealtimeSessionConfig | None = None
    ) -> Iterator[TranscriptionEvent]:
        return self.client().transcribe_realtime_blocking(chunks, config)

    def supported_languages(self) -> list[str]:
        return self.client().supported_languages()
