"""``maigic demo`` as a subprocess: the README's run command on a machine with no sound card."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from drivers.local.skills.numbers import normalise
from speech_api import load_audio
from tests.local.whisper import whisper_hears

REPO = Path(__file__).resolve().parents[2]
HOURS = ["twelve", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve"]
# how Whisper may write an hour it heard right
SOUNDS_LIKE = {"one": "won", "two": "to", "four": "for", "eight": "ate"}


def demo(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runtime.cli", "demo", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


def field(output: str, name: str) -> str:
    found = re.search(rf"^{name}:\s+(.*)$", output, re.MULTILINE)
    assert found, f"no {name!r} line in:\n{output}"
    return found.group(1)


def test_the_demo_hears_the_question_answers_it_and_writes_the_reply(tmp_path: Path) -> None:
    done = demo("--workdir", str(tmp_path / "work"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert normalise(field(done.stdout, "heard")) == "what time is it"  # "What time is it?"
    answer = field(done.stdout, "answer")
    assert re.fullmatch(r"It's \d{1,2}(:\d\d| o'clock) (AM|PM)\.", answer), answer
    wav = Path(field(done.stdout, "reply WAV").split(" (")[0])
    assert wav == tmp_path / "work" / "reply.wav"
    reply = load_audio(str(wav)).to_pcm()
    assert 500 < (reply.duration_ms or 0) < 5000
    # the spoken reply, heard back by Whisper, says the same hour ("It's 8:44 a.m.")
    hour = re.match(r"It's (\d{1,2})\D", answer).group(1)  # type: ignore[union-attr]
    # "It's 8:44 a.m.", "It's 9.28 am", "It's 1240PM." (12:40), "it's eight forty four"
    said = whisper_hears(reply)
    words = re.findall(r"[a-z]+", said.lower())
    assert re.search(rf"\b{hour}(\d\d)?(?!\d)", said) or HOURS[int(hour)] in words or \
        SOUNDS_LIKE.get(HOURS[int(hour)], "") in words, said  # "It's to 38 PM." (2:38)
    log = done.stderr
    assert "state LISTENING -> THINKING" in log and "state SPEAKING -> IDLE" in log
    assert "hub started (mode local)" in log


def test_another_question_and_output_path(tmp_path: Path) -> None:
    out = tmp_path / "answer.wav"
    done = demo("--question", "set a timer for ten minutes", "--workdir", str(tmp_path / "w"),
                "--output", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert normalise(field(done.stdout, "heard")) in ("set a timer for ten minutes",
                                                      "set a timer for 10 minutes")
    assert field(done.stdout, "answer") == "Timer set for 10 minutes."
    said = normalise(whisper_hears(load_audio(str(out)).to_pcm()))  # "Time was set for 10 ..."
    assert re.search(r"\bset for (10|ten) minutes$", said), said


def test_a_broken_config_is_reported_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("mode: local\naudio:\n  capture:\n    sample_rate: fast\n")
    done = demo("--config", str(bad), timeout=30)
    assert done.returncode == 2
    assert "bad.yaml" in done.stderr and "sample_rate" in done.stderr
