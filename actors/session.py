"""The Session actor: drives a ConversationEngine and keeps the answer's books.

It knows which response is current, how many ms of each answer item arrived
(to clamp barge-in truncation), which responses were cancelled (their late audio
is dropped), and the per-turn timing. Mode-specific work lives in the engine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from actors import messages as m
from actors.base import HubActor
from actors.engine import ConversationEngine
from actors.mailbox import AudioMailbox
from actors.turn_timing import TurnTimer
from actors.wiring import CONTROLLER, PLAYBACK, SESSION, Wiring, tell_quietly
from speech_api import AudioChunk
from speech_api import events as ev
from speech_api.barge_in import truncation_points

log = logging.getLogger(__name__)

NO_TOOLS = '{"error": "no tools are available in this mode"}'
# Reply pieces allowed in the Playback actor's inbox: a provider sending audio faster
# than Playback can take it in would otherwise grow that (unbounded) inbox without limit.
MAX_PLAYBACK_BACKLOG = 50


@dataclass(slots=True)
class _Answer:
    """Bookkeeping for the response being received."""

    response_id: str
    received_ms: dict[str, float] = field(default_factory=dict)  # item id -> ms received
    done: bool = False


class SessionActor(HubActor):
    role = SESSION

    def __init__(
        self,
        wiring: Wiring,
        engine_factory: Callable[[], ConversationEngine],
        mic: AudioMailbox,
        log_conversation: bool = False,
    ) -> None:
        super().__init__(wiring)
        self.engine_factory = engine_factory
        self.mic = mic
        self.log_conversation = log_conversation
        self.engine: ConversationEngine | None = None
        self.online = False
        self.answer: _Answer | None = None
        self.heard_items: dict[str, float] = {}  # every answer item's received ms (for truncation)
        self.cancelled: set[str] = set()
        self.cancel_next_response = False  # interrupted before response.created arrived
        self.turn_resumed = False  # the user went on: answers before the next commit are stale
        self.heard_since_commit = False  # a final transcript of the committed turn arrived
        self.awaiting_response = False
        self.timer = TurnTimer()
        self.dropped_reply_pieces = 0

    def setup(self) -> None:
        self.engine = self.engine_factory()
        self.mic.clear()  # a predecessor's unsent turn audio (its nudge died with it)
        ref = self.actor_ref
        self.engine.start(lambda event: tell_quietly(ref, m.ProviderEvent(event)))

    def release(self) -> None:
        if self.engine is not None:
            self.engine.close()

    def receive(self, message: object) -> object:
        engine = self.engine
        assert engine is not None  # set in on_start
        match message:
            case m.UserAudioReady():
                for chunk in self.mic.drain():
                    engine.send_audio(chunk)
            case m.CommitTurn(speech_end_ns=end_ns, screened=screened):
                self._supersede(engine)  # an earlier part of a monologue: its answer is stale
                self.turn_resumed = False
                self.heard_since_commit = False
                self.timer.start(end_ns)
                screen = getattr(engine, "end_turn_screened", None)
                if screened and callable(screen):
                    screen()  # maybe the room talking: the engine answers only a request
                else:
                    engine.end_turn()
                self.timer.mark("commit_sent", _now())
                self.awaiting_response = True
            case m.ResumeTurn():
                self._resume(engine)
            case m.CancelTurn():
                engine.cancel_turn()
                self.timer.cancel()
            case m.PlaybackFlushed():
                self._interrupt(engine, dict(message.played_ms))
            case m.FirstAudioWritten(at_ns=at_ns):
                self.timer.mark("first_written", at_ns)
                figures = self.timer.finish()
                if figures is not None:
                    self.wiring.hooks.turn_timed(figures)
            case m.StatusRequest():
                if self.online:
                    self.tell(CONTROLLER, m.ProviderOnline())
            case m.ProviderEvent(event=event):
                self._on_provider(engine, event)
            case _:
                self.unexpected(message)
        return None

    # --- provider events --------------------------------------------------------------

    def _on_provider(self, engine: ConversationEngine, event: ev.RealtimeEvent) -> None:
        match event:
            case ev.AudioDelta():
                self._on_audio(event)
            case ev.ResponseStarted(response_id=rid):
                self.awaiting_response = False
                if self.cancel_next_response or self.turn_resumed:
                    self.cancel_next_response = False
                    self.cancelled.add(rid)
                    engine.interrupt(True, ())
                    return
                self.answer = _Answer(rid)
                self.heard_items = {}
                self.timer.mark("response_started", event.received_at_ns)
            case ev.ResponseDone(response_id=rid, status=status):
                self._on_done(rid, status, event.transcript)
            case ev.SessionReady(reconnected=reconnected):
                self.online = True
                log.info("provider session ready%s", " (reconnected)" if reconnected else "")
                self.tell(CONTROLLER, m.ProviderOnline(reconnected))
            case ev.ConnectionLost(reason=reason):
                if self.online:
                    log.warning("provider connection lost: %s", reason)
                self._forget_answer()
                self.cancelled.clear()  # the new link will not send those responses' audio
                self.online = False
                self.tell(CONTROLLER, m.ProviderOffline(reason or "connection lost"))
            case ev.SpeechStarted():
                self.tell(CONTROLLER, m.SpeechStarted(event.received_at_ns, m.PROVIDER))
            case ev.SpeechStopped():
                self.timer.start(event.received_at_ns)  # the provider ended the turn
                self.tell(CONTROLLER, m.SpeechStopped(event.received_at_ns, m.PROVIDER))
            case ev.InputTranscript(is_final=True, text=text):
                if self.turn_resumed and _rehears_resumed_turns(engine):
                    log.debug("a transcript of a resumed turn arrived late: superseded")
                    return
                self.heard_since_commit = True
                if self.log_conversation:
                    log.info("user said: %s", text)
            case ev.FunctionCall(call_id=call_id, name=name):
                log.warning("the model called tool %r, but no tools are available", name)
                engine.tool_result(call_id, NO_TOOLS)
            case ev.ProviderError(message=text, code=code, fatal=fatal):
                log.warning("provider error%s: %s", f" ({code})" if code else "", text)
                if fatal:
                    self._forget_answer()
                    self.online = False
                    self.tell(CONTROLLER, m.ProviderOffline(f"provider error: {text}"))
            case _:
                pass  # partial transcripts and text deltas are not needed here

    def _on_audio(self, delta: ev.AudioDelta) -> None:
        answer = self.answer
        if delta.response_id in self.cancelled or answer is None or \
                answer.response_id != delta.response_id:
            return  # late audio of an interrupted answer
        if self._playback_behind():
            self.dropped_reply_pieces += 1  # audio only: control messages are never dropped
            if self.dropped_reply_pieces == 1 or self.dropped_reply_pieces % 100 == 0:
                log.warning("playback is behind: dropped %d pieces of reply audio so far",
                            self.dropped_reply_pieces)
            return
        chunk = AudioChunk.pcm(delta.pcm, delta.sample_rate, captured_at_ns=delta.received_at_ns)
        first = not answer.received_ms
        duration = chunk.duration_ms or 0.0
        answer.received_ms[delta.item_id] = answer.received_ms.get(delta.item_id, 0.0) + duration
        self.heard_items[delta.item_id] = answer.received_ms[delta.item_id]
        self.tell(PLAYBACK, m.PlayReply(chunk, delta.item_id, delta.response_id))
        if first:
            self.timer.mark("first_delta", delta.received_at_ns)
            self.tell(CONTROLLER, m.ReplyAudioStarted(delta.response_id))

    def _playback_behind(self) -> bool:
        ref = self.wiring.peers.get(PLAYBACK)
        qsize = getattr(ref.actor_inbox, "qsize", None) if ref is not None else None
        return callable(qsize) and int(qsize()) > MAX_PLAYBACK_BACKLOG  # a queue.Queue

    def _on_done(self, response_id: str, status: str, transcript: str) -> None:
        if response_id in self.cancelled:
            self.cancelled.discard(response_id)
            return
        answer = self.answer
        had_audio = bool(answer and answer.response_id == response_id and answer.received_ms)
        if answer is not None and answer.response_id == response_id:
            answer.done = True
        if self.log_conversation and transcript:
            log.info("assistant said: %s", transcript)
        if had_audio:
            self.tell(PLAYBACK, m.EndOfReply(response_id))
        self.tell(CONTROLLER, m.ReplyFinished(response_id, status, had_audio))

    # --- barge-in ---------------------------------------------------------------------

    def _interrupt(self, engine: ConversationEngine, played: dict[str, int]) -> None:
        answer = self.answer
        active = answer is not None and not answer.done
        if answer is not None and active:
            self.cancelled.add(answer.response_id)
        if self.awaiting_response and not active:
            self.cancel_next_response = True  # the answer has not even started yet
        heard = truncation_points(played, self.heard_items, answering=active)
        log.info("barge-in: %s, truncating %s", "cancelling the answer" if active
                 else "no answer in progress", heard or "nothing")
        if (active or heard) and self.online:  # offline, the provider has no answer to stop
            engine.interrupt(active, heard)
        self.answer = None
        self.awaiting_response = False
        self.timer.cancel()

    # --- the user went on speaking ---------------------------------------------------

    def _supersede(self, engine: ConversationEngine) -> None:
        """Drop the answer still on its way (the user's turn is not over after all)."""
        answer = self.answer
        if answer is not None and not answer.done:
            self.cancelled.add(answer.response_id)
            if self.online:
                engine.interrupt(True, ())
        elif self.awaiting_response:
            self.cancel_next_response = True  # cancelled when it starts
        self.answer = None
        self.awaiting_response = False
        self.timer.cancel()

    def _resume(self, engine: ConversationEngine) -> None:
        """Take the committed turn back: its answer is dropped and the audio that follows
        extends it (local engines re-hear the whole turn; a realtime conversation keeps the
        committed item, and the next commit asks for one answer to both)."""
        self._supersede(engine)
        self.turn_resumed = True  # an answer starting before the next commit is stale
        resume = getattr(engine, "resume_turn", None)
        if callable(resume) and resume():
            self.cancel_next_response = False  # the engine dropped that answer itself
        if _rehears_resumed_turns(engine) and self.heard_since_commit:
            # the engine hears the whole turn again: the last transcript is not the turn's
            log.info("the user went on speaking: the turn continues "
                     "(the transcript above is superseded; the whole turn is heard again)")
        else:
            log.info("the user went on speaking: the turn continues")

    def _forget_answer(self) -> None:
        self.answer = None
        self.awaiting_response = False
        self.cancel_next_response = False
        self.timer.cancel()


def _rehears_resumed_turns(engine: ConversationEngine) -> bool:
    """Engines with ``resume_turn`` hear a resumed turn again from its start."""
    return callable(getattr(engine, "resume_turn", None))


def _now() -> int:
    return time.monotonic_ns()
