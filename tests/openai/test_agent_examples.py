"""The three agent examples and the seed examples' --record, run as scripts on real speech.

Online: every provider call goes to the fake server on 127.0.0.1 (``--base-url``).
Offline (``--offline``): the local recogniser and flite, no OpenAI key in the
environment; only the chat model is the fake server. ``--record`` reads real
alsa-lib through the test asoundrc's file-backed capture PCM.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from speech_api.audio import AudioChunk, decode_audio, load_audio
from tests.alsa.alsa_harness import CAPTURE_PCM, alsa_env
from tests.fakes.openai_script import ChatReply, Reply, ToolCall
from tests.fakes.openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[2]
SPEECH = Path(
    "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav"
)
AGENTS = ("chained_agent.py", "hybrid_agent.py", "realtime_agent.py")
SEED = ("batch_transcription.py", "streaming_transcription.py", "realtime_transcription.py",
        "openai_integration_example.py")


def run_example(server: FakeOpenAIServer, name: str, *args: str, key: bool = True,
                extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    if key:
        env["OPENAI_API_KEY"] = server.api_key
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), "--base-url", server.base_url, *args],
        capture_output=True, text=True, timeout=120, env=env, cwd="/", check=False,
    )


def load_audio_bytes(data: bytes) -> AudioChunk:
    return decode_audio(data)


def chat_requests(server: FakeOpenAIServer) -> list[dict[str, object]]:
    return [r.body for r in server.requests if r.path.endswith("/chat/completions")]


@pytest.mark.parametrize("name", AGENTS)
def test_each_agent_answers_a_spoken_question_online(
        server: FakeOpenAIServer, name: str, tmp_path: Path) -> None:
    server.script.transcript = "what time is it"
    server.script.add_chat_reply(ChatReply(text="It is late. Time for bed."))
    server.script.add_reply(Reply(text="It is late. Time for bed."))
    out = tmp_path / "reply.wav"
    result = run_example(server, name, "--input", str(SPEECH), "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "you: what time is it" in lines
    assert "assistant: It is late. Time for bed." in lines
    assert any(line.startswith("timing: first audio") for line in lines)
    reply = load_audio(out)
    assert reply.sample_rate == 24000 and (reply.duration_ms or 0) > 100
    if name != "realtime_agent.py":
        user = chat_requests(server)[0]["messages"]
        assert {"role": "user", "content": "what time is it"} in user  # type: ignore[operator]


@pytest.mark.parametrize("name", ["chained_agent.py", "hybrid_agent.py"])
def test_offline_agents_hear_real_speech_with_no_key(
        server: FakeOpenAIServer, name: str, tmp_path: Path) -> None:
    server.script.add_chat_reply(ChatReply(text="Yes, he was a decent man."))
    out = tmp_path / "reply.wav"
    result = run_example(server, name, "--offline", "--api-key", server.api_key,
                         "--input", str(SPEECH), "--out", str(out), key=False)
    assert result.returncode == 0, result.stderr
    heard = next(line for line in result.stdout.splitlines() if line.startswith("you: "))
    assert {"not", "young", "man"} <= set(heard.split()), heard
    assert "assistant: Yes, he was a decent man." in result.stdout
    assert load_audio(out).sample_rate == 16000  # flite, not the server
    assert {r.path.rsplit("/", 1)[-1] for r in server.requests} == {"completions"}


@pytest.mark.parametrize("name", AGENTS)
def test_agents_run_the_offline_skills_as_tools(
        server: FakeOpenAIServer, name: str, tmp_path: Path) -> None:
    server.script.add_chat_reply(ChatReply(text="", tool_calls=(ToolCall("get_time"),)))
    server.script.add_chat_reply(ChatReply(text="Here is the time."))
    server.script.add_reply(Reply(tool_call=ToolCall("get_time")))
    server.script.add_reply(Reply(text="Here is the time."))
    result = run_example(server, name, "--input", str(SPEECH), "--out", str(tmp_path / "r.wav"))
    assert result.returncode == 0, result.stderr
    assert "tool call: get_time({})" in result.stdout
    assert "tool result: It's " in result.stdout
    assert "assistant: Here is the time." in result.stdout


def test_the_chained_agent_talks_to_the_microphone(server: FakeOpenAIServer,
                                                    tmp_path: Path) -> None:
    speech = load_audio(SPEECH)
    infile = tmp_path / "mic.raw"
    silence = bytes(16000)  # 0.5 s around the question, so the VAD finds the turn
    infile.write_bytes(silence + speech.data + silence * 3)
    seconds = f"{(len(infile.read_bytes()) // 640 * 20) / 1000:.2f}"
    server.script.transcript = "what time is it"
    result = run_example(server, "chained_agent.py", "--record", seconds, "--device", CAPTURE_PCM,
                         "--out", str(tmp_path / "r.wav"),
                         extra_env=alsa_env(infile, tmp_path / "played.wav"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "you: what time is it"
    sent = next(r for r in server.requests if r.path.endswith("/audio/transcriptions"))
    uploaded = load_audio_bytes(sent.body["file"][1])
    assert speech.data in uploaded.data  # the whole question went up, sample-exact


@pytest.mark.parametrize("name", SEED)
def test_the_seed_examples_record_from_the_microphone(
        server: FakeOpenAIServer, name: str, tmp_path: Path) -> None:
    infile = tmp_path / "mic.raw"
    infile.write_bytes(load_audio(SPEECH).data + bytes(32000))
    server.script.transcript = "he was not an ill disposed young man"
    result = run_example(server, name, "--record", "3", "--device", CAPTURE_PCM,
                         extra_env=alsa_env(infile, tmp_path / "played.wav"))
    assert result.returncode == 0, result.stderr
    assert "he was not an ill disposed young man" in result.stdout


@pytest.mark.parametrize("name", AGENTS + SEED)
def test_a_missing_input_file_is_one_line_and_exit_1(
        server: FakeOpenAIServer, name: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope.wav"
    args = ["--input", str(missing), "--out", str(tmp_path / "r.wav")] if name in AGENTS \
        else [str(missing)]
    result = run_example(server, name, *args)
    assert result.returncode == 1
    assert result.stderr == f"error: {missing}: no such file\n"
    assert not server.requests


@pytest.mark.parametrize("args,message", [
    ((), "give an audio file (FILE or --input FILE) or --record SECONDS"),
    (("--record", "-1"), "--record: expected a positive number of seconds, got -1"),
    (("--input", str(SPEECH), "--out", "/no/such/dir/r.wav"),
     "/no/such/dir/r.wav: no such directory"),
    (("--input", str(SPEECH)), "say where the answer goes: --out reply.wav or --play default"),
])
def test_bad_agent_options_are_one_line(server: FakeOpenAIServer, args: tuple[str, ...],
                                        message: str) -> None:
    result = run_example(server, "chained_agent.py", *args)
    assert (result.returncode, result.stderr) == (1, f"error: {message}\n")
