"""Offline speech-to-text with pocketsphinx (model shipped in its wheel).

Final transcripts always come from decoding the whole utterance at once
(normalised over itself, so results do not depend on earlier calls); partial
hypotheses come from a second, incremental pass while the audio arrives.

Modes:
- ``free``: the en-us language model, any English (WER ~30% on read speech);
- ``grammar``: a JSGF command grammar (near-exact on in-grammar commands, but
  everything else is forced onto some command);
- ``grammar+free``: decode with both and keep the grammar result unless the
  free-form decoding explains the audio much better (out-of-grammar speech).
  This is what the hub's local mode uses with the skills' grammar.

pocketsphinx decoders are not thread-safe and slow to build (~0.3 s), so the
client keeps a small pool: concurrent calls each borrow their own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from drivers.local.framing import resample_pcm16, to_pcm16_mono
from drivers.local.grammar import EXTRA_PRONUNCIATIONS, grammar_words
from drivers.local.realtime_stt import UtteranceDecoder, transcribe_live
from drivers.local.vad import create_vad
from speech_api import (
    AudioChunk,
    AudioError,
    BlockingSpeechToTextClient,
    RealtimeSessionConfig,
    TranscriptionError,
    TranscriptionEvent,
)

STT_MODES = ("free", "grammar", "grammar+free")
DECODER_RATE = 16000
_FREE, _GRAMMAR = "_default", "grammar"
SILENCE_RMS = 30.0  # about -60 dBFS: below any real speech, above digital silence
_BLOCK_BYTES = DECODER_RATE * 2 // 4  # 250 ms per process_raw call: partials 4x a second


@dataclass(frozen=True, slots=True)
class Hypothesis:
    text: str
    score: float  # pocketsphinx's normalised path score, 0..1, larger is better
    frames: int


class LocalSpeechToTextClient(BlockingSpeechToTextClient):
    """pocketsphinx behind the seed's :class:`SpeechToTextClient` interface.

    ``grammar`` is JSGF text (see :func:`drivers.local.grammar.build_jsgf` and
    ``SkillRegistry.jsgf()``); required for the grammar modes. ``grammar+free``
    keeps the grammar's text only when its path score is at least
    ``min_grammar_score`` and beats the free-form score by ``grammar_margin``
    (forced fits of out-of-grammar speech score low; tuned on flite voices and
    LibriVox: in-grammar 0.67-0.84 with margins 0.17-0.3, out-of-grammar below).
    ``vad_engine`` segments ``transcribe_realtime``. ``noise_floor_dbfs`` adds a
    steady noise floor before decoding (see :class:`NoiseFloor`; None: off).
    """

    def __init__(
        self,
        *,
        mode: str = "free",
        grammar: str | None = None,
        min_grammar_score: float = 0.6,
        noise_floor_dbfs: float | None = -70.0,
        grammar_margin: float = 0.1,
        vad_engine: str = "webrtc",
        decoder_options: dict[str, Any] | None = None,
    ) -> None:
        if mode not in STT_MODES:
            raise ValueError(f"unknown local STT mode {mode!r}; expected one of {STT_MODES}")
        if mode != "free" and not grammar:
            raise ValueError(f"local STT mode {mode!r} needs a JSGF grammar")
        self.mode = mode
        self.min_grammar_score = min_grammar_score
        self.noise_floor_dbfs = noise_floor_dbfs
        self.grammar_margin = grammar_margin
        self.vad_engine = vad_engine
        self._grammar = grammar
        self._options = {"loglevel": "FATAL", **(decoder_options or {})}
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        with self._decoder():  # build one now: a bad grammar fails at start-up
            pass

    # --- the seed's interface ------------------------------------------------------

    def supported_languages(self) -> list[str]:
        return ["en"]

    def transcribe_blocking(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> str:
        self._check_language(language)
        pcm = self.prepare(audio)
        with self._decoder() as decoder:
            return self._final_text(decoder, pcm)

    def transcribe_stream_blocking(
        self, audio: AudioChunk, language: str | None = None, prompt: str | None = None
    ) -> Iterator[str]:
        """Growing hypotheses while decoding (each the whole text so far); the last is final.

        ``prompt`` is accepted for interface compatibility and ignored.
        """
        self._check_language(language)
        pcm = self.prepare(audio)
        with self._decoder() as decoder:
            live = _LiveDecoder(decoder, self._first_search)
            yield from self._partials(live, pcm)
            live.finish()
            yield self._final_text(decoder, pcm)

    def transcribe_realtime_blocking(
        self, chunks: Iterator[AudioChunk], config: RealtimeSessionConfig | None = None
    ) -> Iterator[TranscriptionEvent]:
        """VAD-segmented live transcription: partial deltas, then one final per utterance."""
        config = config or RealtimeSessionConfig()
        self._check_language(config.language)
        segmenter_vad = create_vad(self.vad_engine)
        with self._decoder() as decoder:

            def finish(live: UtteranceDecoder, pcm: bytes) -> str:
                assert isinstance(live, _LiveDecoder)
                live.finish()
                return self._final_text(decoder, pcm)

            floor = None if self.noise_floor_dbfs is None else NoiseFloor(self.noise_floor_dbfs)
            yield from transcribe_live(
                chunks,
                config,
                segmenter_vad,
                start=lambda: _LiveDecoder(decoder, self._first_search),
                finish=finish,
                condition=floor.apply if floor else None,
            )

    # --- decoding ------------------------------------------------------------------

    def prepare(self, audio: AudioChunk) -> bytes:
        """16 kHz mono PCM16 bytes of ``audio`` with the noise floor; AudioError if unusable."""
        mono = _mono(audio)
        if self.noise_floor_dbfs is not None:
            mono = NoiseFloor(self.noise_floor_dbfs).apply(mono)
        return resample_pcm16(mono.data, mono.sample_rate, DECODER_RATE)

    @staticmethod
    def prepare_without_floor(audio: AudioChunk) -> bytes:
        """16 kHz mono PCM16 bytes of ``audio`` as it is; AudioError if unusable."""
        mono = _mono(audio)
        return resample_pcm16(mono.data, mono.sample_rate, DECODER_RATE)

    def decode(self, pcm: bytes, search: str | None = None) -> Hypothesis:
        """One complete decoding of 16 kHz PCM16 with the free (default) or grammar search."""
        with self._decoder() as decoder:
            return self._decode(decoder, search or self._first_search, pcm)

    @property
    def _first_search(self) -> str:
        return _FREE if self.mode == "free" else _GRAMMAR

    def _final_text(self, decoder: Any, pcm: bytes) -> str:
        """The final transcript: whole-utterance decoding(s), independent of earlier calls."""
        if is_silent(pcm):
            return ""  # recognisers hallucinate short words in digital silence
        first = self._decode(decoder, self._first_search, pcm)
        if self.mode != "grammar+free":
            return first.text
        free = self._decode(decoder, _FREE, pcm)
        if not first.text:
            return free.text
        in_grammar = (
            first.score >= self.min_grammar_score
            and first.score - free.score >= self.grammar_margin
        )
        return first.text if in_grammar else free.text

    @staticmethod
    def _partials(live: _LiveDecoder, pcm: bytes) -> Iterator[str]:
        last = ""
        for offset in range(0, len(pcm), _BLOCK_BYTES):
            text = live.feed(pcm[offset : offset + _BLOCK_BYTES])
            if text and text != last:
                last = text
                yield text

    def _decode(self, decoder: Any, search: str, pcm: bytes) -> Hypothesis:
        """Decode a whole utterance at once: cepstral mean normalisation over the
        utterance itself (no drift from earlier calls, better on 8 kHz audio)."""
        if not pcm:
            return Hypothesis("", 0.0, 0)
        decoder.reinit_feat()  # forget the feature state a live pass leaves behind
        decoder.activate_search(search)
        decoder.start_utt()
        decoder.process_raw(pcm, False, True)
        decoder.end_utt()
        return _hypothesis(decoder)

    def _check_language(self, language: str | None) -> None:
        if language is not None and language.split("-")[0].lower() != "en":
            raise TranscriptionError(
                f"local speech-to-text supports English only ('en'), got {language!r}"
            )

    @contextmanager
    def _decoder(self) -> Iterator[Any]:
        with self._lock:
            decoder = self._idle.pop() if self._idle else None
        if decoder is None:
            decoder = self._new_decoder()
        try:
            yield decoder
        finally:
            with self._lock:
                self._idle.append(decoder)

    def _new_decoder(self) -> Any:
        from pocketsphinx import Decoder

        from drivers.local.vocabulary import restricted_dictionary

        options = dict(self._options)
        if "dict" not in options:  # the frequent words: 28 MB less (drivers.local.vocabulary)
            words = grammar_words(self._grammar) if self._grammar else ()
            options["dict"] = str(restricted_dictionary(words))
        try:
            decoder = Decoder(samprate=DECODER_RATE, **options)
        except (RuntimeError, ValueError) as exc:
            raise ValueError(f"pocketsphinx rejected the decoder options: {exc}") from exc
        if self._grammar:
            for word, phones in EXTRA_PRONUNCIATIONS.items():
                if decoder.lookup_word(word) is None:
                    decoder.add_word(word, phones, True)
            words = grammar_words(self._grammar)
            unknown = sorted(w for w in words if decoder.lookup_word(w) is None)
            if unknown:
                raise ValueError(f"grammar words not in the pocketsphinx dictionary: {unknown}")
            try:
                decoder.add_jsgf_string(_GRAMMAR, self._grammar)
            except (RuntimeError, ValueError) as exc:
                raise ValueError(f"pocketsphinx cannot parse the JSGF grammar: {exc}") from exc
        return decoder


def _mono(audio: AudioChunk) -> AudioChunk:
    if not isinstance(audio, AudioChunk):
        raise AudioError(f"expected an AudioChunk, got {type(audio).__name__}")
    return to_pcm16_mono(audio, what="speech-to-text input")


class _LiveDecoder:
    """One utterance on a pocketsphinx decoder: feed PCM, read partials, finish."""

    def __init__(self, decoder: Any, search: str) -> None:
        self._decoder = decoder
        decoder.activate_search(search)
        decoder.start_utt()
        self._open = True

    def feed(self, pcm: bytes) -> str:
        """Decode more 16 kHz PCM16; the current partial hypothesis."""
        if pcm:
            self._decoder.process_raw(pcm, False, False)
        hyp = self._decoder.hyp()
        return _clean(hyp.hypstr) if hyp is not None else ""

    def finish(self) -> Hypothesis:
        if self._open:
            self._decoder.end_utt()
            self._open = False
        return _hypothesis(self._decoder)


class NoiseFloor:
    """Adds steady white noise at ``dbfs`` to PCM16 (deterministic per instance).

    Digital silence and noiseless synthetic speech wreck pocketsphinx's
    normalisation (measured: espeak-ng commands 41% WER without, 0% with a
    -70 dBFS floor). Added at the capture rate, before resampling, it also
    helps 8 kHz audio (cards: 29% -> 19% WER).
    """

    def __init__(self, dbfs: float, seed: int = 1) -> None:
        import numpy as np

        self._rng = np.random.default_rng(seed)
        self._scale = 32768.0 * 10 ** (dbfs / 20)

    def apply(self, chunk: AudioChunk) -> AudioChunk:
        import numpy as np

        mono = to_pcm16_mono(chunk, what="speech-to-text input")
        samples = np.frombuffer(mono.data, dtype="<i2").astype(np.float64)
        samples += self._rng.standard_normal(samples.size) * self._scale
        data = np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()
        return AudioChunk.pcm(data, mono.sample_rate, captured_at_ns=mono.captured_at_ns)


def is_silent(pcm: bytes, floor: float = SILENCE_RMS) -> bool:
    """True when no 20 ms frame is louder than ``floor`` (RMS in 16-bit units)."""
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2")[: len(pcm) // 640 * 320].astype(np.float32)
    if samples.size == 0:
        return True
    power = np.mean(samples.reshape(-1, 320) ** 2, axis=1)
    return bool(np.sqrt(power.max()) < floor)


def _hypothesis(decoder: Any) -> Hypothesis:
    hyp = decoder.hyp()
    frames = int(decoder.n_frames())
    if hyp is None:
        return Hypothesis("", 0.0, frames)
    return Hypothesis(_clean(hyp.hypstr), float(hyp.score), frames)


def _clean(text: str) -> str:
    # pocketsphinx marks alternative pronunciations as word(2) and fillers as <sil>, [noise]
    words = [w.split("(")[0] for w in text.split() if not w.startswith(("<", "["))]
    return " ".join(words)


__all__ = ["DECODER_RATE", "STT_MODES", "Hypothesis", "LocalSpeechToTextClient"]
