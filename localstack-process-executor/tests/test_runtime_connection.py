"""The runtime survives a reset connection to LocalStack: it reports again, and the invoke
gets the handler's answer rather than Runtime.ExitError.

A function's environment variables may override LOCALSTACK_RUNTIME_ENDPOINT (LocalStack
lets them override everything), so the runtime is pointed at a small proxy in this test
that forwards to LocalStack and resets one chosen connection.
"""

from __future__ import annotations

import base64
import http.client
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from sfnlab.testing.functions import invoke

HANDLER = """
import os

def handler(event, context):
    if event.get("long"):  # more than goes with the response: the logs go first, apart
        print("x" * 8000)
    return {"pid": os.getpid(), "echo": event}
"""
# What the runtime posts (after the base URL): status/<runtime id>/ready, invocations/...
STATUS = re.compile(r"^/status/(?P<runtime>[0-9a-f]+)/")


class ResettingProxy(ThreadingHTTPServer):
    """Forwards the runtime's reports to LocalStack's executor endpoint; resets the first
    connection whose path ends with `reset_suffix`, before or after forwarding it."""

    daemon_threads = True

    def __init__(self, localstack: str, reset_suffix: str, forward_first: bool) -> None:
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.localstack = urlsplit(localstack)
        self.reset_suffix = reset_suffix
        self.forward_first = forward_first
        self.runtime_id = ""
        self.resets = 0
        # If set: a connection reset after forwarding waits for this first.
        self.hold: threading.Event | None = None
        self.seen: list[str] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProxyHandler(BaseHTTPRequestHandler):
    server: ResettingProxy

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        proxy = self.server
        status = STATUS.match(self.path)
        with proxy.lock:
            if status:
                proxy.runtime_id = status.group("runtime")
            proxy.seen.append(self.path)
            reset = self.path.endswith(proxy.reset_suffix) and proxy.resets == 0
            if reset:
                proxy.resets += 1
        if reset and not proxy.forward_first:
            self.reset()
            return
        answer = self.forward(body)
        if reset:
            if proxy.hold is not None:
                proxy.hold.wait(timeout=30)
            self.reset()  # LocalStack has taken it, but the runtime never hears so
            return
        self.send_response(answer.status)
        data = answer.read()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def forward(self, body: bytes) -> http.client.HTTPResponse:
        target = self.server.localstack
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        path = f"/_localstack_lambda/{self.server.runtime_id}{self.path}"
        # The runtime's own headers go along (the invocation's logs may travel in one).
        headers = {k: v for k, v in self.headers.items() if k.lower().startswith("x-")}
        connection.request("POST", path, body, {"Content-Type": "application/json", **headers})
        return connection.getresponse()

    def reset(self) -> None:
        # SO_LINGER 0: close() sends RST, the runtime sees "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@contextmanager
def resetting_proxy(localstack, reset_suffix: str, forward_first: bool) -> Iterator:
    proxy = ResettingProxy(localstack.endpoint, reset_suffix, forward_first)
    threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()


@pytest.mark.parametrize(
    ("report", "forward_first", "long"),
    [
        ("/response", False, False),  # reset before LocalStack got the response: sent again
        ("/response", True, False),  # reset after LocalStack took it: the second is refused
        ("/response", False, True),  # the same, after the long logs went on their own
        ("/logs", False, True),
        ("/ready", False, False),
    ],
)
def test_a_reset_connection_to_localstack_is_retried(
    localstack, lambda_client, create_function, report, forward_first, long
):
    with resetting_proxy(localstack, report, forward_first) as proxy:
        name = create_function(HANDLER, environment={"LOCALSTACK_RUNTIME_ENDPOINT": proxy.url})
        first = invoke(lambda_client, name, {"n": 1, "long": long}, LogType="Tail")
        second = invoke(lambda_client, name, {"n": 2})
    assert proxy.resets == 1
    assert "FunctionError" not in first, first["Payload"]
    assert first["Payload"]["echo"] == {"n": 1, "long": long}
    # The same process answered again: the reset did not cost the environment.
    assert second["Payload"] == {"pid": first["Payload"]["pid"], "echo": {"n": 2}}
    assert any(path.endswith(report) for path in proxy.seen)
    # The logs arrived with the answer, whichever way they went.
    tail = base64.b64decode(first["LogResult"]).decode(errors="replace")
    assert tail.splitlines()[-1].startswith("REPORT RequestId:")
    assert ("x" * 100 in tail) is long


def test_a_report_taken_before_its_connection_broke_does_not_answer_the_next_invocation(
    localstack, lambda_client, create_function
):
    """The runtime reports a response again after its connection broke, though LocalStack
    had taken it; meanwhile the next invocation has begun. That late report must not
    become the next invocation's answer."""
    with resetting_proxy(localstack, "/response", forward_first=True) as proxy:
        proxy.hold = threading.Event()
        name = create_function(HANDLER, environment={"LOCALSTACK_RUNTIME_ENDPOINT": proxy.url})
        first = invoke(lambda_client, name, {"n": 1})  # answered; the runtime still waits
        second: dict = {}
        late = threading.Thread(target=lambda: second.update(invoke(lambda_client, name, {"n": 2})))
        late.start()
        time.sleep(1)  # the second invocation is under way
        proxy.hold.set()  # now the runtime's first report breaks, and is sent again
        late.join(timeout=60)
    assert first["Payload"]["echo"] == {"n": 1}
    assert second["Payload"] == {"pid": first["Payload"]["pid"], "echo": {"n": 2}}
