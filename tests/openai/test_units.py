"""Unit checks of the pure pieces: wire mapping, the event queue, error mapping, PCM."""

from __future__ import annotations

import base64
import json
import threading

import numpy as np
import pytest

from drivers.openai import realtime_wire as wire
from drivers.openai.errors import redact
from drivers.openai.event_queue import EventQueue
from drivers.openai.pcm24k import Pcm24kConverter
from speech_api.audio import AudioChunk, AudioFormat
from speech_api.errors import AudioError
from speech_api.events import (
    AudioDelta,
    FunctionCall,
    ProviderError,
    RealtimeSessionConfig,
    ResponseDone,
    SessionReady,
    SpeechStarted,
    TurnDetection,
)
from tests.fakes.openai_validation import check_client_event


def audio(n: int) -> AudioDelta:
    return AudioDelta(response_id="r", item_id="i", content_index=0, pcm=bytes([n % 256]) * 2)


def test_queue_drops_oldest_audio_and_keeps_control_events() -> None:
    queue = EventQueue(max_audio=3)
    queue.put(SessionReady())
    for n in range(6):
        queue.put(audio(n))
    queue.put(ResponseDone(response_id="r"))
    got = []
    while (event := queue.get(0)) is not None:
        got.append(event)
    assert isinstance(got[0], SessionReady) and isinstance(got[-1], ResponseDone)
    assert [e.pcm[0] for e in got if isinstance(e, AudioDelta)] == [3, 4, 5]
    assert queue.dropped_audio == 3


def test_queue_get_waits_for_a_put_and_times_out() -> None:
    queue = EventQueue()
    assert queue.get(0.05) is None
    timer = threading.Timer(0.05, lambda: queue.put(SessionReady()))
    timer.start()
    assert isinstance(queue.get(2), SessionReady)
    timer.join()
    queue.put(audio(1))
    queue.put(SpeechStarted())
    assert queue.clear_audio() == 1 and isinstance(queue.get(0), SpeechStarted)
    with pytest.raises(ValueError, match="max_audio"):
        EventQueue(0)


@pytest.mark.parametrize("turn", list(TurnDetection))
@pytest.mark.parametrize("kind", ["realtime", "transcription"])
def test_session_update_validates_against_the_sdk(turn: TurnDetection, kind: str) -> None:
    config = RealtimeSessionConfig(
        turn_detection=turn,
        language="de",
        prompt="names",
        noise_reduction="far_field",
        instructions="hi",
        tools=(
            {
                "type": "function",
                "function": {"name": "f", "parameters": {"type": "object", "properties": {}}},
            },
        ),
    )
    event = wire.session_update(wire.SessionSettings(kind=kind, config=config))  # type: ignore[arg-type]
    assert check_client_event(event) == []
    audio_in = event["session"]["audio"]["input"]
    assert audio_in["format"] == {"type": "audio/pcm", "rate": 24000}
    assert audio_in["noise_reduction"] == {"type": "far_field"}
    assert (audio_in["turn_detection"] is None) == (turn is TurnDetection.NONE)
    if kind == "realtime":
        assert event["session"]["tools"][0]["name"] == "f"


@pytest.mark.parametrize(
    "event",
    [
        wire.append_audio(b"\x00\x01"),
        wire.truncate("item_1", 0, 120),
        wire.tool_result("call_1", "{}"),
        {"type": "response.cancel"},
        {"type": "input_audio_buffer.commit"},
        {"type": "input_audio_buffer.clear"},
    ],
)
def test_client_frames_validate(event: dict[str, object]) -> None:
    assert check_client_event(event) == []


def test_mapper_turns_frames_into_events_and_drops_garbage() -> None:
    mapper = wire.ServerEventMapper()
    mapper.expect_ready(reconnected=True)
    (ready,) = mapper.map(json.dumps({"type": "session.updated", "session": {}}))
    assert ready == SessionReady(reconnected=True, received_at_ns=ready.received_at_ns)
    (again,) = mapper.map(json.dumps({"type": "session.updated", "session": {}}))
    assert isinstance(again, SessionReady) and not again.reconnected
    pcm = b"\x01\x02\x03\x04"
    (delta,) = mapper.map(
        json.dumps(
            {
                "type": "response.output_audio.delta",
                "response_id": "r",
                "item_id": "i",
                "output_index": 0,
                "content_index": 0,
                "delta": base64.b64encode(pcm).decode(),
            }
        )
    )
    assert isinstance(delta, AudioDelta) and delta.pcm == pcm
    (call,) = mapper.map(
        json.dumps(
            {
                "type": "response.function_call_arguments.done",
                "response_id": "r",
                "item_id": "i",
                "output_index": 0,
                "call_id": "c",
                "name": "n",
                "arguments": "{}",
            }
        )
    )
    assert isinstance(call, FunctionCall) and call.name == "n"
    (error,) = mapper.map(
        json.dumps(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                    "message": "bad",
                },
            }
        )
    )
    assert isinstance(error, ProviderError) and error.fatal
    for garbage in [
        "",
        "[]",
        "{}",
        '{"type": 5}',
        "nope",
        '{"type":"x.y"}',
        '{"type":"response.output_audio.delta","delta":"***"}',
    ]:
        assert mapper.map(garbage) == []
    assert mapper.dropped_frames == 7
    assert mapper.map(json.dumps({"type": "rate_limits.updated", "rate_limits": []})) == []
    assert mapper.dropped_frames == 7  # known but uninteresting events are not "dropped"


def test_redact_masks_keys_anywhere() -> None:
    text = "Incorrect API key provided: sk-proj-abcdef123456. Also rk-xyz987654321 and secret"
    out = redact(text, ["secret"])
    assert "abcdef123456" not in out and "xyz987654321" not in out and "secret" not in out


def test_pcm_converter_resamples_downmixes_and_rejects_encoded_audio() -> None:
    converter = Pcm24kConverter()
    same = AudioChunk.pcm(b"\x01\x00" * 480, 24000)
    assert converter.convert(same) == same.data
    stereo16k = np.zeros((1600, 2), dtype="<i2")
    stereo16k[:, 0] = 1000
    out = converter.convert(AudioChunk.pcm(stereo16k.tobytes(), 16000, channels=2))
    assert abs(len(out) // 2 - 2400) < 100
    eight_bit = AudioChunk(
        data=bytes([128]) * 240, sample_rate=24000, bit_depth=8, format=AudioFormat.PCM
    )
    assert converter.convert(eight_bit) == bytes(480)
    with pytest.raises(AudioError, match="decode it first"):
        converter.convert(AudioChunk(data=b"RIFF....", format=AudioFormat.WAV))
