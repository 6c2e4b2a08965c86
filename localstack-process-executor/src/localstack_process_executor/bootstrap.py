"""The runtime side of one execution environment: a Python process that hosts one handler.

It plays the part of AWS's Lambda runtime (and of the init binary LocalStack puts into
its Lambda containers): it imports the handler, reports ready (or an init error) to
LocalStack's executor endpoint, receives invocations on ``POST /invoke`` and answers each
with its logs and its response or error, in the shapes AWS's Python runtime uses.

It is started ahead of need and first waits for its assignment (the function's
environment variables and code folder) on a pipe; see `runtime_process.py`.

It runs on the function's own interpreter (``python -I -S``: no site-packages), so it
may import nothing but the standard library, and must keep working on every Python a
``pythonX.Y`` runtime can map to (3.9 and newer).

Timeouts and crashes are the executor's business: a process cannot reliably stop its own
handler, so the executor kills the environment's whole process tree and reports the error
itself. `keeper.py` starts it, and stays behind to take down what the handler leaves.
"""

from __future__ import annotations

import base64
import errno
import importlib
import json
import logging
import os
import queue
import resource
import sys
import sysconfig
import threading
import time
import traceback
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from socket import socket

# Set by the executor; removed from the environment before user code runs.
LISTEN_FD = "_PROCESS_EXECUTOR_LISTEN_FD"
ASSIGNMENT_FD = "_PROCESS_EXECUTOR_ASSIGNMENT_FD"
LOG_FILE = "_PROCESS_EXECUTOR_LOG_FILE"
EXTRA_SYS_PATH = "_PROCESS_EXECUTOR_SYS_PATH"

# The invocation's logs travel with its response in this header, up to LOGS_IN_HEADER
# characters of base64 (LocalStack's HTTP server takes 16 KiB of headers); longer logs go
# first, in a request of their own, as LocalStack's own runtime sends them.
LOGS_HEADER = "X-Process-Executor-Logs"
LOGS_IN_HEADER = 8192
# Every report carries the environment's secret (endpoint.py): it comes with the assignment.
SECRET_HEADER = "X-Process-Executor-Secret"

# The request id of the invocation in progress, for log lines written by `logging`.
_current_request_id = ""


class FaultError(Exception):
    """A problem with the function's set-up rather than its code (AWS calls these faults)."""

    def __init__(self, error_type: str, message: str, stack_trace: list[str] | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []


def error_payload(error_type: str, message: str, request_id: str, stack: list[str]) -> dict:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack,
    }


# Where this machine keeps what AWS's runtime keeps under /var: (local prefix, AWS's),
# longest first; filled in once the process knows its function (`aws_paths`).
PATHS: list[tuple[str, str]] = []


