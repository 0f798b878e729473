"""The chat-model interface the chained and hybrid voice agents talk to.

A :class:`ChatModel` streams one answer to a list of Chat Completions messages
as :data:`ChatEvent` values: :class:`TextDelta` pieces as the model writes,
one :class:`ToolCallRequest` per function call (whole, once its arguments are
complete), and a final :class:`ChatDone`. The stream is blocking (providers are
written once as blocking code, as the speech clients are) and ``cancel()`` may
be called from any thread to stop it at once. ``drivers.openai.ChatClient``
implements it for any OpenAI-compatible server.

:class:`ToolBox` is what a set of function tools offers the model;
:class:`ToolRunner` is the one place every agent and engine runs a model's
calls; :func:`tool_exchange` builds the messages that record a round of them.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """The model wants ``name`` run with ``arguments`` (a JSON string)."""

    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatDone:
    """The answer is complete (``finish_reason`` stop, length, tool_calls, ...)."""

    finish_reason: str
    text: str = ""
    tool_calls: tuple[ToolCallRequest, ...] = ()
    usage: dict[str, int] = field(default_factory=dict)


ChatEvent = TextDelta | ToolCallRequest | ChatDone


class ChatAnswer(Protocol):
    """One streamed answer: iterate it for events; ``cancel()`` stops it (any thread)."""

    def __iter__(self) -> Iterator[ChatEvent]: ...

    def cancel(self) -> None: ...


class ChatModel(Protocol):
    """Anything that streams chat answers (``drivers.openai.ChatClient``)."""

    def stream(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]] | None = None
    ) -> ChatAnswer:
        """Start an answer; raises ``APIError`` (when iterated) if the provider fails."""
        ...


class ToolBox(Protocol):
    """Function tools a model may call (the hub's ``SkillRegistry`` is one)."""

    def tool_specs(self, *, nested: bool = False) -> list[dict[str, Any]]:
        """JSON-schema tool descriptions (``nested``: the Chat Completions shape)."""
        ...

    def call_tool(self, name: str, arguments_json: str) -> str:
        """Run a tool; never raises: problems come back as an ``error: ...`` string."""
        ...


ToolHook = Callable[[str, str, str], None]  # (tool name, arguments JSON, result), after each call


class ToolRunner:
    """Runs a model's function calls on a :class:`ToolBox` (none: every call is an error
    result the model can read), keeps the last ``keep`` calls and tells ``on_call``.

    Thread-safe. The hub passes its logging as ``on_call`` (what a tool was asked
    carries what the user said, so the hub decides what may be logged).
    """

    def __init__(self, tools: ToolBox | None, *, on_call: ToolHook | None = None,
                 keep: int = 20) -> None:
        self.tools = tools
        self.on_call = on_call
        self._calls: deque[tuple[str, str, str]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def specs(self) -> list[dict[str, Any]] | None:
        """The tools in the Chat Completions shape; None when there are none to offer."""
        return self.tools.tool_specs(nested=True) if self.tools is not None else None

    def run(self, name: str, arguments: str) -> str:
        """The tool's result (never raises for a tool's own problem: ``error: ...``)."""
        if self.tools is None:
            output = f"error: no tool named {name!r}"
        else:
            output = self.tools.call_tool(name, arguments)
        with self._lock:
            self._calls.append((name, arguments, output))
        if self.on_call is not None:
            self.on_call(name, arguments, output)
        return output

    @property
    def calls(self) -> list[tuple[str, str, str]]:
        """The most recent calls, oldest first: (tool, arguments, result)."""
        with self._lock:
            return list(self._calls)


def tool_exchange(calls: Sequence[ToolCallRequest], outputs: Sequence[str]) -> list[Message]:
    """The messages recording one round of tool calls and their results, in order."""
    if len(calls) != len(outputs):
        raise ValueError(f"{len(calls)} tool calls but {len(outputs)} results")
    asked: Message = {"role": "assistant", "content": None, "tool_calls": [
        {"id": c.call_id, "type": "function",
         "function": {"name": c.name, "arguments": c.arguments}} for c in calls]}
    answered = [{"role": "tool", "tool_call_id": c.call_id,
                 "content": json.dumps({"result": output})}
                for c, output in zip(calls, outputs, strict=True)]
    return [asked, *answered]
