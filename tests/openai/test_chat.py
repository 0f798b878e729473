"""Streaming chat completions (chained mode) against the fake server."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import pytest

from drivers.openai.chat import ChatClient, ChatDone, TextDelta, ToolCallRequest, chat_tool
from drivers.openai.config import OpenAIConfig
from speech_api.errors import APIError
from tests.fakes.openai_script import ChatReply, ToolCall
from tests.fakes.openai_server import FakeOpenAIServer

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
TOOL = {
    "type": "function",
    "name": "set_timer",
    "description": "Start a timer",
    "parameters": {"type": "object", "properties": {"minutes": {"type": "integer"}}},
}


def chat_bodies(server: FakeOpenAIServer) -> list[dict[str, object]]:
    return [r.body for r in server.requests if r.path == "/v1/chat/completions"]


def test_text_streams_in_deltas_then_done(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.add_chat_reply(ChatReply(text="Hello there friend"))
    events = list(ChatClient(config, model="gpt-4o-mini").stream(MESSAGES))
    assert events[:-1] == [TextDelta("Hello"), TextDelta(" there"), TextDelta(" friend")]
    done = events[-1]
    assert isinstance(done, ChatDone)
    assert (done.finish_reason, done.text, done.tool_calls) == ("stop", "Hello there friend", ())
    assert done.usage["total_tokens"] > 0
    body = chat_bodies(server)[0]
    assert body["stream"] is True and body["messages"] == MESSAGES
    assert body["stream_options"] == {"include_usage": True}


def test_tool_calls_are_assembled_from_fragments(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    server.script.add_chat_reply(
        ChatReply(
            text="",
            tool_calls=(
                ToolCall("set_timer", '{"minutes": 5}', "call_a"),
                ToolCall("set_timer", '{"minutes": 10}', "call_b"),
            ),
        )
    )
    events = list(ChatClient(config).stream(MESSAGES, tools=[TOOL]))
    calls = [e for e in events if isinstance(e, ToolCallRequest)]
    assert calls == [
        ToolCallRequest("call_a", "set_timer", '{"minutes": 5}'),
        ToolCallRequest("call_b", "set_timer", '{"minutes": 10}'),
    ]
    assert json.loads(calls[1].arguments) == {"minutes": 10}
    done = events[-1]
    assert isinstance(done, ChatDone) and done.finish_reason == "tool_calls"
    sent_tools = chat_bodies(server)[0]["tools"]
    assert sent_tools == [chat_tool(TOOL)]
    assert chat_tool(TOOL)["function"]["name"] == "set_timer"


def test_cancel_stops_the_stream_at_once(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.add_chat_reply(ChatReply(text="word " * 100, pace_s=0.05))
    stream = ChatClient(config).stream(MESSAGES)
    received = []
    started = time.monotonic()
    for event in stream:
        received.append(event)
        if len(received) == 3:
            threading.Thread(target=stream.cancel).start()
    elapsed = time.monotonic() - started
    assert stream.cancelled
    assert 3 <= len(received) < 20 and not any(isinstance(e, ChatDone) for e in received)
    assert elapsed < 3  # the full answer would take 5 s


def test_closing_the_context_cancels(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    server.script.add_chat_reply(ChatReply(text="word " * 100, pace_s=0.05))
    with ChatClient(config).stream(MESSAGES) as stream:
        first = next(iter(stream))
    assert first == TextDelta("word")
    assert stream.cancelled


def test_errors_become_api_errors_without_the_key(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    server.script.fail_http(
        "/v1/chat/completions",
        429,
        times=3,
        code="insufficient_quota",
        message="You exceeded your current quota",
    )
    with pytest.raises(APIError) as info:
        list(ChatClient(config).stream(MESSAGES))
    assert (info.value.status, info.value.code, info.value.retryable) == (
        429,
        "insufficient_quota",
        False,
    )
    bad = dataclasses.replace(config, api_key="sk-chat-wrong-key-0987654321")
    with pytest.raises(APIError) as info:
        list(ChatClient(bad).stream(MESSAGES))
    assert info.value.status == 401 and "sk-chat-wrong-key-0987654321" not in str(info.value)


def test_bad_input_is_refused_clearly(config: OpenAIConfig) -> None:
    with pytest.raises(ValueError, match="at least one message"):
        ChatClient(config).stream([])
    with pytest.raises(ValueError, match="needs a string 'name'"):
        chat_tool({"description": "no name"})
