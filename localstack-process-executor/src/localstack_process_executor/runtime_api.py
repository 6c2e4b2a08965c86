"""The Lambda Runtime API, served by an environment's keeper to a runtime in its own process.

A runtime in another language (Node.js: `nodejs/runtime.js`) speaks the Runtime API, as
it would on AWS: it asks for the next invocation (``GET /2018-06-01/runtime/invocation/
next``, answered with the event and the request id, deadline, function ARN and trace
headers), then posts the invocation's response or error, or an init error if its handler
cannot be loaded. The keeper serves that API on the environment's one port
(``AWS_LAMBDA_RUNTIME_API``), the same port on which the executor delivers invocations
(``POST /invoke``), and plays the platform's part with `lambda_platform`, exactly as the
Python runtime does: START, END and REPORT lines, the size limit, the report to LocalStack.

The runtime is ready when it first asks for an invocation: that is when the executor is
told so, and the time until then is the Init duration.

The port is on the machine's loopback, where every function can reach it: another
function could ask for this one's next invocation (and read its event, and answer it),
or answer the one in progress. So every request carries the environment's secret, as
the executor's invocations and the reports to LocalStack do: the keeper hands it to the
runtime with its assignment, and refuses (403) a request without it, whoever sent it.

Standard library only, Python 3.9 syntax: it runs in the keeper, on whichever Python the
executor starts keepers with.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import HTTPServer
from socket import socket

try:  # part of the package: in LocalStack's process, and in tests
    from localstack_process_executor import lambda_platform
except ImportError:  # in a keeper, where keeper.py loaded it under a private name
    import _process_executor_lambda_platform as lambda_platform  # type: ignore[no-redef]

API = "/2018-06-01/runtime"
RESULT_PATH = re.compile(rf"^{API}/invocation/([^/]+)/(response|error)$")


class RuntimeApi:
    """One environment's invocations: those waiting for the runtime, the one it runs."""

    def __init__(
        self,
        environment: dict,
        log_file: str,
        runtime_pid: int | None,
        assigned_at: float,
        secret: str = "",
    ) -> None:
        self.endpoint = lambda_platform.endpoint_from(environment, secret)
        self.secret = secret
        self.invocations = lambda_platform.Invocations(
            self.endpoint, log_file, environment, memory_of=runtime_pid
        )
        self.queued: queue.Queue = queue.Queue()
        self.assigned_at = assigned_at
        self._lock = threading.Lock()
        self._ready = False
        self._current: tuple | None = None  # (request id, started) of the one in progress

    def next_invocation(self) -> tuple | None:
        """Block until an invocation comes: (the invocation, its deadline in ms since the
        epoch); None while one is already in progress (the runtime skipped its answer)."""
        with self._lock:
            if self._current is not None:
                return None
            first, self._ready = not self._ready, True
        if first:
            self.invocations.init_ms = (time.time() - self.assigned_at) * 1000
            self.endpoint.ready()
        invocation = self.queued.get()
        request_id = invocation["invoke-id"]
        started = self.invocations.start(request_id)
        with self._lock:
            self._current = (request_id, started)
        return invocation, int((started + self.invocations.timeout) * 1000)

    def finish(self, request_id: str, body: bytes, is_error: bool) -> bool:
        """Report the invocation's result; False if `request_id` is not the one in progress."""
        with self._lock:
            if self._current is None or self._current[0] != request_id:
                return False
            started = self._current[1]
            self._current = None
        self.invocations.finish(request_id, started, body, is_error)
        return True

    def init_error(self, body: bytes) -> None:
        try:
            self.endpoint.init_error(body)
        except OSError as e:  # LocalStack refuses it once the environment was ready
            lambda_platform.write_log(f"[process executor] init error not reported: {e}\n")


