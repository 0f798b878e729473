"""One scripted Realtime response, streamed by the fake server in its own thread.

Speaks a :class:`Reply` (audio deltas interleaved with transcript deltas) or makes
its function call, in the GA event order of ``openai-audio-protocol.md`` §3.3;
stops early on cancel (``response.done`` cancelled) or a scripted network drop.
"""

from __future__ import annotations

import base64
import threading
from typing import TYPE_CHECKING, Any

from tests.fakes.openai_script import SAMPLE_RATE, Reply, new_id

if TYPE_CHECKING:
    from tests.fakes.openai_realtime import RealtimeConnection


class ResponseRun:
    """Streams one scripted response; stops early on cancel or a scripted drop."""

    def __init__(self, conn: RealtimeConnection, reply: Reply) -> None:
        self.conn = conn
        self.reply = reply
        self.id = new_id("resp")
        self.finished = threading.Event()
        self._cancelled = threading.Event()
        self._reason = ""

    def cancel(self, reason: str) -> None:
        self._reason = reason
        self._cancelled.set()

    def _wait(self, seconds: float) -> bool:
        """Sleep; True if cancelled (or the server is stopping) meanwhile."""
        if seconds > 0:
            self._cancelled.wait(seconds)
        return self._cancelled.is_set() or self.conn.server.stopping.is_set()

    def response(self, status: str, output: list[dict[str, Any]]) -> dict[str, Any]:
        details = None
        if status == "cancelled":
            details = {"type": "cancelled", "reason": self._reason}
        voice = self.conn.session["audio"]["output"].get("voice", "marin")
        return {
            "object": "realtime.response",
            "id": self.id,
            "status": status,
            "status_details": details,
            "output": output,
            "conversation_id": self.conn.conversation_id,
            "output_modalities": ["audio"],
            "max_output_tokens": "inf",
            "audio": {
                "output": {"format": {"type": "audio/pcm", "rate": SAMPLE_RATE}, "voice": voice}
            },
            "usage": None,
            "metadata": None,
        }

    def run(self) -> None:
        try:
            created = self.response("in_progress", [])
            self.conn.send({"type": "response.created", "response": created})
            if self._wait(self.reply.think_s):
                self._done("cancelled", [])
            elif self.reply.tool_call is not None:
                self._tool_call()
            else:
                self._speak()
        finally:
            self.finished.set()

    def _done(self, status: str, output: list[dict[str, Any]]) -> None:
        self.conn.send({"type": "response.done", "response": self.response(status, output)})

    def _tool_call(self) -> None:
        call = self.reply.tool_call
        assert call is not None
        item = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": call.name,
            "call_id": call.call_id,
            "arguments": "",
        }
        where = {"response_id": self.id, "item_id": item["id"], "output_index": 0}
        self.conn.send(
            {
                "type": "response.output_item.added",
                "response_id": self.id,
                "output_index": 0,
                "item": item,
            }
        )
        self.conn.send(
            {
                "type": "response.function_call_arguments.delta",
                **where,
                "call_id": call.call_id,
                "delta": call.arguments,
            }
        )
        self.conn.send(
            {
                "type": "response.function_call_arguments.done",
                **where,
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            }
        )
        done = {**item, "status": "completed", "arguments": call.arguments}
        self.conn.send(
            {
                "type": "response.output_item.done",
                "response_id": self.id,
                "output_index": 0,
                "item": done,
            }
        )
        self.conn.finish_item(done, None)
        self._done("completed", [done])

    def _speak(self) -> None:
        reply, conn = self.reply, self.conn
        item = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        where = {
            "response_id": self.id,
            "item_id": item["id"],
            "output_index": 0,
            "content_index": 0,
        }
        conn.send(
            {
                "type": "response.output_item.added",
                "response_id": self.id,
                "output_index": 0,
                "item": item,
            }
        )
        conn.send(
            {
                "type": "response.content_part.added",
                **where,
                "part": {"type": "audio", "transcript": ""},
            }
        )
        pcm = reply.pcm()
        step = SAMPLE_RATE * reply.chunk_ms // 1000 * 2
        chunks = [pcm[i : i + step] for i in range(0, len(pcm), step)]
        words = reply.text.split(" ")
        sent_ms, said = 0, 0
        for index, chunk in enumerate(chunks):
            if self._wait(0) or (index and self._wait(reply.pace_s)):
                break
            upto = len(words) * (index + 1) // len(chunks)
            if upto > said:
                delta = " ".join(words[said:upto])
                conn.send(
                    {
                        "type": "response.output_audio_transcript.delta",
                        **where,
                        "delta": delta if said == 0 else " " + delta,
                    }
                )
                said = upto
            conn.send(
                {
                    "type": "response.output_audio.delta",
                    **where,
                    "delta": base64.b64encode(chunk).decode(),
                }
            )
            sent_ms += len(chunk) * 1000 // (2 * SAMPLE_RATE)
            conn.finish_item(item, sent_ms)
            if reply.drop_after_audio_deltas == index + 1:
                conn.ws.abort()
                return
        text = " ".join(words[:said])
        status = "cancelled" if self._cancelled.is_set() else "completed"
        final = {
            **item,
            "status": "incomplete" if status == "cancelled" else "completed",
            "content": [{"type": "output_audio", "transcript": text}],
        }
        if status == "completed":
            conn.send({"type": "response.output_audio.done", **where})
            conn.send(
                {"type": "response.output_audio_transcript.done", **where, "transcript": text}
            )
            conn.send(
                {
                    "type": "response.content_part.done",
                    **where,
                    "part": {"type": "audio", "transcript": text},
                }
            )
        conn.send(
            {
                "type": "response.output_item.done",
                "response_id": self.id,
                "output_index": 0,
                "item": final,
            }
        )
        self._done(status, [final])
