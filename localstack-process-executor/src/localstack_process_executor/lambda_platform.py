"""What AWS's Lambda platform does around a runtime, shared by every runtime here.

On AWS the platform, not the language runtime, delivers each invocation, writes the
`START`, `END` and `REPORT` lines, enforces the response size limit and takes the
response and the function's log output to the caller. Here that is LocalStack's executor
endpoint on one side and one of two runtimes on the other:

- Python: `bootstrap.py` hosts the handler in the same process and calls this module
  directly (no hop between platform and runtime);
- any runtime speaking the Lambda Runtime API (Node.js, `nodejs/runtime.js`):
  `runtime_api.py`, in the environment's keeper process, serves the Runtime API to it.

Both receive invocations on ``POST /invoke`` (the protocol LocalStack's own init binary
speaks inside its Lambda containers) and report the response, with its logs, on
``invocations/<id>/response`` or ``.../error``.

Standard library only, and Python 3.9 syntax: it runs in the function's own interpreter
(Python) and in the keeper (any runtime), loaded by `keeper.py` under a private name.
"""

from __future__ import annotations

import base64
import errno
import hmac
import json
import os
import queue
import resource
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

# Set by the executor; removed from the environment before user code runs.
LISTEN_FD = "_PROCESS_EXECUTOR_LISTEN_FD"
ASSIGNMENT_FD = "_PROCESS_EXECUTOR_ASSIGNMENT_FD"
LOG_FILE = "_PROCESS_EXECUTOR_LOG_FILE"
EXTRA_SYS_PATH = "_PROCESS_EXECUTOR_SYS_PATH"

# Set by LocalStack for its own runtime (its init binary), which takes them away before the
# function's code runs: a function on AWS sees nothing of the platform's wiring.
PLATFORM_VARIABLES = (
    "LOCALSTACK_RUNTIME_ID",
    "LOCALSTACK_RUNTIME_ENDPOINT",
    "LOCALSTACK_FUNCTION_ACCOUNT_ID",
    "LOCALSTACK_MAX_PAYLOAD_SIZE",
    "LOCALSTACK_USER",
    "LOCALSTACK_INIT_LOG_LEVEL",
    "LOCALSTACK_POST_INVOKE_WAIT_MS",
)


def function_environment(environment: dict) -> dict:
    """`environment` as the function's code sees it: without the platform's variables."""
    return {name: value for name, value in environment.items() if name not in PLATFORM_VARIABLES}


# The invocation's logs travel with its response in this header, up to LOGS_IN_HEADER
# characters of base64 (LocalStack's HTTP server takes 16 KiB of headers); longer logs go
# first, in a request of their own, as LocalStack's own runtime sends them.
LOGS_HEADER = "X-Process-Executor-Logs"
LOGS_IN_HEADER = 8192
# Every report carries the environment's secret (endpoint.py): it comes with the assignment.
SECRET_HEADER = "X-Process-Executor-Secret"

# Lambda's limit on a synchronous response: 6 MB and 100 bytes (LocalStack passes it on).
MAX_RESPONSE = 6 * 1024 * 1024 + 100


def write_log(text: str) -> None:
    """Write straight to fd 1 (the environment's log file), bypassing Python's buffers."""
    data = text.encode("utf-8", "replace")
    while data:
        written = os.write(1, data)
        data = data[written:]


def read_assignment(fd: int) -> dict | None:
    """Block until the executor assigns this process to a function (None: never)."""
    with os.fdopen(fd, "rb") as pipe:
        return json.loads(pipe.read() or b"null")


# Pauses between attempts to reach LocalStack's executor endpoint (about 3 s in all).
RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
TRANSIENT_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE}


def is_transient(exc: BaseException) -> bool:
    """A refused, reset or dropped connection: worth another attempt."""
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, ConnectionError) or type(exc).__name__ == "RemoteDisconnected":
        return True
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


def loopback_opener() -> urllib.request.OpenerDirector:
    """An opener for plain HTTP to LocalStack, never through a proxy the learner has
    configured. Not `build_opener()`: its HTTPS handler loads the system's certificates,
    tens of milliseconds of every cold start spent on a connection that is never TLS."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler({}),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


class RuntimeEndpoint:
    """Client for LocalStack's executor endpoint (`LOCALSTACK_RUNTIME_ENDPOINT`)."""

    def __init__(self, base_url: str, runtime_id: str, secret: str = ""):
        self.base_url = base_url.rstrip("/")
        self.runtime_id = runtime_id
        self.secret = secret
        self._opener = loopback_opener()

    def post(self, path: str, body: bytes, headers: dict | None = None) -> None:
        """POST to LocalStack, again after a refused or reset connection (a busy LocalStack
        drops some). A report LocalStack refuses on a retry was taken by the attempt whose
        connection broke afterwards: LocalStack accepts each report once only."""
        request = urllib.request.Request(
            f"{self.base_url}/{path}",
            data=body,
            headers={
                "Content-Type": "application/json",
                SECRET_HEADER: self.secret,
                **(headers or {}),
            },
            method="POST",
        )
        for attempt, delay in enumerate((*RETRY_DELAYS, None)):
            try:
                with self._opener.open(request, timeout=30) as response:
                    response.read()
                return
            except urllib.error.HTTPError:
                if attempt == 0:
                    raise
                write_log(f"[process executor] {path}: taken by an earlier attempt\n")
                return
            except OSError as exc:
                if delay is None or not is_transient(exc):
                    raise
                time.sleep(delay)

    def ready(self) -> None:
        self.post(f"status/{self.runtime_id}/ready", b"")

    def init_error(self, body: bytes) -> None:
        self.post(f"status/{self.runtime_id}/error", body)

    def finish(self, request_id: str, logs: str, body: bytes, is_error: bool) -> None:
        path = f"invocations/{request_id}/{'error' if is_error else 'response'}"
        packed = base64.b64encode(logs.encode("utf-8", "replace")).decode("ascii")
        if len(packed) <= LOGS_IN_HEADER:  # one request to LocalStack instead of two
            self.post(path, body, {LOGS_HEADER: packed})
            return
        # LocalStack attaches the logs it holds when the response arrives: logs go first.
        self.post(f"invocations/{request_id}/logs", json.dumps({"logs": logs}).encode())
        self.post(path, body)


