"""Local speech-to-text on real speech: human recordings (free form), flite commands (grammar)."""

from __future__ import annotations

import asyncio
import time

import pytest

from drivers.local.stt import LocalSpeechToTextClient
from speech_api import (
    AudioChunk,
    AudioError,
    AudioFormat,
    ChunkListSource,
    RealtimeSessionConfig,
    TranscriptionError,
    load_audio,
)
from tests.local.commands import COMMANDS, OUT_OF_GRAMMAR, SPEAKING_VOICES
from tests.local.speech import (
    LIBRIVOX,
    at_rate,
    cards,
    concat,
    flite,
    goforward,
    silence,
    wer,
)

# pocketsphinx holds the GIL and decodes minutes of speech here: on a loaded 2-core CI
# machine a test took over the default 120 s (a hang guard, not a speed check)
pytestmark = pytest.mark.timeout(300)


def test_free_form_word_error_rate_on_human_speech(
    human_transcripts: dict[str, tuple[str, list[str]]],
) -> None:
    libri = [(ref, hyps[-1]) for name, (ref, hyps) in human_transcripts.items()
             if name.startswith("sense")]
    card = [(ref, hyps[-1]) for name, (ref, hyps) in human_transcripts.items()
            if not name.startswith("sense")]
    print(f"free-form WER: LibriVox {wer(libri):.1%}, cards {wer(card):.1%}")
    # measured: LibriVox ~37%, cards ~5% (platform notes: ~30% on read speech)
    assert wer(libri) <= 0.45
    assert wer(card) <= 0.15


def test_stream_yields_growing_partials_ending_with_the_transcript(
    human_transcripts: dict[str, tuple[str, list[str]]], free_stt: LocalSpeechToTextClient
) -> None:
    _, hyps = human_transcripts["sense_and_sensibility_01_austen_64kb-0870"]
    assert len(hyps) >= 5  # a 7 s clip in 250 ms steps gives many partials
    assert len(hyps[0].split()) < len(hyps[-1].split())
    _, clip, _ = cards()[0]
    streamed = list(free_stt.transcribe_stream_blocking(clip))
    assert streamed[-1] == free_stt.transcribe_blocking(clip) == "ten of clubs"


@pytest.fixture(scope="module")
def grammar_stt(skills_jsgf: str) -> LocalSpeechToTextClient:
    return LocalSpeechToTextClient(mode="grammar", grammar=skills_jsgf)


@pytest.mark.parametrize("voice", SPEAKING_VOICES)
def test_grammar_mode_word_error_rate_on_flite_commands(
    voice: str, grammar_stt: LocalSpeechToTextClient
) -> None:
    client = grammar_stt
    started = time.process_time()
    pairs = [(text, client.transcribe_blocking(flite(text, voice))) for text, _, _ in COMMANDS]
    cpu = time.process_time() - started
    audio_s = sum((flite(t, voice).duration_ms or 0) for t, _, _ in COMMANDS) / 1000
    print(f"grammar WER {voice}: {wer(pairs):.1%}, real-time factor {cpu / audio_s:.3f}",
          [p for p in pairs if p[0] != p[1]])
    assert wer(pairs) <= 0.1


def test_grammar_with_free_fallback(command_stt: LocalSpeechToTextClient) -> None:
    in_grammar = [(t, command_stt.transcribe_blocking(flite(t, v)))
                  for t, _, _ in COMMANDS[:8] for v in ("kal16", "slt")]
    assert wer(in_grammar) <= 0.1
    # out-of-grammar speech is not forced onto a command: free form takes over
    out = [(t, command_stt.transcribe_blocking(flite(t, v)))
           for t in OUT_OF_GRAMMAR for v in ("kal16", "slt", "rms")]
    print("fallback", out)
    forced = [hyp for _, hyp in out if hyp in {c for c, _, _ in COMMANDS}]
    assert len(forced) <= 1
    assert wer(out) <= 0.35


def test_silence_and_empty_audio_give_an_empty_transcript(
    free_stt: LocalSpeechToTextClient, command_stt: LocalSpeechToTextClient
) -> None:
    assert free_stt.transcribe_blocking(silence(1500)) == ""
    assert free_stt.transcribe_blocking(AudioChunk.pcm(b"", 16000)) == ""
    assert command_stt.transcribe_blocking(silence(800)) == ""
    assert list(free_stt.transcribe_stream_blocking(AudioChunk.pcm(b"", 16000))) == [""]


@pytest.mark.parametrize("rate", [22050, 44100])
def test_other_rates_are_resampled(rate: int, free_stt: LocalSpeechToTextClient) -> None:
    assert free_stt.transcribe_blocking(at_rate(goforward(), rate)) == "go forward ten meters"


def test_narrowband_earpiece_audio(free_stt: LocalSpeechToTextClient) -> None:
    """8 kHz (Bluetooth HFP/CVSD) lacks the 4-8 kHz band the model was trained with."""
    clips = [(ref, at_rate(clip, 8000)) for _, clip, ref in cards()]
    clips.append(("go forward ten meters", at_rate(goforward(), 8000)))
    pairs = [(ref, free_stt.transcribe_blocking(clip)) for ref, clip in clips]
    print(f"free-form WER at 8 kHz: {wer(pairs):.1%}", pairs)
    assert wer(pairs) <= 0.35


