"""Real read speech through the real hub: `maigic run --input FILE --until-idle`, always
listening, the default local engines (faster-whisper where installed).

Every LibriVox recording in pocketsphinx-testdata, one by one, and all of them as one
long reading with natural pauses between sentences (some shorter than the endpoint, some
longer). Overall WER <= 10 %, and every reference word accounted for in some turn: no
stretch of two or more consecutive reference words without anything heard for it (a
recogniser may drop a single word, which counts in the WER; a lost turn loses a
sentence).

The long reading needs turn-taking that loses nothing: a sentence that starts while the
hub is still THINKING about the previous one must continue the turn (issue 13, item 3),
and a pause longer than the endpoint (1000 and 1400 ms here) ends a turn mid-reading.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from speech_api import AudioChunk
from tests.alsa.alsa_harness import AlsaFiles
from tests.local.speech import concat, librivox, silence
from tests.realspeech.hubrun import run_hub_on
from tests.realspeech.scoring import align, words

MAX_WER = 0.10
PAUSES_MS = (1000, 600, 1400, 900)  # after each sentence but the last: natural, uneven


def _wav(tmp_path: Path, name: str, audio: AudioChunk) -> Path:
    path = tmp_path / f"{name}.wav"
    path.write_bytes(audio.to_wav())
    return path


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_each_recording_alone_is_heard(tmp_path: Path, alsa_files: AlsaFiles,
                                       caplog: pytest.LogCaptureFixture) -> None:
    reference: list[str] = []
    heard: list[str] = []
    report = []
    for name, audio, transcript in librivox():
        clip = _wav(tmp_path, name, concat(silence(800), audio))
        # one sentence per run: no follow-up window to wait out after the answer
        turns = run_hub_on(tmp_path, clip, caplog, "conversation: {follow_up_s: 0}\n")
        one = align(words(transcript), words(" ".join(turns)))
        report.append(f"{name}: WER {one.wer:.0%} heard {turns}")
        reference += words(transcript)
        heard += words(" ".join(turns))
        assert one.longest_deleted_run < 2, report[-1]
    overall = align(reference, heard)
    print("\n".join(report), f"\noverall WER {overall.wer:.1%}")
    assert overall.wer <= MAX_WER, report


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_one_long_reading_with_pauses_loses_no_sentence(
        tmp_path: Path, alsa_files: AlsaFiles, caplog: pytest.LogCaptureFixture) -> None:
    clips = librivox()
    parts: list[AudioChunk] = [silence(800)]
    for index, (_name, audio, _text) in enumerate(clips):
        parts.append(audio)
        if index < len(PAUSES_MS):
            parts.append(silence(PAUSES_MS[index]))
    reading = _wav(tmp_path, "reading", concat(*parts))
    turns = run_hub_on(tmp_path, reading, caplog)
    reference = words(" ".join(text for _n, _a, text in clips))
    result = align(reference, words(" ".join(turns)))
    print(f"turns {turns}\nWER {result.wer:.1%}, deleted {result.deletions}, "
          f"longest deleted run {result.longest_deleted_run}")
    assert result.longest_deleted_run < 2, (result, turns)
    assert result.wer <= MAX_WER, (result, turns)