def endpoint_from(environment: dict, secret: str) -> RuntimeEndpoint:
    """The client of LocalStack's endpoint for an environment (`secret`: its assignment's)."""
    return RuntimeEndpoint(
        environment["LOCALSTACK_RUNTIME_ENDPOINT"], environment["LOCALSTACK_RUNTIME_ID"], secret
    )


def shows_secret(headers, secret: str) -> bool:
    """Whether a request carries the environment's secret (compared in constant time)."""
    given = headers.get(SECRET_HEADER) or ""
    return hmac.compare_digest(given.encode(), secret.encode())


class InvokeReceiver(BaseHTTPRequestHandler):
    """``POST /invoke`` from the executor: the invocation is queued, acknowledged first.

    Acknowledged before it is queued: once queued, the handler may end this process
    (`os._exit`) before this thread could answer, and the executor would take that for a
    failure to deliver the invocation. Subclasses say where invocations go.

    Only the executor delivers: the environment's port is on the machine's loopback, where
    any function can reach it, so an invocation must carry the environment's secret (as
    every report to LocalStack does); one without it is refused (403), and nothing runs."""

    invocations: queue.Queue
    secret = ""  # the environment's, from its assignment

    def from_own_environment(self) -> bool:
        """Whether the request carries the environment's secret (the executor's, or its own
        runtime's); if not, it is refused."""
        if shows_secret(self.headers, self.secret):
            return True
        body = json.dumps(
            {"errorType": "AccessDenied", "errorMessage": "Not from this environment"}
        ).encode()
        self.close_connection = True  # its body, if any, is left unread
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        return False

    def receive_invocation(self) -> None:
        if not self.from_own_environment():
            return
        length = int(self.headers.get("Content-Length") or 0)
        invocation = json.loads(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.wfile.flush()
        self.invocations.put(invocation)

    def log_message(self, format: str, *args) -> None:
        pass  # the function's log is for the learner's output, not for access logs


def peak_memory_mb(pid: int | None = None) -> int:
    """A process's peak resident memory (this one's by default), as Lambda's REPORT line
    shows it."""
    try:
        # VmHWM starts afresh at exec; ru_maxrss would include the forking parent's peak.
        with open(f"/proc/{pid or 'self'}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    if pid is not None:
        return 0
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max_rss // (1024 * 1024 if sys.platform == "darwin" else 1024)


def too_large(limit: int) -> bytes:
    """AWS's answer to a response over the limit: the invocation fails, nothing is logged."""
    return json.dumps(
        {
            "errorMessage": (
                f"Response payload size exceeded maximum allowed payload size ({limit} bytes)."
            ),
            "errorType": "Function.ResponseSizeTooLarge",
        }
    ).encode()


class Invocations:
    """The platform's side of each invocation: its START line, its END and REPORT lines
    (the first with the Init duration), the response size limit, and the report to
    LocalStack with everything the function logged since the last one.

    The function's output and these lines share one log file (the process's fd 1): the
    first invocation's logs start at the top of the file, so that what the function wrote
    while it was loaded (the init phase) reaches CloudWatch, as on AWS."""

    def __init__(
        self,
        endpoint: RuntimeEndpoint,
        log_file: str,
        environment: dict,
        init_ms: float | None = None,
        memory_of: int | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.log_file = log_file
        self.init_ms = init_ms
        self.memory_of = memory_of  # the pid whose peak memory is reported (None: this one)
        self.memory_size = environment.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.version = environment.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.timeout = float(environment.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
        self.max_response = int(environment.get("LOCALSTACK_MAX_PAYLOAD_SIZE") or MAX_RESPONSE)
        self.log_offset = 0

    def start(self, request_id: str) -> float:
        """Write the START line; the invocation's start time."""
        started = time.time()
        write_log(f"START RequestId: {request_id} Version: {self.version}\n")
        return started

    def finish(self, request_id: str, started: float, body: bytes, is_error: bool) -> None:
        """Report the invocation's response (or error) with its logs to LocalStack."""
        if not is_error and len(body) > self.max_response:
            body, is_error = too_large(self.max_response), True
        duration_ms = (time.time() - started) * 1000
        write_log(f"END RequestId: {request_id}\n{self.report_line(request_id, duration_ms)}\n")
        self.endpoint.finish(request_id, self.read_new_log(), body, is_error)

    def read_new_log(self) -> str:
        with open(self.log_file, "rb") as log:
            log.seek(self.log_offset)
            data = log.read()
        self.log_offset += len(data)
        return data.decode("utf-8", "replace")

    def report_line(self, request_id: str, duration_ms: float) -> str:
        line = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {self.memory_size} MB\t"
            f"Max Memory Used: {peak_memory_mb(self.memory_of)} MB"
        )
        if self.init_ms is not None:
            line += f"\tInit Duration: {self.init_ms:.2f} ms"
            self.init_ms = None  # only the first invocation of an environment pays the init
        return line
