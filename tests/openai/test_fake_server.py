"""The fake server itself: it catches protocol mistakes and behaves like the real one."""

from __future__ import annotations

import base64
import json
import threading

import httpx2
import pytest
import websocket

from tests.fakes.openai_script import tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer


def raw_ws(server: FakeOpenAIServer, query: str = "model=gpt-realtime") -> websocket.WebSocket:
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/v1/realtime?{query}",
        header=[f"Authorization: Bearer {server.api_key}"],
        suppress_origin=True,
        timeout=5,
    )
    assert json.loads(ws.recv())["type"] == "session.created"
    return ws


def frames_until(ws: websocket.WebSocket, kind: str) -> list[dict[str, object]]:
    got = []
    while True:
        frame = json.loads(ws.recv())
        got.append(frame)
        if frame["type"] == kind:
            return got


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ({"type": "response.audio.delta"}, "does not match any of the expected tags"),  # beta name
        ({"type": "session.update", "session": {"instructions": "hi"}}, "Field required"),
        (
            {"type": "session.update", "session": {"type": "realtime", "intructions": "typo"}},
            "undeclared key $.session.intructions",
        ),
        (
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
                },
            },
            "Input should be 24000",
        ),
    ],
)
def test_bad_client_frames_are_violations_and_get_an_error_event(
    frame: dict[str, object], problem: str
) -> None:
    with FakeOpenAIServer() as server:
        ws = raw_ws(server)
        ws.send(json.dumps(frame))
        reply = json.loads(ws.recv())
        ws.close()
    assert reply["type"] == "error" and reply["error"]["code"] == "invalid_event"
    assert any(problem in v for v in server.violations), server.violations
    with pytest.raises(AssertionError, match="protocol violations"):
        server.assert_valid()


def test_sent_frames_are_recorded_and_valid_both_ways() -> None:
    with FakeOpenAIServer() as server:
        ws = raw_ws(server)
        ws.send(
            json.dumps(
                {
                    "type": "session.update",
                    "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
                }
            )
        )
        frames_until(ws, "session.updated")
        ws.send(
            json.dumps(
                {
                    "type": "input_audio_buffer.append",
                    "audio": base64.b64encode(tone_pcm(300)).decode(),
                }
            )
        )
        ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
        ws.send(json.dumps({"type": "response.create"}))
        frames_until(ws, "response.done")
        ws.close()
    server.assert_valid()
    assert server.types("in") == [
        "session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "response.create",
    ]
    out = server.types("out")
    assert out[0] == "session.created" and out[-1] == "response.done"
    assert "speech_started" not in " ".join(out)  # VAD off: the client committed


def test_server_vad_hears_energy_not_silence() -> None:
    with FakeOpenAIServer() as server:
        ws = raw_ws(server)
        silence = base64.b64encode(bytes(48000)).decode()  # 1 s of silence
        ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": silence}))
        speech = base64.b64encode(tone_pcm(400) + bytes(48000)).decode()
        ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": speech}))
        got = frames_until(ws, "input_audio_buffer.speech_stopped")
        ws.close()
    started = next(f for f in got if f["type"] == "input_audio_buffer.speech_started")
    stopped = got[-1]
    assert started["audio_start_ms"] == 1000  # the silence before did not count as speech
    assert stopped["audio_end_ms"] == 1400


def test_rest_errors_have_the_openai_shape_and_unknown_paths_404() -> None:
    with FakeOpenAIServer() as server:
        server.script.fail_http(
            "/v1/audio/speech", 429, code="rate_limit_exceeded", retry_after_ms=5
        )
        with httpx2.Client(base_url=server.base_url) as http:
            auth = {"Authorization": f"Bearer {server.api_key}"}
            limited = http.post("/audio/speech", json={}, headers=auth)
            missing = http.post("/nope", json={}, headers=auth)
            unauthorized = http.post("/chat/completions", json={})
    assert limited.status_code == 429 and limited.headers["retry-after-ms"] == "5"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert set(missing.json()["error"]) == {"message", "type", "param", "code"}
    assert missing.status_code == 404 and unauthorized.status_code == 401


def test_stop_ends_hung_requests_and_every_thread() -> None:
    before = set(threading.enumerate())
    server = FakeOpenAIServer().start()
    server.script.never_answer = True
    errors: list[BaseException] = []

    def hang() -> None:
        try:
            httpx2.post(f"{server.base_url}/chat/completions", json={}, timeout=10)
        except httpx2.HTTPError as exc:
            errors.append(exc)

    client = threading.Thread(target=hang)
    client.start()
    assert server.wait_until(lambda: len(server.requests) == 1)
    server.stop()
    client.join(5)
    assert not client.is_alive() and errors
    assert [t for t in threading.enumerate() if t not in before] == []