class RuntimeApiHandler(lambda_platform.InvokeReceiver):
    protocol_version = "HTTP/1.1"  # the runtime keeps its connection
    # Headers and body go as two writes: without TCP_NODELAY the second would wait for
    # the peer's delayed acknowledgement of the first (tens of milliseconds).
    disable_nagle_algorithm = True
    api: RuntimeApi

    def do_GET(self) -> None:  # noqa: N802 (http.server names it)
        if not self.from_own_environment():
            return
        if self.path != f"{API}/invocation/next":
            self.reply(404, {"errorType": "NotFound", "errorMessage": self.path})
            return
        next_one = self.api.next_invocation()
        if next_one is None:
            self.reply(
                403,
                {
                    "errorType": "InvalidStateTransition",
                    "errorMessage": "The invocation in progress has not been answered",
                },
            )
            return
        invocation, deadline_ms = next_one
        body = (invocation.get("payload") or "null").encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Lambda-Runtime-Aws-Request-Id", invocation["invoke-id"])
        self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline_ms))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", invocation["invoked-function-arn"])
        if invocation.get("trace-id"):
            self.send_header("Lambda-Runtime-Trace-Id", invocation["trace-id"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 (http.server names it)
        if self.path == "/invoke":  # from the executor
            self.receive_invocation()
            return
        if not self.from_own_environment():
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == f"{API}/init/error":
            self.api.init_error(body)
            self.reply(202, {"status": "OK"})
            return
        match = RESULT_PATH.match(self.path)
        if match is None:
            self.reply(404, {"errorType": "NotFound", "errorMessage": self.path})
        elif self.api.finish(match.group(1), body, match.group(2) == "error"):
            self.reply(202, {"status": "OK"})
        else:
            self.reply(400, {"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"})

    def reply(self, status: int, document: dict) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def for_the_runtime(assignment: dict) -> dict:
    """The assignment as the runtime gets it: the function's environment without the
    platform's variables, and what the shell that starts AWS's runtimes leaves; with the
    environment's secret, which it shows the Runtime API."""
    environment = lambda_platform.function_environment(assignment["environment"])
    environment.update({"PWD": assignment["task_root"], "SHLVL": "0"})
    return {**assignment, "environment": environment}


def handler_for(api: RuntimeApi) -> type:
    """The request handler class serving `api` (and taking the executor's invocations)."""
    attributes = {"api": api, "invocations": api.queued, "secret": api.secret}
    return type("Handler", (RuntimeApiHandler,), attributes)


class RuntimeApiServer(HTTPServer):
    """Each connection served by a thread of a small pool: the runtime keeps one open for
    its life; the executor opens one per invocation, which then starts no new thread."""

    def __init__(self, handler: type, listen_fd: int) -> None:
        super().__init__(("127.0.0.1", 0), handler, bind_and_activate=False)
        self.socket.close()
        self.socket = socket(fileno=listen_fd)
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="runtime-api")

    def process_request(self, request, client_address) -> None:
        self.pool.submit(self._serve_connection, request, client_address)

    def _serve_connection(self, request, client_address) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


def serve(runtime_pid: int, runtime_assignment: int) -> None:
    """In the keeper: wait for the executor's assignment, hand it to the runtime (through
    the pipe `runtime_assignment`), then serve the Runtime API on the environment's port."""
    listen_fd = int(os.environ[lambda_platform.LISTEN_FD])
    log_file = os.environ[lambda_platform.LOG_FILE]
    assignment = lambda_platform.read_assignment(int(os.environ[lambda_platform.ASSIGNMENT_FD]))
    with os.fdopen(runtime_assignment, "wb") as pipe:
        if not assignment:
            return  # a spare never used: the runtime reads nothing, and exits
        assigned_at = time.time()
        try:
            pipe.write(json.dumps(for_the_runtime(assignment)).encode())
        except BrokenPipeError:
            return  # the runtime is gone; its exit is reported as the start-up's failure
    api = RuntimeApi(
        assignment["environment"], log_file, runtime_pid, assigned_at, assignment.get("secret", "")
    )
    RuntimeApiServer(handler_for(api), listen_fd).serve_forever()
