"""TLS: certificate verification is always on and cannot be switched off by config or
by the environment variables that disable it in other tools.

A local TLS server with a self-signed certificate for 127.0.0.1 stands in for a
man in the middle: the Realtime WebSocket (websocket-client) and the REST calls
(the SDK over httpx) must refuse it before sending a single request.
"""

from __future__ import annotations

import dataclasses
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from drivers.openai.chat import ChatClient
from drivers.openai.config import OpenAIConfig
from drivers.openai.realtime import OpenAIRealtimeClient
from runtime.config import HubConfig
from speech_api.errors import APIError
from tests.security.conftest import KEY

DISABLING_ENV = {"PYTHONHTTPSVERIFY": "0", "CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": "",
                 "WEBSOCKET_CLIENT_CA_BUNDLE": "", "SSL_CERT_DIR": "/nonexistent"}


class SelfSignedServer:
    """Accepts TLS connections with a self-signed certificate; counts requests that
    got through the handshake (there must be none)."""

    def __init__(self, tmp_path: Path) -> None:
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)], check=True,
                       capture_output=True, timeout=60)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.handshakes_failed = 0
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="tls-server", daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    if tls.recv(1024):
                        self.requests += 1
                        tls.sendall(b"HTTP/1.1 500 Nope\r\nContent-Length: 0\r\n\r\n")
            except (ssl.SSLError, OSError):
                self.handshakes_failed += 1

    def wait_for_handshake_failure(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.handshakes_failed == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.handshakes_failed >= 1, "the client never tried the TLS handshake"

    def __enter__(self) -> SelfSignedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def mitm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SelfSignedServer]:
    for name, value in DISABLING_ENV.items():
        monkeypatch.setenv(name, value)
    with SelfSignedServer(tmp_path) as server:
        yield server


def config(server: SelfSignedServer) -> OpenAIConfig:
    return OpenAIConfig(api_key=KEY, base_url=f"https://127.0.0.1:{server.port}/v1",
                        max_retries=0, connect_timeout_s=5, timeout_s=5,
                        max_reconnect_attempts=1)


def test_realtime_websocket_refuses_a_self_signed_certificate(mitm: SelfSignedServer) -> None:
    cfg = config(mitm)
    assert cfg.realtime_url(model="m").startswith(f"wss://127.0.0.1:{mitm.port}/v1/realtime")
    with pytest.raises(APIError) as caught:
        OpenAIRealtimeClient(cfg).open_speech_to_speech()
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    mitm.wait_for_handshake_failure()
    assert mitm.requests == 0


def test_rest_calls_refuse_a_self_signed_certificate(mitm: SelfSignedServer) -> None:
    with pytest.raises(APIError) as caught, \
            ChatClient(config(mitm)).stream([{"role": "user", "content": "hi"}]) as stream:
        list(stream)
    assert caught.value.code == "connection_error", caught.value
    mitm.wait_for_handshake_failure()
    assert mitm.requests == 0


def _field_names(cls: Any, seen: set[Any]) -> Iterator[str]:
    if cls in seen or not dataclasses.is_dataclass(cls):
        return
    seen.add(cls)
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        yield f.name
        yield from _field_names(hints.get(f.name), seen)


def test_no_setting_can_turn_verification_off() -> None:
    names = [*_field_names(HubConfig, set()), *_field_names(OpenAIConfig, set())]
    assert "base_url" in names  # the walk reaches the provider settings
    suspicious = [n for n in names
                  if any(w in n.lower() for w in ("verify", "insecure", "ssl", "tls", "cert"))]
    assert suspicious == []