def test_encoded_and_stereo_audio(free_stt: LocalSpeechToTextClient) -> None:
    clip = goforward()
    wav = AudioChunk(clip.to_wav(), 16000, format=AudioFormat.WAV)
    assert free_stt.transcribe_blocking(wav) == "go forward ten meters"
    stereo = AudioChunk.pcm(bytes(b for i in range(0, len(clip.data), 2)
                                  for b in clip.data[i : i + 2] * 2), 16000, channels=2)
    assert free_stt.transcribe_blocking(stereo) == "go forward ten meters"


def test_bad_input_is_refused_clearly(free_stt: LocalSpeechToTextClient, skills_jsgf: str) -> None:
    with pytest.raises(AudioError, match="expected an AudioChunk"):
        free_stt.transcribe_blocking(b"\x00\x01")  # type: ignore[arg-type]
    with pytest.raises(AudioError, match="cannot decode"):
        free_stt.transcribe_blocking(AudioChunk(b"garbage!", 16000, format=AudioFormat.FLAC))
    with pytest.raises(TranscriptionError, match="English only"):
        free_stt.transcribe_blocking(goforward(), language="de")
    with pytest.raises(ValueError, match="needs a JSGF grammar"):
        LocalSpeechToTextClient(mode="grammar")
    with pytest.raises(ValueError, match="expected one of"):
        LocalSpeechToTextClient(mode="whisper")
    with pytest.raises(ValueError, match=r"not in the pocketsphinx dictionary: \['zorblax'\]"):
        LocalSpeechToTextClient(mode="grammar", grammar=skills_jsgf.replace("louder", "zorblax"))
    with pytest.raises(ValueError, match="cannot parse the JSGF"):
        LocalSpeechToTextClient(mode="grammar", grammar="#JSGF V1.0;\ngrammar x;\npublic <a> = (b;")


def _live_stream(rate: int = 16000) -> tuple[list[AudioChunk], list[str]]:
    clips = cards()[:3]
    parts: list[AudioChunk] = [silence(600)]
    for _, clip, _ in clips:
        parts += [clip, silence(1200)]
    audio = concat(*parts, rate=rate)
    return audio.split(20), [ref for _, _, ref in clips]


def test_realtime_segments_a_live_stream(free_stt: LocalSpeechToTextClient) -> None:
    chunks, references = _live_stream(16000)
    events = list(free_stt.transcribe_realtime_blocking(iter(chunks)))
    finals = [e for e in events if e.is_final]
    assert [e.item_id for e in finals] == ["local_1", "local_2", "local_3"]
    assert wer(list(zip(references, [e.text for e in finals], strict=True))) <= 0.2
    # partials (from the incremental pass) come before their utterance's final
    partial_ids = [e.item_id for e in events if not e.is_final]
    assert partial_ids
    for index, event in enumerate(events):
        if not event.is_final:
            assert any(f.item_id == event.item_id for f in events[index + 1 :] if f.is_final)


def test_realtime_on_narrowband_capture(free_stt: LocalSpeechToTextClient) -> None:
    """8 kHz capture is segmented like 16 kHz; the words suffer (the model is wideband)."""
    chunks, references = _live_stream(8000)
    finals = [e.text for e in free_stt.transcribe_realtime_blocking(iter(chunks)) if e.is_final]
    print(f"realtime 8 kHz WER {wer(list(zip(references, finals, strict=True))):.1%}", finals)
    assert len(finals) == len(references)
    assert wer(list(zip(references, finals, strict=True))) <= 0.7  # measured 50%


def test_realtime_without_partials_and_with_grammar(command_stt: LocalSpeechToTextClient) -> None:
    audio = concat(silence(500), flite("what time is it", "slt"), silence(1000),
                   flite("volume up", "rms"), silence(1000))
    config = RealtimeSessionConfig(enable_partial_results=False, silence_duration_ms=600)
    events = list(command_stt.transcribe_realtime_blocking(iter(audio.split(20)), config))
    assert [(e.text, e.is_final) for e in events] == [
        ("what time is it", True), ("volume up", True)
    ]
    assert list(command_stt.transcribe_realtime_blocking(iter(silence(2000).split(20)))) == []


def test_async_faces(free_stt: LocalSpeechToTextClient) -> None:
    chunks, references = _live_stream()

    async def run() -> tuple[str, list[str], list[str]]:
        text = await free_stt.transcribe(goforward())
        partials = [p async for p in free_stt.transcribe_stream(goforward())]
        finals = [e.text async for e in free_stt.transcribe_realtime(ChunkListSource(chunks))
                  if e.is_final]
        return text, partials, finals

    text, partials, finals = asyncio.run(run())
    assert text == partials[-1] == "go forward ten meters"
    assert len(finals) == len(references)
    assert asyncio.run(free_stt.get_supported_languages()) == ["en"]


def test_realtime_keeps_the_last_words_of_audio_read_in_a_burst(
        free_stt: LocalSpeechToTextClient) -> None:
    """A loaded reader gets buffered periods back to back, their stamps closer than 20 ms
    (here the first 1.6 s of a reading, as one burst): the utterance's end is found by the
    frames' own stamps, so the last words stay ("young man", not "yummy")."""
    reading = load_audio(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav")
    speech = concat(silence(250), reading, silence(1000))
    chunks, at = [], 1_000_000_000
    for index, chunk in enumerate(speech.split(20)):
        at += 10_000 if index < 80 else 20_000_000  # 80 periods read within 1 ms
        chunks.append(AudioChunk.pcm(chunk.data, 16000, captured_at_ns=at))
    config = RealtimeSessionConfig(enable_partial_results=False)
    finals = [e.text for e in free_stt.transcribe_realtime_blocking(iter(chunks), config)]
    assert len(finals) == 1 and finals[0].endswith("young man"), finals
