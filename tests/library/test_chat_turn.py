"""The one chat -> text-to-speech loop (speech_api.chat_turn.ChatTurn) on its own: the real
chat client against the fake OpenAI server, the real local voice (flite); barge-in, tool
rounds, and a history that keeps only what was spoken."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from drivers.local.tts import LocalTextToSpeechClient
from drivers.openai import ChatClient, OpenAIConfig
from speech_api.audio import AudioChunk
from speech_api.chat import ToolRunner
from speech_api.chat_turn import (
    ChatTurn,
    SentenceAudio,
    ToolAnswered,
    ToolCalled,
    TurnDone,
    TurnEvent,
)
from speech_api.history import ConversationHistory
from tests.fakes.openai_script import ChatReply, ToolCall
from tests.fakes.openai_server import FakeOpenAIServer

COUNTING = "One. Two. Three. Four. Five. Six."


class Voice:
    """The local voice, remembering which sentences' synthesis was closed before its end."""

    def __init__(self) -> None:
        self.tts = LocalTextToSpeechClient(engine="flite", chunk_ms=40.0)
        self.closed_early: list[str] = []

    def speak(self, sentence: str) -> Iterator[AudioChunk]:
        finished = False
        try:
            yield from self.tts.synthesize_stream_blocking(sentence)
            finished = True
        finally:
            if not finished:
                self.closed_early.append(sentence)


class Clock:
    """A ToolBox with one tool."""

    def tool_specs(self, *, nested: bool = False) -> list[dict[str, Any]]:
        function = {"name": "get_time", "description": "The time now.",
                    "parameters": {"type": "object", "properties": {}}}
        return [{"type": "function", "function": function}] if nested else [function]

    def call_tool(self, name: str, arguments_json: str) -> str:
        return "ten past two" if name == "get_time" else f"error: no tool named {name!r}"


def chat_requests(server: FakeOpenAIServer) -> list[dict[str, Any]]:
    return [r.body for r in server.requests if r.path.endswith("/chat/completions")]


def test_a_cancel_while_a_sentence_is_synthesised_stops_its_voice_and_the_chat(
        server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.add_chat_reply(ChatReply(text=COUNTING, pace_s=0.3))
    voice, history = Voice(), ConversationHistory(10)
    turn = ChatTurn(ChatClient(config), voice.speak, history)
    after_cancel: list[TurnEvent] = []
    for event in turn.run("count to six"):
        if turn.cancelled:
            after_cancel.append(event)
        elif isinstance(event, SentenceAudio) and turn.spoken == ["One."]:
            turn.cancel()  # the first piece of "Two." is out: barge-in
    assert after_cancel == [TurnDone("cancelled", ("One.",))]
    assert voice.closed_early == ["Two."]  # its synthesis was closed, not run to the end
    assert history.messages(None, []) == [{"role": "user", "content": "count to six"},
                                          {"role": "assistant", "content": "One."}]


def test_a_cancel_from_another_thread_unblocks_a_turn_waiting_for_the_chat_model(
        server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.add_chat_reply(ChatReply(text=COUNTING, pace_s=60.0))  # a word a minute
    history = ConversationHistory(10)
    turn = ChatTurn(ChatClient(config), Voice().speak, history)
    events: list[TurnEvent] = []
    worker = threading.Thread(target=lambda: events.extend(turn.run("count to six")),
                              daemon=True)
    worker.start()
    assert server.wait_until(lambda: any(f.channel.endswith("/chat/completions")
                                         for f in server.frames_of("out")), 30)
    turn.cancel()  # the worker is reading the stream, the first word a minute away
    worker.join(15)
    assert not worker.is_alive(), "the chat stream was not closed by cancel()"
    assert events == [TurnDone("cancelled", ())]
    assert len(history) == 0


def test_a_tool_round_runs_the_tool_and_the_answer_goes_on_with_its_result(
        server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    call = ToolCall(name="get_time")
    server.script.add_chat_reply(ChatReply(text="", tool_calls=(call,)))
    server.script.add_chat_reply(ChatReply(text="It is ten past two."))
    seen: list[tuple[str, str, str]] = []
    tools = ToolRunner(Clock(), on_call=lambda *record: seen.append(record))
    history = ConversationHistory(10)
    events = list(ChatTurn(ChatClient(config), Voice().speak, history, tools=tools)
                  .run("what time is it"))

    tool_events = [e for e in events if isinstance(e, ToolCalled | ToolAnswered)]
    assert [type(e) for e in tool_events] == [ToolCalled, ToolAnswered]
    assert isinstance(tool_events[1], ToolAnswered) and tool_events[1].output == "ten past two"
    assert seen == tools.calls == [("get_time", "{}", "ten past two")]
    assert events[-1] == TurnDone("completed", ("It is ten past two.",))
    first, second = chat_requests(server)
    assert first["tools"][0]["function"]["name"] == "get_time"
    asked, answered = second["messages"][-2:]
    assert asked["tool_calls"][0]["id"] == call.call_id
    assert answered == {"role": "tool", "tool_call_id": call.call_id,
                        "content": json.dumps({"result": "ten past two"})}
    kept = history.messages(None, [])
    assert [m["role"] for m in kept] == ["user", "assistant", "tool", "assistant"]
    assert kept[-1]["content"] == "It is ten past two."


def test_tool_rounds_stop_at_the_limit_and_an_unspoken_turn_leaves_no_history(
        server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    for _ in range(4):
        server.script.add_chat_reply(ChatReply(text="", tool_calls=(ToolCall(name="get_time"),)))
    history = ConversationHistory(10)
    turn = ChatTurn(ChatClient(config), Voice().speak, history, tools=ToolRunner(Clock()),
                    max_tool_rounds=1)
    events = list(turn.run("what time is it"))
    assert len(chat_requests(server)) == 2
    assert sum(isinstance(e, ToolAnswered) for e in events) == 2
    assert events[-1] == TurnDone("completed", ())
    assert len(history) == 0  # nothing was said


def test_a_tool_called_when_none_was_offered_answers_with_an_error_result(
        server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.add_chat_reply(ChatReply(text="", tool_calls=(ToolCall(name="launch"),)))
    server.script.add_chat_reply(ChatReply(text="I cannot."))
    events = list(ChatTurn(ChatClient(config), Voice().speak, ConversationHistory(10))
                  .run("launch it"))
    answered = next(e for e in events if isinstance(e, ToolAnswered))
    assert answered.output == "error: no tool named 'launch'"
    assert "tools" not in chat_requests(server)[0]
    assert events[-1] == TurnDone("completed", ("I cannot.",))
