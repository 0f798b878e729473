"""The offline skills as function tools of an online model.

:class:`ToolRunningEngine` wraps an online engine: a ``FunctionCall`` event runs
``SkillRegistry.call_tool`` on the hub and the result goes straight back to the
model (``tool_result``), which then answers in a new response. The Session actor
never sees the call, and the ``ResponseDone`` of the response that only asked
for the tool is held back so the conversation stays in THINKING until the
spoken answer arrives.
"""

from __future__ import annotations

import logging
import threading
from functools import partial

from actors.engine import ConversationEngine, Emit
from actors.engines.delegating import DelegatingEngine
from drivers.local.skills import SkillRegistry
from speech_api.chat import ToolRunner
from speech_api.events import FunctionCall, RealtimeEvent, ResponseDone

log = logging.getLogger(__name__)


def log_tool_call(name: str, arguments: str, output: str, log_conversation: bool) -> None:
    """A tool's arguments and result carry what the user said: logged only when allowed."""
    if log_conversation:
        log.info("tool %s(%s) -> %s", name, arguments, output)
    else:
        log.info("tool %s called", name)


class ToolRunningEngine(DelegatingEngine):
    def __init__(self, inner: ConversationEngine, skills: SkillRegistry,
                 *, log_conversation: bool = False) -> None:
        super().__init__(inner)
        self.skills = skills
        self.log_conversation = log_conversation
        self.tools = ToolRunner(skills, on_call=partial(log_tool_call,
                                                        log_conversation=log_conversation))
        self._tool_responses: set[str] = set()
        self._lock = threading.Lock()

    def start(self, emit: Emit) -> None:
        self.inner.start(lambda event: self._on_event(event, emit))

    def _on_event(self, event: RealtimeEvent, emit: Emit) -> None:
        if isinstance(event, FunctionCall):
            self.run_call(event)
            return
        if isinstance(event, ResponseDone):
            with self._lock:
                asked_for_tool = event.response_id in self._tool_responses
                self._tool_responses.discard(event.response_id)
            if asked_for_tool and not event.transcript:
                return  # the model goes on in a new response once it has the result
        emit(event)

    @property
    def calls(self) -> list[tuple[str, str, str]]:
        """The latest tool calls: (tool, arguments, result)."""
        return self.tools.calls

    def run_call(self, call: FunctionCall) -> None:
        output = self.tools.run(call.name, call.arguments)
        if call.response_id:
            with self._lock:
                self._tool_responses.add(call.response_id)
        self.inner.tool_result(call.call_id, output)
