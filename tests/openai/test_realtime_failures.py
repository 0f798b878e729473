"""How the Realtime session survives (or clearly reports) a misbehaving link."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from drivers.openai.config import OpenAIConfig
from drivers.openai.realtime import OpenAIRealtimeClient, OpenAIRealtimeSession
from speech_api.errors import APIError
from speech_api.events import (
    AudioDelta,
    ConnectionLost,
    ProviderError,
    ResponseDone,
    SessionReady,
)
from tests.fakes.openai_script import Reply, tone_pcm
from tests.fakes.openai_server import FakeOpenAIServer
from tests.openai.helpers import send_all, utterance, wait_for


def start(config: OpenAIConfig) -> OpenAIRealtimeSession:
    session = OpenAIRealtimeClient(config).open_speech_to_speech(system_prompt="Replay me.")
    session.initialize_session()
    wait_for(session, SessionReady)
    return session


def test_wrong_key_is_fatal_and_not_retried(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    bad = dataclasses.replace(config, api_key="sk-wrong-key-that-must-not-leak-123")
    with pytest.raises(APIError) as info:
        OpenAIRealtimeClient(bad).open_speech_to_speech()
    error = info.value
    assert (error.status, error.code, error.retryable) == (401, "invalid_api_key", False)
    assert "sk-wrong-key-that-must-not-leak-123" not in str(error)
    assert server.realtime_connections == 0
    assert len([r for r in server.requests if r.method == "GET"]) == 1


def test_dropped_mid_response_reconnects_replays_settings_and_goes_on(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    server.script.add_reply(Reply(audio=tone_pcm(2000), drop_after_audio_deltas=2))
    server.script.add_reply(Reply(text="after the drop", audio=tone_pcm(300)))
    session = start(config)
    try:
        send_all(session, utterance())
        _lost, events = wait_for(session, ConnectionLost)
        assert sum(isinstance(e, AudioDelta) for e in events) == 2
        ready, _ = wait_for(session, SessionReady)
        assert ready.reconnected is True
        send_all(session, utterance())
        done, _ = wait_for(session, ResponseDone)
    finally:
        session.close()
    assert done.transcript == "after the drop" and done.status == "completed"
    assert server.realtime_connections == 2 and session.reconnects == 1
    updates = [f.payload for f in server.frames_of("in") if f.type == "session.update"]
    assert len(updates) == 2 and updates[0] == updates[1]  # the same settings, replayed
    assert updates[1]["session"]["instructions"] == "Replay me."


def test_refused_handshakes_are_retried_with_backoff(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    session = start(config)
    try:
        server.script.reject_websocket(503, times=3)
        server.drop_realtime_connections()
        wait_for(session, ConnectionLost)
        ready, _ = wait_for(session, SessionReady)
    finally:
        session.close()
    assert ready.reconnected
    handshakes = [r for r in server.requests if r.method == "GET"]
    assert len(handshakes) == 5  # first, three refused, the one that worked


def test_down_link_refuses_control_messages_and_gives_up_after_the_limit(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    limited = dataclasses.replace(config, max_reconnect_attempts=3)
    session = start(limited)
    try:
        server.script.reject_websocket(503, times=100)
        server.drop_realtime_connections()
        wait_for(session, ConnectionLost)
        with pytest.raises(APIError) as info:
            session.commit()
        assert info.value.code in ("not_connected", "session_closed")
        error, _ = wait_for(session, ProviderError)
    finally:
        session.close()
    assert error.fatal and error.code is not None
    assert session.closed


def test_malformed_and_unknown_frames_are_logged_and_dropped(
    server: FakeOpenAIServer, config: OpenAIConfig, caplog: pytest.LogCaptureFixture
) -> None:
    server.script.frames_after_connect += [
        "{this is not json",
        json.dumps({"type": "response.audio.delta", "delta": "AAAA"}),  # a beta name
        json.dumps({"type": "totally.unknown"}),
        json.dumps({"type": "response.output_audio.delta", "delta": "!!"}),  # fields missing
    ]
    with caplog.at_level(logging.WARNING, logger="drivers.openai"):
        session = start(config)
        try:
            send_all(session, utterance())
            done, _ = wait_for(session, ResponseDone)
        finally:
            session.close()
    assert done.status == "completed"
    assert session.dropped_frames == 4
    assert "malformed realtime frame" in caplog.text
    assert "'response.audio.delta'" in caplog.text and "'totally.unknown'" in caplog.text


def test_quota_error_event_ends_the_session_without_retry(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    server.script.frames_after_connect.append(
        json.dumps(
            {
                "type": "error",
                "event_id": "event_1",
                "error": {
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                    "message": "You exceeded your current quota.",
                },
            }
        )
    )
    session = OpenAIRealtimeClient(config).open_speech_to_speech()
    try:
        error, _ = wait_for(session, ProviderError)
        assert error.fatal and error.code == "insufficient_quota"
        assert server.wait_until(lambda: session.closed)
    finally:
        session.close()
    assert server.realtime_connections == 1


def test_key_rejected_on_reconnect_is_fatal(server: FakeOpenAIServer, config: OpenAIConfig) -> None:
    session = start(config)
    try:
        server.script.reject_websocket(401, code="invalid_api_key")
        server.drop_realtime_connections()
        wait_for(session, ConnectionLost)
        error, _ = wait_for(session, ProviderError)
    finally:
        session.close()
    assert error.fatal and error.code == "invalid_api_key"
    assert len([r for r in server.requests if r.method == "GET"]) == 2


def test_silent_link_is_detected_as_dead_and_replaced(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    session = start(config)
    try:
        server.script.frozen = True  # no frames, no pongs
        started = time.monotonic()
        lost, _ = wait_for(session, ConnectionLost, timeout=5)
        noticed_after = time.monotonic() - started
        server.script.frozen = False
        ready, _ = wait_for(session, SessionReady)
    finally:
        session.close()
    assert "no data from the server" in lost.reason
    assert noticed_after < 4 * config.dead_link_after_s  # a generous correctness deadline
    assert ready.reconnected


def test_connection_refused_is_a_retryable_error(config: OpenAIConfig) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nowhere = dataclasses.replace(config, base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(APIError) as info:
        OpenAIRealtimeClient(nowhere).open_speech_to_speech()
    assert info.value.retryable and info.value.code == "connection_error"


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_server_that_never_answers_times_out(config: OpenAIConfig, black_hole: int) -> None:
    hung = dataclasses.replace(
        config, base_url=f"http://127.0.0.1:{black_hole}/v1", connect_timeout_s=0.5
    )
    started = time.monotonic()
    with pytest.raises(APIError) as info:
        OpenAIRealtimeClient(hung).open_speech_to_speech()
    assert time.monotonic() - started < 5
    assert info.value.retryable


def test_a_long_answer_with_nothing_to_send_still_pings_the_server(
    server: FakeOpenAIServer, config: OpenAIConfig
) -> None:
    """While an answer streams in and the client sends nothing (the mic closed), the link
    still pings: a server that drops clients silent for a while keeps this one."""
    server.script.add_reply(Reply(audio=tone_pcm(3000), chunk_ms=100, pace_s=0.1))
    session = start(config)
    try:
        send_all(session, utterance())
        server.wait_until(lambda: any(f.type == "response.output_audio.delta"
                                      for f in server.frames_of("out")))
        before = server.pings_received
        done, _ = wait_for(session, ResponseDone)
        during = server.pings_received - before
    finally:
        session.close()
    assert done.status == "completed"
    # 3 s of deltas 0.1 s apart, never 0.2 s quiet: only the silence on our side pings
    assert during >= 3, during
