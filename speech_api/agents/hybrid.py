"""The hybrid voice agent: realtime transcription, then a chat model, then text-to-speech.

The user's words arrive live (``transcribe_realtime`` of any speech-to-text
client: OpenAI's Realtime transcription, or the local recogniser), so turn ends
come from the transcriber; each final transcript is answered by the chat model
and spoken sentence by sentence. A partial transcript while the agent speaks
is barge-in.
"""

from __future__ import annotations

from typing import Any

from speech_api.agents.base import Emit, Stopwatch, new_id
from speech_api.agents.responder import ChatVoiceAgent
from speech_api.events import InputTranscript, RealtimeSessionConfig
from speech_api.sources import AudioSource


class HybridAgent(ChatVoiceAgent):
    """``HybridAgent(stt, chat, tts, sink, *, transcription=None, barge_in=True,
    **AnswerOptions)`` (``tools``, ``instructions``, ``history``, ``voice``, ``language``,
    ``max_tool_rounds``)."""

    def __init__(self, *args: Any, transcription: RealtimeSessionConfig | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transcription = transcription or RealtimeSessionConfig(language=self.language)

    async def _drive(self, source: AudioSource, emit: Emit) -> None:
        async for event in self.stt.transcribe_realtime(source, self.transcription):
            item_id = event.item_id or "input"
            emit(InputTranscript(item_id=item_id, text=event.text, is_final=event.is_final))
            if not event.is_final:
                if self.answering and self.barge_in:
                    await self.interrupt()
                continue
            if event.text.strip():
                await self._finish_answer()
                watch = Stopwatch(new_id("hybrid"), event.received_at_ns)
                watch.transcribed_ms = 0.0  # the transcript ends the turn
                self._start_answer(self.responder.respond(event.text, emit, watch))
        await self._finish_answer()
        await self.sink.drain()
