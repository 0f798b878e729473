"""The running hub from the outside: its sockets, and where its key shows up (nowhere).

A real ``maigic run`` process; /proc says what it listens on and whom it talks to.
"""

from __future__ import annotations

import json
import os
import stat
import time

from runtime.status import query_status
from tests.chaos.procstat import listening_sockets, tcp_peers
from tests.fakes.openai_server import FakeOpenAIServer
from tests.security.conftest import KEY
from tests.security.hubproc import as_other_user, hub_process
from tests.waiting import wait_until

ECHOED = "Incorrect API key provided: {key}. You can find your API key at https://example"


def connect_code(path: str) -> str:
    return (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        f"    s.connect({path!r})\n"
        "except PermissionError:\n"
        "    print('denied-by-mode'); sys.exit(0)\n"
        "print('answer:' + s.recv(100).decode())\n"
    )


def test_only_the_owner_only_status_socket_listens(server: FakeOpenAIServer) -> None:
    with hub_process(server, key=KEY) as hub:
        assert server.wait_until(lambda: "session.update" in server.types("in"), 30), \
            "the hub never talked to the provider"
        # checked while the hub runs with its provider link up (not a fixed sleep)
        wait_until(lambda: query_status(hub.socket)["state"] != "offline", 30,
                   "the provider session to be ready")
        assert listening_sockets(hub.pid) == [f"unix {hub.socket}"]
        # every TCP connection goes to the configured provider host and port
        assert tcp_peers(hub.pid) <= {("127.0.0.1", server.port)}, tcp_peers(hub.pid)
        assert stat.S_IMODE(os.stat(hub.socket).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(hub.socket.parent).st_mode) == 0o700
        assert as_other_user(connect_code(str(hub.socket))) == "denied-by-mode"
        # even with the modes loosened, the hub checks the peer's uid and says nothing
        os.chmod(hub.socket.parent, 0o755)
        os.chmod(hub.socket, 0o666)
        assert as_other_user(connect_code(str(hub.socket))) == "answer:"
        assert "refused a connection from uid 65534" in hub.log()
        assert query_status(hub.socket)["state"] in ("idle", "listening", "thinking",
                                                     "speaking")


def test_key_stays_out_of_logs_and_status_when_the_provider_echoes_it(
    server: FakeOpenAIServer,
) -> None:
    # A provider that rejects the key and quotes it back (as some do) in every handshake.
    server.script.reject_websocket(401, code="invalid_api_key", times=10**6,
                                   message=ECHOED.format(key=KEY))
    with hub_process(server, key=KEY) as hub:
        deadline = time.monotonic() + 30
        while "Incorrect API key provided" not in hub.log() and time.monotonic() < deadline:
            time.sleep(0.2)
        status = json.dumps(query_status(hub.socket))
    log = hub.log()
    assert "Incorrect API key provided" in log, log[-2000:]  # the error itself is reported
    assert KEY not in log
    assert KEY[8:-4] not in log  # no large fragment of it either
    assert KEY not in status and KEY[8:-4] not in status
