"""The runtime side of one execution environment: a Python process that hosts one handler.

It plays the part of AWS's Python runtime: it imports the handler, reports ready (or an
init error) to LocalStack's executor endpoint, and runs each invocation, answering with
its response or error in the shapes AWS's Python runtime uses. What the platform does
around each invocation (receiving it, the START/END/REPORT lines, the size limit, the
report with its logs) is `lambda_platform.py`'s, shared with the other runtimes.

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

import importlib
import json
import logging
import os
import queue
import sys
import sysconfig
import threading
import time
import traceback
from http.server import HTTPServer
from socket import socket

try:  # part of the package: in LocalStack's process, and in tests
    from localstack_process_executor import lambda_platform
except ImportError:  # in a runtime process, where keeper.py loaded it under a private name
    import _process_executor_lambda_platform as lambda_platform  # type: ignore[no-redef]

# The names other modules know these by.
LISTEN_FD = lambda_platform.LISTEN_FD
ASSIGNMENT_FD = lambda_platform.ASSIGNMENT_FD
LOG_FILE = lambda_platform.LOG_FILE
EXTRA_SYS_PATH = lambda_platform.EXTRA_SYS_PATH
write_log = lambda_platform.write_log

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


class InvokeReceiver(lambda_platform.InvokeReceiver):
    def do_POST(self) -> None:  # noqa: N802 (http.server names it)
        if self.path != "/invoke":
            self.send_error(404)
            return
        self.receive_invocation()


def make_invoke_handler(invocations, secret: str) -> type:
    """The request handler class that puts each invocation carrying the environment's
    `secret` into `invocations`."""
    return type("Receiver", (InvokeReceiver,), {"invocations": invocations, "secret": secret})


def marshal(result: object) -> bytes:
    """The response body for a handler's result, as AWS's Python runtime makes it: `bytes`
    pass through untouched (already serialised), anything else is encoded as JSON."""
    if isinstance(result, bytes):
        return result
    try:
        return json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        raise FaultError("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


class Runtime:
    """Runs the handler for each invocation; the platform's part is `lambda_platform`."""

    def __init__(self, invocations: lambda_platform.Invocations, handler):
        self.invocations = invocations
        self.handler = handler

    def invoke(self, invocation: dict) -> None:
        global _current_request_id
        request_id = invocation["invoke-id"]
        _current_request_id = request_id
        if invocation.get("trace-id"):
            os.environ["_X_AMZN_TRACE_ID"] = invocation["trace-id"]
        started = self.invocations.start(request_id)
        context = LambdaContext(
            request_id, invocation["invoked-function-arn"], started + self.invocations.timeout
        )
        try:
            event = json.loads(invocation.get("payload") or "null")
            body, is_error = marshal(self.handler(event, context)), False
        except Exception as exc:
            payload = exception_payload(exc, request_id)
            log_error(payload)
            body, is_error = json.dumps(payload).encode(), True
        sys.stdout.flush()
        sys.stderr.flush()
        _current_request_id = ""
        self.invocations.finish(request_id, started, body, is_error)


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
    assignment = lambda_platform.read_assignment(int(os.environ[ASSIGNMENT_FD]))
    if not assignment:
        return  # the executor let this spare go unused
    started = time.time()
    task_root = assignment["task_root"]
    adopt_environment(assignment["environment"], task_root)
    # Like AWS: the function's code first, then the runtime's SDK; nothing else installed.
    here = os.path.dirname(__file__)
    sys.path[:] = [task_root] + [p for p in sys.path if p != here]
    sys.path.extend(extra_sys_path)
    PATHS[:] = aws_paths(task_root, extra_sys_path)
    configure_logging()

    secret = assignment.get("secret", "")
    endpoint = lambda_platform.endpoint_from(os.environ, secret)
    invocations = lambda_platform.Invocations(endpoint, log_file, dict(os.environ))
    for name in lambda_platform.PLATFORM_VARIABLES:
        os.environ.pop(name, None)
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:
        payload = exception_payload(exc, "")
        log_error(payload)
        endpoint.init_error(json.dumps(payload).encode())
        sys.exit(1)

    queued: queue.Queue = queue.Queue()
    server = HTTPServer(("127.0.0.1", 0), make_invoke_handler(queued, secret), False)
    server.socket.close()
    server.socket = socket(fileno=listen_fd)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    invocations.init_ms = (time.time() - started) * 1000
    runtime = Runtime(invocations, handler)
    endpoint.ready()
    while True:
        runtime.invoke(queued.get())
