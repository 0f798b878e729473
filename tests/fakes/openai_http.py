"""The fake server's HTTP side: routing, auth, injected failures, the Realtime upgrade.

Each request runs in its own thread (``ThreadingHTTPServer``); REST answers go out
through the :class:`tests.fakes.openai_rest.Exchange` methods below (JSON,
chunked bodies, SSE), and a WebSocket upgrade hands the socket to a
:class:`tests.fakes.openai_realtime.RealtimeConnection`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes import openai_rest as rest
from tests.fakes.openai_realtime import RealtimeConnection
from tests.fakes.openai_script import FakeScript, HttpFailure
from tests.fakes.ws_server import ServerWebSocket, accept_key

if TYPE_CHECKING:
    from tests.fakes.openai_server import FakeOpenAIServer, _HTTPServer


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class _ClientGoneError(Exception):
    """The client hung up while we were answering."""


MODEL_LIST = {
    "object": "list",
    "data": [
        {"id": name, "object": "model", "created": 1756339200, "owned_by": "system"}
        for name in ("gpt-realtime", "gpt-4o-mini", "gpt-4o-mini-transcribe", "gpt-4o-mini-tts")
    ],
}


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    timeout = 30  # also drops a Realtime client silent for 30 s, as a real server may

    @property
    def fake(self) -> FakeOpenAIServer:
        return self.server.fake

    @property
    def script(self) -> FakeScript:
        return self.fake.script

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test output stays readable; frames are recorded instead

    # --- routing --------------------------------------------------------------------

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/v1/realtime" and self.headers.get("Upgrade", "").lower() == "websocket":
            self._realtime()
        elif path == "/v1/models":  # the cheap reachability probe `maigic doctor` makes
            self.fake.requests.append(RecordedRequest("GET", path, dict(self.headers.items()), b""))
            if self._gate(path):
                self.send_json(200, MODEL_LIST)
        else:
            self.send_error_json(404, f"Invalid URL (GET {path})", code="unknown_url")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        routes: dict[str, Callable[[rest.Exchange, Any], None]] = {
            "/v1/audio/transcriptions": rest.transcriptions,
            "/v1/audio/speech": rest.speech,
            "/v1/chat/completions": rest.chat_completions,
        }
        body = self._read_body()
        self.fake.requests.append(RecordedRequest("POST", path, dict(self.headers.items()), body))
        self.fake.record("in", path, body, validate=False)
        if not self._gate(path):
            return
        route = routes.get(path)
        try:
            if route is None:
                self.send_error_json(404, f"Invalid URL (POST {path})", code="unknown_url")
            else:
                route(self, body)
        except _ClientGoneError:
            self.close_connection = True

    def _gate(self, path: str) -> bool:
        """Think time, hangs, auth and injected failures; False if already answered."""
        self.pause(self.script.think_s)
        if self.script.never_answer:
            self.fake.stopping.wait()
            self.close_connection = True
            return False
        if not self._authorized():
            return False
        failure = self.script.take_http_failure(path)
        if failure is not None:
            self._send_failure(failure)
            return False
        return True

    def _authorized(self) -> bool:
        auth = self.headers.get("Authorization", "")
        if auth == f"Bearer {self.fake.api_key}":
            return True
        given = auth.removeprefix("Bearer ")
        # The real API echoes (part of) a wrong key; echo all of it so tests prove
        # that the client scrubs keys from everything it reports.
        self.send_error_json(401, f"Incorrect API key provided: {given}.", code="invalid_api_key")
        return False

    def _send_failure(self, failure: HttpFailure) -> None:
        headers = {}
        if failure.retry_after_ms is not None:
            headers["retry-after-ms"] = str(failure.retry_after_ms)
        self._write(
            failure.status, "application/json", json.dumps(failure.body()).encode(), headers
        )

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            return _parse_multipart(ctype, raw)
        if ctype.startswith("application/json"):
            try:
                return json.loads(raw or b"null")
            except ValueError:
                self.fake.violation(f"{self.path}: request body is not valid JSON")
        return raw

    # --- Realtime -------------------------------------------------------------------

    def _realtime(self) -> None:
        self.close_connection = True
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        headers = dict(self.headers.items())
        self.fake.requests.append(RecordedRequest("GET", self.path, headers, None))
        if "OpenAI-Beta" in self.headers:
            self.fake.violation("realtime handshake sent an OpenAI-Beta header (GA has none)")
        rejection = self.script.take_ws_rejection()
        if rejection is not None:
            self._send_failure(rejection)
            return
        if not self._authorized():
            return
        if "intent" not in query and "model" not in query:
            self.send_error_json(400, "Missing required parameter: 'model'.", param="model")
            return
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header(
            "Sec-WebSocket-Accept", accept_key(self.headers.get("Sec-WebSocket-Key", ""))
        )
        self.end_headers()
        self.wfile.flush()
        ws = ServerWebSocket(self.connection, self.rfile)
        conn = RealtimeConnection(
            self.fake, ws, intent=query.get("intent"), model=query.get("model", "")
        )
        self.fake._register(conn, live=True)
        try:
            conn.serve()
        finally:
            self.fake._register(conn, live=False)

    # --- the Exchange the endpoints answer through -----------------------------------

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            self.fake.stopping.wait(seconds)

    def send_json(
        self, status: int, body: object, *, validate: Callable[[Any], list[str]] | None = None
    ) -> None:
        self.fake.record("out", urlsplit(self.path).path, body, validate=False, validator=validate)
        self._write(status, "application/json", json.dumps(body).encode())

    def send_error_json(
        self, status: int, message: str, *, code: str | None = None, param: str | None = None
    ) -> None:
        err_type = "invalid_request_error" if status < 500 else "server_error"
        self.send_json(
            status, {"error": {"message": message, "type": err_type, "param": param, "code": code}}
        )

    def send_body(self, status: int, content_type: str, body: bytes) -> None:
        self._write(status, content_type, body)

    def start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data: bytes) -> None:
        if not data:
            return
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except OSError as exc:
            raise _ClientGoneError from exc

    def sse(self, event: object, validate: Callable[[Any], list[str]] | None = None) -> None:
        self.fake.record("out", urlsplit(self.path).path, event, validate=False, validator=validate)
        self.write_chunk(b"data: " + json.dumps(event).encode() + b"\n\n")

    def end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError as exc:
            raise _ClientGoneError from exc

    def _write(
        self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError as exc:
            raise _ClientGoneError from exc


def _parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """Form fields as str, files as ``(filename, bytes)``; ``name[]`` parts as lists."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    form: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if not isinstance(name, str):
            continue
        if filename:
            form[name] = (filename, data)
        elif name.endswith("[]"):
            form.setdefault(name[:-2], []).append(data.decode())
        else:
            form[name] = data.decode()
    return form
