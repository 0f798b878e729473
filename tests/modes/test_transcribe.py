"""Transcribe mode through the whole hub: live transcripts, finals to a file and a hook."""

from __future__ import annotations

import json
import logging
import shlex
from pathlib import Path

import pytest

from runtime.engine_factory import EngineContext
from speech_api import events as ev
from tests.alsa.alsa_harness import AlsaFiles
from tests.e2e.hubtest import running_hub
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence
from tests.modes.hubmodes import ModeHub


def test_finals_go_to_the_file_and_the_hook_in_order_with_no_spoken_reply(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    notes, hooked = tmp_path / "notes.txt", tmp_path / "hooked.txt"
    hook = tmp_path / "hook.sh"  # a real command getting the text on stdin
    hook.write_text(f"#!/bin/sh\nsed 's/^/hook: /' >> {shlex.quote(str(hooked))}\n")
    hook.chmod(0o755)
    fake_openai.script.transcript = "buy more milk"
    pcm = concat(silence(600), flite("buy more milk"), silence(5000),
                 flite("call the plumber tomorrow"), silence(5000)).data
    context = EngineContext()
    run = ModeHub(tmp_path, fake_openai, context=context, extra=f"""
mode: transcribe
transcribe: {{output_file: {json.dumps(str(notes))}, hook: {json.dumps(str(hook))}}}
""")
    with caplog.at_level(logging.DEBUG), running_hub(run.hub, alsa_files, pcm):
        run.events.wait(lambda _: context.link.online is True, 10, "the session")
        run.events.wait(lambda _: len(run.heard()) >= 1, 20, "the first final")
        fake_openai.script.transcript = "call the plumber tomorrow"
        run.events.wait(lambda _: len(run.heard()) >= 2, 20, "the second final")
        assert run.hub.wait_for_state("idle", 10)
    assert notes.read_text() == "buy more milk\ncall the plumber tomorrow\n"
    assert hooked.read_text() == "hook: buy more milk\nhook: call the plumber tomorrow\n"
    partials = [e.text for e in run.events.of(ev.InputTranscript)
                if isinstance(e, ev.InputTranscript) and not e.is_final]
    assert partials[:3] == ["buy", "buy more", "buy more milk"]
    printed = capsys.readouterr().out.splitlines()  # print_transcripts: partials and finals
    assert printed[:4] == ["... buy", "... buy more", "... buy more milk", "buy more milk"]
    assert "call the plumber tomorrow" in printed
    said = [r for r in caplog.records if "milk" in r.getMessage() or "plumber" in r.getMessage()]
    assert not said, "what was said is logged only with logging.conversation"
    assert not run.events.of(ev.AudioDelta), "transcribe mode must not speak"
    sent = fake_openai.types("in")
    assert sent.count("input_audio_buffer.commit") == 2
    assert "response.create" not in sent
    update = next(f.payload for f in fake_openai.frames_of("in", "realtime")
                  if f.type == "session.update")
    assert update["session"]["type"] == "transcription"


def test_a_stop_finishes_the_dictation_already_spoken(
    tmp_path: Path, alsa_files: AlsaFiles, fake_openai: FakeOpenAIServer,
) -> None:
    """The hub is stopped as the turn is committed; its transcript still reaches the hook,
    which takes longer than an ordinary actor's stop (1.5 s) to take it."""
    hooked = tmp_path / "hooked.txt"
    hook = tmp_path / "slow-hook.sh"
    hook.write_text(f"#!/bin/sh\nsleep 3\ncat >> {shlex.quote(str(hooked))}\n")
    hook.chmod(0o755)
    fake_openai.script.transcript = "buy more milk"
    pcm = concat(silence(600), flite("buy more milk"), silence(5000)).data
    context = EngineContext()
    run = ModeHub(tmp_path, fake_openai, context=context, extra=f"""
mode: transcribe
transcribe: {{hook: {json.dumps(str(hook))}, print_transcripts: false}}
""")
    with running_hub(run.hub, alsa_files, pcm):
        run.events.wait(lambda _: context.link.online is True, 10, "the session")
        run.events.wait(lambda _: "input_audio_buffer.commit" in fake_openai.types("in"), 20,
                        "the turn's commit")
    assert hooked.read_text() == "buy more milk\n"
