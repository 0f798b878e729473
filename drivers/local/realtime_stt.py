"""Live transcription: cut a chunk stream into utterances with the VAD, decode each.

Engine-neutral: the caller supplies how to start an utterance decoder and how to
turn a finished one into the final text. Audio from ``prefix_padding_ms``
before the detected speech start is kept (a ring of recent frames), so the first
syllable is not lost even though the VAD confirms speech only after a while.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from typing import Protocol

from drivers.local.framing import Reframer
from drivers.local.segmenter import SpeechSegmenter, SpeechStarted, SpeechStopped
from drivers.local.vad import Vad
from speech_api import AudioChunk, RealtimeSessionConfig, TranscriptionEvent

LIVE_RATE = 16000
_FRAME_SAMPLES = 320  # 20 ms
_FRAME_NS = 20_000_000
_PARTIAL_EVERY = 12  # a partial hypothesis about every 240 ms
_TAIL_NS = 150_000_000  # audio kept after the detected end of speech
_RING_EXTRA_MS = 1500  # the segmenter confirms speech up to start_ms + min_speech_ms late


class UtteranceDecoder(Protocol):
    def feed(self, pcm: bytes) -> str: ...


def transcribe_live(
    chunks: Iterator[AudioChunk],
    config: RealtimeSessionConfig,
    vad: Vad,
    *,
    start: Callable[[], UtteranceDecoder],
    finish: Callable[[UtteranceDecoder, bytes], str],
    condition: Callable[[AudioChunk], AudioChunk] | None = None,
    max_utterance_s: float = 30.0,
) -> Iterator[TranscriptionEvent]:
    """Partial deltas (``is_final`` False) and one final per utterance with text.

    ``condition`` transforms each chunk on its way to the decoder (not the VAD).
    """
    live = _LiveTranscription(config, vad, start, finish, max_utterance_s)
    for chunk in chunks:
        yield from live.feed(chunk, condition(chunk) if condition else chunk)
    yield from live.end()


class _LiveTranscription:
    def __init__(
        self,
        config: RealtimeSessionConfig,
        vad: Vad,
        start: Callable[[], UtteranceDecoder],
        finish: Callable[[UtteranceDecoder, bytes], str],
        max_utterance_s: float,
    ) -> None:
        self._config = config
        self._start = start
        self._finish = finish
        # the trim below keeps _TAIL_NS after the VAD's own end: the words' tails help decoding
        self._segmenter = SpeechSegmenter(vad, hangover_ms=config.silence_duration_ms,
                                          end_rule=None)
        self._reframer = Reframer(LIVE_RATE, _FRAME_SAMPLES)
        ring_frames = (config.prefix_padding_ms + _RING_EXTRA_MS) // 20
        self._ring: deque[tuple[bytes, int]] = deque(maxlen=max(1, ring_frames))
        self._max_bytes = int(max_utterance_s * LIVE_RATE) * 2
        self._pad_ns = config.prefix_padding_ms * 1_000_000
        self._count = 0
        self._decoder: UtteranceDecoder | None = None
        self._audio = bytearray()
        self._stamps: list[int] = []  # the capture time of each 20 ms frame in _audio
        self._shown = ""
        self._frames_since_partial = 0

    def feed(self, chunk: AudioChunk, for_decoder: AudioChunk) -> Iterator[TranscriptionEvent]:
        frames = self._reframer.feed(for_decoder)
        self._ring.extend(frames)
        for event in self._segmenter.feed(chunk):
            if isinstance(event, SpeechStarted) and self._decoder is None:
                self._open(event.at_ns)
                frames = []  # already part of the ring's backlog
            elif isinstance(event, SpeechStopped) and self._decoder is not None:
                self._trim_after(event.at_ns + _TAIL_NS)
                yield from self._close()
        if self._decoder is None:
            return
        pcm = b"".join(f for f, _ in frames)
        self._audio += pcm
        self._stamps += [at_ns for _, at_ns in frames]
        partial = self._decoder.feed(pcm)
        self._frames_since_partial += len(frames)
        if self._config.enable_partial_results and self._frames_since_partial >= _PARTIAL_EVERY:
            self._frames_since_partial = 0
            yield from self._partial(partial)
        if len(self._audio) >= self._max_bytes:
            self._segmenter.reset()  # an endless utterance: cut it here and start afresh
            yield from self._close()

    def end(self) -> Iterator[TranscriptionEvent]:
        self._segmenter.flush()
        if self._decoder is not None:
            yield from self._close()

    def _open(self, speech_at_ns: int) -> None:
        self._decoder = self._start()
        self._shown, self._frames_since_partial = "", 0
        since = speech_at_ns - self._pad_ns - _FRAME_NS
        backlog_frames = [(pcm, at_ns) for pcm, at_ns in self._ring if at_ns > since]
        backlog = b"".join(pcm for pcm, _ in backlog_frames)
        self._audio += backlog
        self._stamps += [at_ns for _, at_ns in backlog_frames]
        self._decoder.feed(backlog)

    def _trim_after(self, end_ns: int) -> None:
        """Drop the hangover silence: long silences hurt the final decoding (8 kHz most).

        Counted in frames by their own stamps, not as the time since the first frame:
        frames a loaded reader got in a burst may carry stamps closer together than
        20 ms, and a time difference would then cut the last words off."""
        keep = bisect_left(self._stamps, end_ns)
        del self._audio[keep * _FRAME_SAMPLES * 2:]
        del self._stamps[keep:]

    def _partial(self, text: str) -> Iterator[TranscriptionEvent]:
        if text.startswith(self._shown) and len(text) > len(self._shown):
            delta, self._shown = text[len(self._shown) :], text
            yield TranscriptionEvent(text=delta, is_final=False, item_id=self._item_id)

    def _close(self) -> Iterator[TranscriptionEvent]:
        assert self._decoder is not None
        text = self._finish(self._decoder, bytes(self._audio))
        item_id = self._item_id
        self._decoder = None
        self._audio.clear()
        self._stamps.clear()
        if text:
            self._count += 1
            yield TranscriptionEvent(text=text, is_final=True, item_id=item_id)

    @property
    def _item_id(self) -> str:
        return f"local_{self._count + 1}"