def aws_paths(task_root: str, sdk_dirs: list[str]) -> list[tuple[str, str]]:
    """The function's code at /var/task, the SDK and the standard library under /var/lang,
    as stack traces on AWS show them."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    pairs = [(task_root, "/var/task")]
    pairs += [(folder, f"/var/lang/lib/{version}/site-packages") for folder in sdk_dirs]
    pairs.append((sysconfig.get_paths()["stdlib"], f"/var/lang/lib/{version}"))
    pairs = [(os.path.realpath(local), aws) for local, aws in pairs] + pairs
    return sorted({(local.rstrip(os.sep), aws) for local, aws in pairs if local}, reverse=True)


def aws_path(filename: str) -> str:
    for local, aws in PATHS:
        if filename == local or filename.startswith(local + os.sep):
            return aws + filename[len(local) :]
    return filename


def exception_payload(exc: BaseException, request_id: str) -> dict:
    if isinstance(exc, FaultError):
        return error_payload(exc.error_type, exc.message, request_id, exc.stack_trace)
    frames = traceback.extract_tb(exc.__traceback__)
    # Drop this bootstrap's own frames: the learner should see only their code.
    frames = [f for f in frames if f.filename != __file__]
    for frame in frames:
        frame.line  # noqa: B018 (read the source line while the local path still finds it)
        frame.filename = aws_path(frame.filename)
    return error_payload(type(exc).__name__, str(exc), request_id, traceback.format_list(frames))


def write_log(text: str) -> None:
    """Write straight to fd 1 (the environment's log file), bypassing Python's buffers."""
    data = text.encode("utf-8", "replace")
    while data:
        written = os.write(1, data)
        data = data[written:]


def log_error(payload: dict) -> None:
    """Log an error the way AWS's Python runtime does: one `[ERROR]` record with the trace."""
    lines = [f"[ERROR] {payload['errorType']}: {payload['errorMessage']}"]
    if payload["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines.extend(line.rstrip("\n") for line in payload["stackTrace"])
    write_log("\n".join(lines) + "\n")


def load_handler(handler: str):
    """Import `module.function` from the task root, raising the fault AWS would report."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError(
            "Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}"
        ) from None
    module_name = module_name.replace("/", ".")
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FaultError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{aws_path(exc.filename or "")}" Line {exc.lineno}\n    {exc.text}']
        raise FaultError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            trace,
        ) from None
    function = getattr(module, function_name, None)
    if function is None:
        # AWS reports this on each invocation, not at init: the module itself loaded fine.
        fault = FaultError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )

        def missing_handler(event, context):
            raise fault

        return missing_handler
    return function


class LambdaContext:
    """The `context` argument, with the fields AWS documents for Python."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline: float):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.time()) * 1000), 0)

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _current_request_id
        return True


def configure_logging() -> None:
    """Give the root logger the handler and line format of AWS's Python runtime."""
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)


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


class RuntimeEndpoint:
    """Client for LocalStack's executor endpoint (`LOCALSTACK_RUNTIME_ENDPOINT`)."""

    def __init__(self, base_url: str, runtime_id: str, secret: str = ""):
        self.base_url = base_url.rstrip("/")
        self.runtime_id = runtime_id
        self.secret = secret
        # Loopback only: never route these through a proxy the learner has configured.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> None:
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

    def init_error(self, payload: dict) -> None:
        self.post(f"status/{self.runtime_id}/error", json.dumps(payload).encode())

    def finish(self, request_id: str, logs: str, body: bytes, is_error: bool) -> None:
        path = f"invocations/{request_id}/{'error' if is_error else 'response'}"
        packed = base64.b64encode(logs.encode("utf-8", "replace")).decode("ascii")
        if len(packed) <= LOGS_IN_HEADER:  # one request to LocalStack instead of two
            self.post(path, body, {LOGS_HEADER: packed})
            return
        # LocalStack attaches the logs it holds when the response arrives: logs go first.
        self.post(f"invocations/{request_id}/logs", json.dumps({"logs": logs}).encode())
        self.post(path, body)


def make_invoke_handler(invocations: queue.Queue):
    class InvokeHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/invoke":
                self.send_error(404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            invocation = json.loads(self.rfile.read(length))
            # Acknowledge first: once queued, the handler may end this process (os._exit)
            # before this thread could answer, and the executor would take that for a
            # failure to deliver the invocation.
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.wfile.flush()
            invocations.put(invocation)

        def log_message(self, format: str, *args) -> None:
            pass  # the function's log is for the learner's output, not for access logs

    return InvokeHandler


def peak_memory_mb() -> int:
    """This process's peak resident memory, as Lambda's REPORT line shows it."""
    try:
        # VmHWM starts afresh at exec; ru_maxrss would include the forking parent's peak.
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max_rss // (1024 * 1024 if sys.platform == "darwin" else 1024)


MAX_RESPONSE = 6 * 1024 * 1024 + 100


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


class Runtime:
    def __init__(self, endpoint: RuntimeEndpoint, log_file: str, handler, init_ms: float):
        self.endpoint = endpoint
        self.log_file = log_file
        self.handler = handler
        self.init_ms: float | None = init_ms
        self.memory_size = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.timeout = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
        # LocalStack passes Lambda's limit on a synchronous response (6 MB and 100 bytes).
        self.max_response = int(os.environ.get("LOCALSTACK_MAX_PAYLOAD_SIZE") or MAX_RESPONSE)
        # The first invocation's log starts at the top of the file, so that output written
        # while the module was imported (the init phase) reaches CloudWatch, as on AWS.
        self.log_offset = 0

    def read_new_log(self) -> str:
        with open(self.log_file, "rb") as log:
            log.seek(self.log_offset)
            data = log.read()
        self.log_offset += len(data)
        return data.decode("utf-8", "replace")

    def invoke(self, invocation: dict) -> None:
        global _current_request_id
        request_id = invocation["invoke-id"]
        _current_request_id = request_id
        if invocation.get("trace-id"):
            os.environ["_X_AMZN_TRACE_ID"] = invocation["trace-id"]
        started = time.time()
        write_log(f"START RequestId: {request_id} Version: {self.version}\n")
        context = LambdaContext(
            request_id, invocation["invoked-function-arn"], started + self.timeout
        )
        try:
            event = json.loads(invocation.get("payload") or "null")
            result = self.handler(event, context)
            try:
                body = json.dumps(result).encode()
            except (TypeError, ValueError) as exc:
                raise FaultError(
                    "Runtime.MarshalError", f"Unable to marshal response: {exc}"
                ) from None
            is_error = False
            if len(body) > self.max_response:
                body, is_error = too_large(self.max_response), True
        except Exception as exc:
            payload = exception_payload(exc, request_id)
            log_error(payload)
            body = json.dumps(payload).encode()
            is_error = True
        sys.stdout.flush()
        sys.stderr.flush()
        duration_ms = (time.time() - started) * 1000
        write_log(f"END RequestId: {request_id}\n{self.report_line(request_id, duration_ms)}\n")
        _current_request_id = ""
        self.endpoint.finish(request_id, self.read_new_log(), body, is_error)

    def report_line(self, request_id: str, duration_ms: float) -> str:
        line = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {self.memory_size} MB\t"
            f"Max Memory Used: {peak_memory_mb()} MB"
        )
        if self.init_ms is not None:
            line += f"\tInit Duration: {self.init_ms:.2f} ms"
            self.init_ms = None  # only the first invocation of an environment pays the init
        return line


def read_assignment(fd: int) -> dict:
    """Block until the executor assigns this process to a function."""
    with os.fdopen(fd, "rb") as pipe:
        return json.loads(pipe.read() or b"null")


def adopt_environment(environment: dict, task_root: str) -> None:
    """Become the process the function would have been started as."""
    os.environ.clear()
    os.environ.update(environment)
    if hasattr(time, "tzset"):
        time.tzset()  # TZ is read at start-up otherwise
    os.chdir(task_root)


def main() -> None:
    """Run the runtime (started by keeper.py, which watches the lifeline)."""
    listen_fd = int(os.environ[LISTEN_FD])
    log_file = os.environ[LOG_FILE]
    extra_sys_path = [p for p in os.environ.get(EXTRA_SYS_PATH, "").split(os.pathsep) if p]
    assignment = read_assignment(int(os.environ[ASSIGNMENT_FD]))
    if not assignment:
        return  # the executor let this spare go unused
    started = time.time()
    task_root = assignment["task_root"]
    adopt_environment(assignment["environment"], task_root)
    # Like AWS: the function's code first, then the runtime's SDK; nothing else installed.
    sys.path[:] = [task_root] + [p for p in sys.path if p != os.path.dirname(__file__)]
    sys.path.extend(extra_sys_path)
    PATHS[:] = aws_paths(task_root, extra_sys_path)
    configure_logging()

    endpoint = RuntimeEndpoint(
        os.environ["LOCALSTACK_RUNTIME_ENDPOINT"],
        os.environ["LOCALSTACK_RUNTIME_ID"],
        assignment.get("secret", ""),
    )
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:
        payload = exception_payload(exc, "")
        log_error(payload)
        endpoint.init_error(payload)
        sys.exit(1)

    invocations: queue.Queue = queue.Queue()
    server = HTTPServer(("127.0.0.1", 0), make_invoke_handler(invocations), False)
    server.socket.close()
    server.socket = socket(fileno=listen_fd)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    runtime = Runtime(endpoint, log_file, handler, (time.time() - started) * 1000)
    endpoint.ready()
    while True:
        runtime.invoke(invocations.get())
