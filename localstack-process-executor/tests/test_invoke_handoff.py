"""The runtime acknowledges an invocation before its handler can run.

Once an invocation is handed to the handler's thread, the handler may end the process at
once (os._exit): the acknowledgement must already be on its way, or the executor takes
the invocation for undelivered (a 500 from Invoke instead of Runtime.ExitError).
Here the hand-over never returns, standing for a process that ends at that moment.
"""

from __future__ import annotations

import http.client
import json
import threading
from http.server import HTTPServer

import pytest

from localstack_process_executor.bootstrap import make_invoke_handler
from localstack_process_executor.lambda_platform import SECRET_HEADER

SECRET = "the-environments-own-secret"


class HandOverThatNeverReturns:
    def __init__(self) -> None:
        self.received = threading.Event()
        self.release = threading.Event()

    def put(self, invocation: dict) -> None:
        self.received.set()
        self.release.wait(timeout=30)


def test_the_invocation_is_acknowledged_before_it_is_handed_over():
    queue = HandOverThatNeverReturns()
    server = HTTPServer(("127.0.0.1", 0), make_invoke_handler(queue, SECRET))
    threading.Thread(target=server.handle_request, daemon=True).start()
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    try:
        invocation = json.dumps({"invoke-id": "1", "payload": "{}"})
        connection.request("POST", "/invoke", invocation, {SECRET_HEADER: SECRET})
        assert connection.getresponse().status == 200
        assert queue.received.wait(timeout=5)
    finally:
        queue.release.set()
        connection.close()
        server.server_close()


@pytest.mark.parametrize("shown", [None, "", "someone-elses-secret"])
def test_an_invocation_without_the_environments_secret_is_refused(shown):
    """Another function can reach the port: without the secret, nothing is handed over."""
    queue = HandOverThatNeverReturns()
    server = HTTPServer(("127.0.0.1", 0), make_invoke_handler(queue, SECRET))
    threading.Thread(target=server.handle_request, daemon=True).start()
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    try:
        headers = {} if shown is None else {SECRET_HEADER: shown}
        connection.request("POST", "/invoke", json.dumps({"invoke-id": "1"}), headers)
        assert connection.getresponse().status == 403
        assert not queue.received.wait(timeout=0.5)
    finally:
        queue.release.set()
        connection.close()
        server.server_close()
