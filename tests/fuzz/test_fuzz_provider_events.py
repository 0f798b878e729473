"""Fuzz the Realtime server events: every frame is mapped cleanly or dropped cleanly.

Two levels: the mapper the session's reader thread runs on each frame (fast, many
examples), and the whole session over a real WebSocket from the fake server (the
frames arrive right after connect; afterwards the session must still answer a turn).
Wild values, wrong types, truncated JSON, huge payloads, bad base64, deep nesting and
out-of-order events must end as well-typed events or as a logged drop, never as an
exception, a dead reader thread or a hang.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import fields
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.openai.config import OpenAIConfig
from drivers.openai.realtime import OpenAIRealtimeClient
from drivers.openai.realtime_wire import ServerEventMapper
from speech_api.events import (
    AudioDelta,
    RealtimeEvent,
    RealtimeSessionConfig,
    ResponseDone,
    SessionReady,
    TurnDetection,
)
from tests.fakes.openai_server import FakeOpenAIServer

# One valid example of every server event the mapper reads fields from.
VALID: dict[str, dict[str, Any]] = {
    "session.updated": {"session": {"type": "realtime"}},
    "input_audio_buffer.speech_started": {"item_id": "item_1", "audio_start_ms": 120},
    "input_audio_buffer.speech_stopped": {"item_id": "item_1", "audio_end_ms": 900},
    "conversation.item.input_audio_transcription.delta": {"item_id": "item_1", "delta": "hi"},
    "conversation.item.input_audio_transcription.completed": {"item_id": "item_1",
                                                              "transcript": "hi there"},
    "conversation.item.input_audio_transcription.failed": {
        "item_id": "item_1", "error": {"message": "nope", "code": "x"}},
    "response.created": {"response": {"id": "resp_1"}},
    "response.output_audio.delta": {"response_id": "resp_1", "item_id": "item_2",
                                    "content_index": 0, "delta": base64.b64encode(b"\0\1" * 8)
                                    .decode()},
    "response.output_audio_transcript.delta": {"response_id": "resp_1", "item_id": "item_2",
                                               "delta": "Hel"},
    "response.output_text.delta": {"response_id": "resp_1", "item_id": "item_2", "delta": "lo"},
    "response.function_call_arguments.done": {"call_id": "c1", "name": "get_time",
                                              "arguments": "{}", "response_id": "resp_1",
                                              "item_id": "item_3"},
    "response.done": {"response": {"id": "resp_1", "status": "completed", "output": [
        {"content": [{"transcript": "Hello"}]}]}},
    "error": {"error": {"message": "bad", "code": "invalid_value"}},
}


def frame(kind: str, **overrides: Any) -> dict[str, Any]:
    return {"type": kind, **VALID[kind], **overrides}


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)
BAD_BASE64 = st.sampled_from(["", "=", "A", "AAA", "!!!!", "QUJD\n", "AA==AA==", "AQ==",
                              "\u00e9\u00e9\u00e9\u00e9", "QUJDRA"])

# --- what a cleanly mapped event looks like ---------------------------------------------

_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "received_at_ns": (int,), "reconnected": (bool,), "reason": (str,), "item_id": (str,),
    "audio_start_ms": (int,), "audio_end_ms": (int,), "text": (str,), "is_final": (bool,),
    "response_id": (str,), "content_index": (int,), "pcm": (bytes,), "sample_rate": (int,),
    "delta": (str,), "call_id": (str,), "name": (str,), "arguments": (str,), "status": (str,),
    "transcript": (str,), "message": (str,), "code": (str, type(None)), "fatal": (bool,),
}


def assert_well_typed(event: RealtimeEvent) -> None:
    for f in fields(event):
        value = getattr(event, f.name)
        expected = _FIELD_TYPES[f.name]
        assert isinstance(value, expected) and not (
            bool not in expected and isinstance(value, bool)), (event, f.name)
    if isinstance(event, AudioDelta):
        assert len(event.pcm) % 2 == 0, "PCM16 audio must be a whole number of samples"


def map_cleanly(raw: str) -> list[RealtimeEvent]:
    mapper = ServerEventMapper()
    before = mapper.dropped_frames
    events = mapper.map(raw)
    assert isinstance(events, list)
    for event in events:
        assert_well_typed(event)
    if not events and mapper.dropped_frames == before:
        kind = _type_of(raw)
        assert kind not in VALID or kind == "session.updated", f"silently ignored {raw[:200]}"
    return events


def _type_of(raw: str) -> object:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value.get("type") if isinstance(value, dict) else None


# --- the mapper -----------------------------------------------------------------------------


@st.composite
def wild_frames(draw: st.DrawFn) -> str:
    """A known event type whose fields are replaced, removed or added at random."""
    kind = draw(st.sampled_from(sorted(VALID)))
    body = frame(kind)
    for key in draw(st.lists(st.sampled_from(sorted(body)), max_size=3, unique=True)):
        if key == "type":
            continue
        if draw(st.booleans()):
            body[key] = draw(JSON_VALUES)
        else:
            del body[key]
    if "delta" in body and kind == "response.output_audio.delta" and draw(st.booleans()):
        body["delta"] = draw(BAD_BASE64)
    return json.dumps(body)


@settings(max_examples=600, deadline=None)
@given(wild_frames())
def test_valid_shapes_with_wild_values(raw: str) -> None:
    map_cleanly(raw)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(VALID)), st.data())
def test_truncated_json(kind: str, data: st.DataObject) -> None:
    raw = json.dumps(frame(kind))
    cut = data.draw(st.integers(0, len(raw) - 1))
    assert map_cleanly(raw[:cut]) == []


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=200), JSON_VALUES.map(json.dumps)))
def test_arbitrary_text_and_json(raw: str) -> None:
    map_cleanly(raw)


def test_valid_frames_map_to_events() -> None:
    for kind in VALID:
        events = map_cleanly(json.dumps(frame(kind)))
        assert len(events) == 1, kind


def test_huge_payloads_and_deep_nesting_are_clean() -> None:
    pcm = b"\x01\x02" * 2_000_000  # 4 MB of audio in one delta
    big = frame("response.output_audio.delta", delta=base64.b64encode(pcm).decode())
    (event,) = map_cleanly(json.dumps(big))
    assert isinstance(event, AudioDelta) and event.pcm == pcm
    assert map_cleanly(json.dumps(frame("response.output_audio_transcript.delta",
                                        delta="x" * 5_000_000)))
    for depth in (100, 5_000, 200_000):
        assert map_cleanly('{"type": "error", "error": ' + "[" * depth + "]" * depth + "}") \
            == []
        assert map_cleanly("[" * depth) == []


def test_odd_length_audio_is_dropped() -> None:
    odd = frame("response.output_audio.delta", delta=base64.b64encode(b"\0\1\2").decode())
    assert map_cleanly(json.dumps(odd)) == []


def test_numbers_out_of_range_are_dropped() -> None:
    for value in (1e309, -1e309, 2**80, "12", True):
        raw = json.dumps(frame("input_audio_buffer.speech_started", audio_start_ms=value))
        assert map_cleanly(raw.replace("Infinity", "1e999")) == [], value


# --- the whole session over a real WebSocket ----------------------------------------------

FRAME_LISTS = st.lists(
    st.one_of(
        wild_frames(),
        st.sampled_from(sorted(VALID)).map(lambda k: json.dumps(frame(k))[:-3]),  # truncated
        BAD_BASE64.map(lambda b: json.dumps(frame("response.output_audio.delta", delta=b))),
        st.sampled_from(sorted(VALID)).map(lambda k: json.dumps(frame(k))),  # out of order
        st.just("[" * 100_000),
    ),
    min_size=1, max_size=12,
)


def run_turn_after(frames: list[str]) -> list[RealtimeEvent]:
    """Open a session that first receives ``frames``; it must still complete a turn."""
    with FakeOpenAIServer() as server:
        server.script.frames_after_connect = frames
        client = OpenAIRealtimeClient(OpenAIConfig(api_key=server.api_key,
                                                   base_url=server.base_url,
                                                   max_reconnect_attempts=1))
        session = client.open_speech_to_speech(
            session_config=RealtimeSessionConfig(turn_detection=TurnDetection.NONE))
        events: list[RealtimeEvent] = []
        try:
            session.initialize_session()
            session.send_pcm24k(b"\x10\x00" * 4800)
            session.commit()
            session.create_response()
            while not any(isinstance(e, ResponseDone) and e.response_id.startswith("resp_0")
                          for e in events):
                event = session.next_event(timeout=10)
                assert event is not None, f"no event for 10 s; got {events[-5:]}"
                assert_well_typed(event)
                events.append(event)
        finally:
            session.close()
        assert any(isinstance(e, SessionReady) for e in events)
    return events


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRAME_LISTS)
def test_session_survives_any_frames_and_still_answers(frames: list[str]) -> None:
    threads = set(threading.enumerate())
    run_turn_after(frames)
    left = [t for t in set(threading.enumerate()) - threads if t.is_alive()]
    assert not left, left
