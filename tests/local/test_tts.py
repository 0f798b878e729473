"""Local text-to-speech: real flite and espeak-ng, checked by the local recogniser."""

from __future__ import annotations

import asyncio
import io

import pytest
import soundfile

from drivers.local.stt import LocalSpeechToTextClient
from drivers.local.tts import LocalTextToSpeechClient
from speech_api import AudioChunk, AudioFormat, SynthesisError, decode_audio, join_chunks
from speech_api.sentences import split_sentences
from tests.local.commands import COMMANDS
from tests.local.speech import wer


@pytest.fixture(scope="module")
def grammar_stt(skills_jsgf: str) -> LocalSpeechToTextClient:
    return LocalSpeechToTextClient(mode="grammar", grammar=skills_jsgf)


@pytest.mark.parametrize(("engine", "voice", "rate"), [
    ("flite", "kal16", 16000), ("flite", "slt", 16000), ("espeak-ng", "en-us", 22050),
])
def test_speech_is_transcribed_back_in_grammar_mode(
    engine: str, voice: str, rate: int, grammar_stt: LocalSpeechToTextClient
) -> None:
    tts = LocalTextToSpeechClient(engine=engine, voice=voice)
    pairs = []
    for text, _, _ in COMMANDS:
        audio = decode_audio(tts.synthesize_blocking(text), AudioFormat.WAV)
        assert (audio.sample_rate, audio.channels, audio.bit_depth) == (rate, 1, 16)
        pairs.append((text, grammar_stt.transcribe_blocking(audio)))
    print(f"{engine}/{voice} -> grammar STT WER {wer(pairs):.1%}",
          [p for p in pairs if p[0] != p[1]])
    assert wer(pairs) <= 0.1


def test_stream_goes_sentence_by_sentence() -> None:
    tts = LocalTextToSpeechClient(chunk_ms=100)
    calls: list[str] = []
    synthesize = tts.engine.synthesize

    def counting(text: str, voice: str) -> AudioChunk:
        calls.append(text)
        return synthesize(text, voice)

    tts.engine.synthesize = counting  # type: ignore[method-assign]
    stream = tts.synthesize_stream_blocking("Hello there. The timer is set! What else?")
    first = next(stream)
    assert calls == ["Hello there."]  # the first audio is out before the rest is made
    rest = list(stream)
    assert calls == ["Hello there.", "The timer is set!", "What else?"]
    assert first.sample_rate == 16000 and first.is_pcm
    assert all((c.duration_ms or 0) <= 100.01 for c in [first, *rest])
    total = join_chunks([first, *rest])
    assert 1500 < (total.duration_ms or 0) < 6000


def test_formats_voices_and_languages() -> None:
    tts = LocalTextToSpeechClient()
    assert {"kal16", "slt", "rms", "awb"} <= set(tts.available_voices())
    pcm = tts.synthesize_blocking("Hello.", audio_format=AudioFormat.PCM)
    wav = decode_audio(tts.synthesize_blocking("Hello.", voice_id="rms"), AudioFormat.WAV)
    assert len(pcm) > 8000 and wav.sample_rate == 16000
    for fmt in (AudioFormat.FLAC, AudioFormat.OGG):
        data, rate = soundfile.read(io.BytesIO(tts.synthesize_blocking("Hello.", audio_format=fmt)))
        assert rate == 16000 and len(data) > 4000
    espeak = LocalTextToSpeechClient(engine="espeak-ng")
    german = espeak.synthesize_blocking("Guten Tag.", language="de", audio_format=AudioFormat.PCM)
    assert len(german) > 8000
    with pytest.raises(SynthesisError, match="English only"):
        tts.synthesize_blocking("Bonjour.", language="fr")
    assert asyncio.run(tts.get_available_voices()) == tts.available_voices()
    chunks = asyncio.run(_collect(tts, "One. Two."))
    assert len(chunks) >= 2


async def _collect(tts: LocalTextToSpeechClient, text: str) -> list[AudioChunk]:
    return [c async for c in tts.synthesize_stream(text)]


def test_bad_input_and_configuration() -> None:
    tts = LocalTextToSpeechClient()
    with pytest.raises(SynthesisError, match="empty"):
        tts.synthesize_blocking("   ")
    with pytest.raises(SynthesisError, match="empty"):
        list(tts.synthesize_stream_blocking(""))
    with pytest.raises(SynthesisError, match=r"no voice 'http://example\.com/x\.flitevox'"):
        tts.synthesize_blocking("Hi.", voice_id="http://example.com/x.flitevox")
    with pytest.raises(ValueError, match="no voice 'nobody'"):
        LocalTextToSpeechClient(voice="nobody")
    with pytest.raises(ValueError, match="expected one of flite, espeak-ng, piper"):
        LocalTextToSpeechClient(engine="festival")
    with pytest.raises(ValueError, match="needs a voice model path"):
        LocalTextToSpeechClient(engine="piper")
    with pytest.raises(ValueError, match="piper voice model not found"):
        LocalTextToSpeechClient(engine="piper", piper_model="/nowhere/voice.onnx")
    slow = LocalTextToSpeechClient(timeout_s=0.001)
    with pytest.raises(SynthesisError, match="took longer than"):
        slow.synthesize_blocking("This sentence takes flite more than a millisecond. " * 20)


def test_piper_config_checks(tmp_path: pytest.TempPathFactory) -> None:
    model = tmp_path / "voice.onnx"  # type: ignore[operator]
    model.write_bytes(b"onnx")
    with pytest.raises(ValueError, match="voice config not found"):
        LocalTextToSpeechClient(engine="piper", piper_model=model)
    (tmp_path / "voice.onnx.json").write_text("{}")  # type: ignore[operator]
    with pytest.raises(ValueError, match="'piper' is not installed"):
        LocalTextToSpeechClient(engine="piper", piper_model=model)


def test_sentence_splitting() -> None:
    assert split_sentences("Hi. How are you?  Fine!\nBye") == ["Hi.", "How are you?", "Fine!",
                                                               "Bye"]
    assert split_sentences("Mr. Smith is here. 1. Go.") == ["Mr. Smith is here.", "1. Go."]
    assert split_sentences("  ") == []
    assert split_sentences("Done. ...") == ["Done...."]
