"""The library's voice agents from a plain asyncio program: real speech, the fake server,
real alsa-lib for the speaker; history, barge-in, provider failures."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.alsa_speaker import AlsaSpeaker
from drivers.local.turns import VadTurnDetector
from drivers.openai import (
    ChatClient,
    OpenAIConfig,
    OpenAIRealtimeClient,
    OpenAISpeechToTextClient,
    OpenAITextToSpeechClient,
)
from speech_api import APIError, AudioChunk, FileAudioSource, load_audio
from speech_api.agents import ChainedAgent, RealtimeAgent, VoiceAgent
from speech_api.events import (
    AudioDelta,
    InputTranscript,
    RealtimeEvent,
    ResponseDone,
    SpeechStarted,
    TranscriptDelta,
    TurnTiming,
)
from speech_api.sinks import MemorySink
from tests.alsa.alsa_harness import PLAYBACK_PCM, AlsaFiles
from tests.fakes.openai_script import ChatReply, Reply
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import LIBRIVOX

ROOT = Path(__file__).resolve().parents[2]
SPEECH = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"


def chained(config: OpenAIConfig, sink: MemorySink, **kwargs: object) -> ChainedAgent:
    return ChainedAgent(OpenAISpeechToTextClient(config), ChatClient(config),
                        OpenAITextToSpeechClient(config), sink, **kwargs)  # type: ignore[arg-type]


async def events_of(agent: VoiceAgent, source: FileAudioSource) -> list[RealtimeEvent]:
    return [event async for event in agent.run(source)]


def test_chained_agent_speaks_sentence_by_sentence_and_remembers(
        server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.transcript = "tell me a story"
    server.script.add_chat_reply(ChatReply(text="Once upon a time. Dr. Who came. The end."))
    server.script.add_chat_reply(ChatReply(text="Again?"))
    sink = MemorySink()
    agent = chained(config, sink)
    first = asyncio.run(events_of(agent, FileAudioSource(SPEECH)))
    sentences = [e.delta for e in first if isinstance(e, TranscriptDelta)]
    assert sentences == ["Once upon a time.", "Dr. Who came.", "The end."]
    audio = b"".join(e.pcm for e in first if isinstance(e, AudioDelta))
    assert audio and sink.pcm == audio
    assert {item for item, _ in sink.chunks} == {e.item_id for e in first
                                                 if isinstance(e, TranscriptDelta)}
    done = [e for e in first if isinstance(e, ResponseDone)]
    assert [(d.status, d.transcript) for d in done] == [
        ("completed", "Once upon a time. Dr. Who came. The end.")]
    timing = next(e for e in first if isinstance(e, TurnTiming))
    assert timing.transcribed_ms is not None and timing.first_audio_ms is not None
    assert timing.transcribed_ms <= timing.first_audio_ms <= timing.total_ms

    asyncio.run(events_of(agent, FileAudioSource(SPEECH)))
    second = [r.body for r in server.requests if r.path.endswith("/chat/completions")][1]
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
    assert second["messages"][1]["content"] == "Once upon a time. Dr. Who came. The end."


def test_chained_agent_barge_in_cancels_the_answer_when_the_user_speaks_again(
        server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    speech = load_audio(SPEECH)
    pause = bytes(16000 * 2)  # 1 s
    talk = AudioChunk.pcm(pause[:16000] + speech.data + pause + speech.data + pause * 2, 16000)
    long_answer = " ".join(["word"] * 60) + "."
    server.script.add_chat_reply(ChatReply(text=long_answer, pace_s=0.2))  # 12 s of writing
    server.script.add_chat_reply(ChatReply(text="Yes?"))
    sink = MemorySink()
    agent = chained(config, sink, turns=VadTurnDetector())
    events = asyncio.run(asyncio.wait_for(
        events_of(agent, FileAudioSource(talk, realtime=True)), 60))
    assert sum(isinstance(e, SpeechStarted) for e in events) == 2
    done = [(e.status, e.transcript) for e in events if isinstance(e, ResponseDone)]
    assert done == [("cancelled", ""), ("completed", "Yes?")]
    finals = [e for e in events if isinstance(e, InputTranscript) and e.is_final]
    assert len(finals) == 2


def test_a_chat_failure_ends_the_answer_and_raises_the_api_error(
        server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.fail_http("/chat/completions", 500, times=5)
    seen: list[RealtimeEvent] = []

    async def run() -> None:
        async for event in chained(config, MemorySink()).run(FileAudioSource(SPEECH)):
            seen.append(event)

    with pytest.raises(APIError) as info:
        asyncio.run(run())
    assert info.value.status == 500
    assert [e.status for e in seen if isinstance(e, ResponseDone)] == ["failed"]


def test_realtime_agent_barge_in_truncates_to_what_the_speaker_played(
        server: FakeOpenAIServer, config: OpenAIConfig, alsa_files: AlsaFiles) -> None:
    server.script.add_reply(Reply(text="x" * 150))  # 3 s of answer audio, sent at once

    async def converse() -> list[RealtimeEvent]:
        speaker = AlsaSpeaker(PLAYBACK_PCM, 24000)
        session = await OpenAIRealtimeClient(config).connect_speech_to_speech()
        await session.initialize_session()
        agent = RealtimeAgent(session, speaker)

        items: list[str] = []  # the answer's item id, once its audio arrives

        async def barge_in_after_300_ms() -> None:
            while not items or speaker.played_ms(items[0]) < 300:
                await asyncio.sleep(0.02)  # polling the played position, as a UI would
            await agent.interrupt()

        events: list[RealtimeEvent] = []
        waiter = asyncio.create_task(barge_in_after_300_ms())
        try:
            async for event in agent.run(FileAudioSource(SPEECH)):
                events.append(event)
                if isinstance(event, AudioDelta) and not items:
                    items.append(event.item_id)
            await asyncio.wait_for(waiter, 10)
        finally:
            await session.close()
            await speaker.close()
        return events

    asyncio.run(asyncio.wait_for(converse(), 60))
    truncates = [f.payload for f in server.frames_of("in", "realtime")
                 if f.type == "conversation.item.truncate"]
    assert len(truncates) == 1
    assert 300 <= truncates[0]["audio_end_ms"] < 3000


def test_the_readme_offline_chained_agent_runs_against_a_chat_server(
        server: FakeOpenAIServer, tmp_path: Path) -> None:
    readme = (ROOT / "examples" / "README.md").read_text()
    found = re.search(r"<!-- offline-chained-agent -->\n```python\n(.*?)```", readme, re.S)
    assert found is not None
    code = found.group(1)
    assert len(code.strip().splitlines()) < 30
    script = tmp_path / "agent.py"
    script.write_text(code)
    server.script.add_chat_reply(ChatReply(text="He was a decent man."))
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env.update(CHAT_URL=server.base_url, CHAT_KEY=server.api_key, PYTHONPATH=str(ROOT))
    reply = tmp_path / "reply.wav"
    result = subprocess.run([sys.executable, str(script), str(SPEECH), str(reply)],
                            capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stderr
    heard, answered = result.stdout.splitlines()
    assert {"not", "young", "man"} <= set(heard.split()), heard
    assert answered == "assistant: He was a decent man."
    assert (load_audio(reply).duration_ms or 0) > 500


def _two_questions() -> AudioChunk:
    speech = load_audio(SPEECH)
    pause = bytes(16000 * 2)  # 1 s
    return AudioChunk.pcm(pause[:16000] + speech.data + pause * 2 + speech.data + pause * 2,
                          16000)


def test_realtime_agent_barge_in_when_the_provider_hears_the_user_again(
        server: FakeOpenAIServer, config: OpenAIConfig, alsa_files: AlsaFiles) -> None:
    server.script.add_reply(Reply(text="x" * 400))  # 8 s of answer: still playing at question 2

    async def converse() -> list[RealtimeEvent]:
        speaker = AlsaSpeaker(PLAYBACK_PCM, 24000)
        session = await OpenAIRealtimeClient(config).connect_speech_to_speech()
        await session.initialize_session()
        try:
            agent = RealtimeAgent(session, speaker)
            return [e async for e in agent.run(FileAudioSource(_two_questions(), realtime=True))]
        finally:
            await session.close()
            await speaker.close()

    events = asyncio.run(asyncio.wait_for(converse(), 90))
    assert sum(isinstance(e, SpeechStarted) for e in events) == 2
    truncates = [f.payload for f in server.frames_of("in", "realtime")
                 if f.type == "conversation.item.truncate"]
    assert len(truncates) == 1
    assert 0 < truncates[0]["audio_end_ms"] < 8000  # what the speaker had played, not all


def test_hybrid_agent_offline_barge_in_on_the_users_next_words(
        server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    from drivers.local.stt import LocalSpeechToTextClient
    from drivers.local.tts import LocalTextToSpeechClient
    from speech_api.agents import HybridAgent

    server.script.add_chat_reply(ChatReply(text=" ".join(["word"] * 60) + ".", pace_s=0.2))
    server.script.add_chat_reply(ChatReply(text="Yes?"))
    agent = HybridAgent(LocalSpeechToTextClient(), ChatClient(config), LocalTextToSpeechClient(),
                        MemorySink())
    events = asyncio.run(asyncio.wait_for(
        events_of(agent, FileAudioSource(_two_questions(), realtime=True)), 90))
    finals = [e.text for e in events if isinstance(e, InputTranscript) and e.is_final]
    assert len(finals) == 2 and all("man" in text.split() for text in finals), finals
    done = [(e.status, e.transcript) for e in events if isinstance(e, ResponseDone)]
    assert done == [("cancelled", ""), ("completed", "Yes?")]
