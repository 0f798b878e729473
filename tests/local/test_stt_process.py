"""pocketsphinx in a child process: the same transcripts, and the hub's threads run on."""

from __future__ import annotations

import threading
from functools import partial

import pytest

from drivers.local.stt import LocalSpeechToTextClient
from drivers.local.stt_process import ChildProcessSpeechToText
from speech_api import AudioChunk
from speech_api.errors import TranscriptionError
from tests.local.speech import concat, librivox


def ticks_during(transcribe: partial[str] | object, audio: AudioChunk) -> tuple[str, int]:
    """(transcript, how often another thread woke every 10 ms while it was decoding)."""
    done = threading.Event()
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        while not done.wait(0.01):
            ticks += 1

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        assert callable(transcribe)
        text = str(transcribe(audio))
    finally:
        done.set()
        ticker.join()
    return text, ticks


def test_a_decode_in_the_child_leaves_this_process_running_and_hears_the_same() -> None:
    clips = librivox()
    reading = concat(clips[0][1], clips[3][1])  # 13 s
    local = LocalSpeechToTextClient(mode="free")
    child = ChildProcessSpeechToText(partial(LocalSpeechToTextClient, mode="free"),
                                     name="test-stt")
    try:
        text, ticks = ticks_during(child.transcribe_blocking, reading)
    finally:
        child.close()
    in_process, stalled_ticks = ticks_during(local.transcribe_blocking, reading)
    assert text == in_process
    # in-process, pocketsphinx keeps the interpreter lock for the whole decode: no other
    # thread runs (that is how the Listener lost captured audio); in the child it does
    assert stalled_ticks <= 10  # (a few in the Python before and after the decode)
    assert ticks >= 50  # a decode of 13 s of speech takes seconds


def test_a_child_that_cannot_build_its_engine_says_why() -> None:
    with pytest.raises(ValueError, match="language"):
        ChildProcessSpeechToText(partial(_broken), name="broken")


def test_a_failed_decode_is_a_transcription_error_and_the_child_goes_on() -> None:
    child = ChildProcessSpeechToText(partial(LocalSpeechToTextClient, mode="free"))
    try:
        with pytest.raises(TranscriptionError, match="English"):
            child.transcribe_blocking(AudioChunk.pcm(bytes(3200), 16000), language="fr")
        assert child.transcribe_blocking(AudioChunk.pcm(bytes(3200), 16000)) == ""
    finally:
        child.close()


def _broken() -> LocalSpeechToTextClient:
    raise ValueError("no such language model")


def test_an_aborted_decode_stops_the_wait_and_its_late_answer_is_dropped() -> None:
    clips = librivox()
    child = ChildProcessSpeechToText(partial(LocalSpeechToTextClient, mode="free"))
    failed: list[Exception] = []

    def long_decode() -> None:
        try:
            child.transcribe_blocking(concat(clips[0][1], clips[3][1]))
        except TranscriptionError as exc:
            failed.append(exc)

    try:
        decoding = threading.Thread(target=long_decode)
        decoding.start()
        while not child.busy and decoding.is_alive():
            decoding.join(0.01)  # until the decode is under way
        child.abort()
        decoding.join(5)
        assert not decoding.is_alive() and len(failed) == 1
        # the next request gets its own answer, not the aborted one's
        assert child.transcribe_blocking(clips[1][1]) == \
            LocalSpeechToTextClient(mode="free").transcribe_blocking(clips[1][1])
    finally:
        child.close()
