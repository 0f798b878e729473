"""faster-whisper: where its model comes from (checked at start-up, never fetched in a
test), which boards get it, and what it hears in real read speech."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from drivers.local.stt_choice import POCKETSPHINX, WHISPER, choose_stt_engine
from drivers.local.whisper_model import (
    PACKAGE_MODEL_SHA256,
    WhisperModel,
    WhisperModelError,
    default_download_dir,
    find_model,
    mem_total_bytes,
    sha256_of,
    verify,
)
from drivers.local.whisper_stt import WhisperSpeechToTextClient, default_threads
from speech_api import RealtimeSessionConfig
from tests.local.speech import concat, librivox, silence
from tests.realspeech.scoring import align, words


@pytest.fixture(scope="module")
def whisper_client() -> WhisperSpeechToTextClient:
    return WhisperSpeechToTextClient(threads=1)


def test_a_missing_model_directory_is_a_start_up_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"has no model\.bin"):
        WhisperSpeechToTextClient(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"has no model\.bin"):
        WhisperSpeechToTextClient(tmp_path)


def test_a_model_without_the_package_is_a_start_up_error(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not a real model")
    if importlib.util.find_spec("faster_whisper") is None:
        with pytest.raises(ValueError, match="needs the 'faster-whisper' package"):
            WhisperSpeechToTextClient(tmp_path)
    else:  # installed: CTranslate2 itself refuses the bogus file
        with pytest.raises(RuntimeError):
            WhisperSpeechToTextClient(tmp_path)


# --- where the model comes from -----------------------------------------------------


def test_the_packaged_model_is_found_and_its_weights_match_the_pinned_digest() -> None:
    found = find_model(None, None)
    assert found is not None and found.origin == "package"
    assert sha256_of(Path(found.model) / "model.bin") == PACKAGE_MODEL_SHA256
    verify(found)  # the real check the hub runs at start-up


def test_changed_packaged_weights_are_refused_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"weights someone changed")
    with pytest.raises(WhisperModelError, match=r"sha256 .* expected .*force-reinstall"):
        verify(WhisperModel(str(tmp_path), "package"))


def test_a_model_dir_comes_first_and_a_download_only_when_asked(tmp_path: Path) -> None:
    assert find_model(tmp_path, tmp_path / "dl") == WhisperModel(str(tmp_path), "model_dir")
    download = WhisperModel("tiny.en", "download", tmp_path / "state" / "models")
    verify(download)  # creates the directory; nothing is fetched here
    assert (tmp_path / "state" / "models").is_dir()


def test_the_download_directory_is_the_services_state_directory(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    assert default_download_dir() is None  # outside the service: never download
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/maigic")
    assert default_download_dir() == Path("/var/lib/maigic/models")


def test_mem_total_is_read_from_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:         427796 kB\nMemFree:  1000 kB\n")
    assert mem_total_bytes(meminfo) == 427796 * 1024
    assert mem_total_bytes(tmp_path / "missing") is None


@pytest.mark.parametrize(("engine", "memory", "language", "model_dir", "expected"), [
    ("auto", 8 << 30, "en", None, WHISPER),                # a Pi 4 / 5
    ("auto", 427796 * 1024, "en", None, POCKETSPHINX),     # a Pi Zero 2 W (512 MB)
    ("auto", 8 << 30, "de", None, POCKETSPHINX),           # tiny.en speaks English only
    ("pocketsphinx", 8 << 30, "en", None, POCKETSPHINX),   # configured: no second guess
    ("faster_whisper", 256 << 20, "en", None, WHISPER),
])
def test_auto_picks_whisper_where_the_board_can_afford_it(
        engine: str, memory: int, language: str, model_dir: Path | None, expected: str) -> None:
    choice = choose_stt_engine(engine, language=language, model_dir=model_dir,
                               mem_total=memory)
    assert choice.engine == expected, choice


# --- the engine on real speech --------------------------------------------------------


def test_whisper_hears_read_prose_cased_punctuated(whisper_client: WhisperSpeechToTextClient,
                                                   ) -> None:
    name, audio, transcript = librivox()[0]  # "and mister john dashwood had then leisure ..."
    text = whisper_client.transcribe_blocking(audio)
    assert text[0].isupper() and text.endswith(".")
    result = align(words(transcript), words(text))
    assert result.wer <= 0.1, (name, text)


def test_live_transcription_gives_partials_then_the_final(
        whisper_client: WhisperSpeechToTextClient) -> None:
    _name, audio, transcript = librivox()[0]
    stream = concat(silence(500), audio, silence(1500)).split(20)
    events = list(whisper_client.transcribe_realtime_blocking(
        iter(stream), RealtimeSessionConfig(enable_partial_results=True)))
    finals = [e.text for e in events if e.is_final]
    assert len(finals) == 1 and align(words(transcript), words(finals[0])).wer <= 0.1, finals
    partials = [e for e in events if not e.is_final]
    assert partials and all(e.item_id == "local_1" for e in events)
    quiet = list(whisper_client.transcribe_realtime_blocking(
        iter(stream), RealtimeSessionConfig(enable_partial_results=False)))
    assert [e.is_final for e in quiet] == [True]  # no partial costs a decoding


def test_silence_is_no_words_and_threads_are_a_setting(
        whisper_client: WhisperSpeechToTextClient) -> None:
    assert whisper_client.transcribe_blocking(silence(2000)) == ""
    assert whisper_client.threads == 1
    assert 1 <= default_threads() <= 4
