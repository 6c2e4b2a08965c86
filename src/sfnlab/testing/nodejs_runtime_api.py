"""A stand-in for the Lambda Runtime API, to run the Node.js runtime client without LocalStack.

`run_client(task_root, handler, events)` starts `node nodejs/runtime.js` against a small
server that hands out `events` one by one (`GET .../invocation/next`) and records what the
client posts back (responses, errors, init errors), then stops the client once every
event has been answered or the client has exited.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from localstack_process_executor import node_finder
from localstack_process_executor.lambda_platform import ASSIGNMENT_FD
from localstack_process_executor.runtime_process import NODEJS_RUNTIME

FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:client-test"


def node_missing() -> str | None:
    """None if the `node` on PATH is Node.js 20 or newer; else what was found instead."""
    node = shutil.which("node")
    version = node_finder.probe(node) if node else None
    if version is None or version[0] < node_finder.MINIMUM_NODE:
        return f"{node}, Node.js {version[0]}.{version[1]}" if version else node or "no `node`"
    return None


NODE_HINT = "install it from https://nodejs.org or your package manager"


def node_or_skip() -> str:
    """The `node` on PATH if it is Node.js 20 or newer; else the test is skipped."""
    found = node_missing()
    if found is not None:
        pytest.skip(
            f"runs Node.js functions: needs Node.js {node_finder.MINIMUM_NODE} or newer on PATH "
            f"(found {found}); {NODE_HINT}"
        )
    return shutil.which("node")


@dataclass
class Post:
    kind: str  # "response", "error" or "init-error"
    request_id: str | None
    body: bytes
    headers: dict

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class ClientRun:
    exit_code: int | None  # None: still running when stopped
    output: str
    posts: list[Post] = field(default_factory=list)
    asked: list[dict] = field(default_factory=list)  # the headers of each GET .../next

    def lines(self) -> list[str]:
        """The output's lines (split at line feeds only: a log line may hold a CR)."""
        return self.output.rstrip("\n").split("\n") if self.output else []


def run_client(
    task_root: Path,
    handler: str,
    events: list | None = None,
    *,
    environment: dict[str, str] | None = None,
    timeout_ms: int = 3000,
    wait: float = 15.0,
    node_options: tuple[str, ...] = (),
    assignment: dict | None = None,
) -> ClientRun:
    """Run the client on `handler` for `events`. With `assignment`, the client is started
    as the executor starts one ahead of need, and is given `assignment` through its pipe
    (the Runtime API's address is added to its environment); `{}`: the pipe is closed
    with nothing in it, as for a spare the executor lets go."""
    node = node_or_skip()
    events = [{}] if events is None else events
    waiting: queue.Queue = queue.Queue()
    for number, event in enumerate(events):
        waiting.put((f"request-{number}", event))
    posts: list[Post] = []
    asked: list[dict] = []
    answered = threading.Event()
    idle = threading.Event()  # the client asked for more after the last event: it is done

    class RuntimeApi(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            asked.append(dict(self.headers))
            if waiting.empty() and answered.is_set():
                idle.set()
            try:
                request_id, event = waiting.get(timeout=wait)
            except queue.Empty:
                return
            body = json.dumps(event).encode()
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
            self.send_header(
                "Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + timeout_ms)
            )
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)
            self.send_header("Lambda-Runtime-Trace-Id", f"Root=1-trace-{request_id}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = self.path.split("/")
            if self.path.endswith("/init/error"):
                post = Post("init-error", None, body, dict(self.headers))
            else:
                post = Post(parts[-1], parts[-2], body, dict(self.headers))
            posts.append(post)
            if post.kind == "init-error" or len(posts) >= len(events):
                answered.set()  # before the client hears back and asks for more
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    server.daemon_threads = True
    # A short poll interval: shutting the server down waits for one.
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "_HANDLER": handler,
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": "client-test",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/client-test",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/06/[$LATEST]0123",
        "AWS_EXECUTION_ENV": "AWS_Lambda_nodejs20.x",
        **(environment or {}),
    }
    pass_fds: tuple[int, ...] = ()
    if assignment is not None:
        read_end, write_end = os.pipe()
        if assignment:
            message = {**assignment, "environment": {**assignment["environment"]}}
            message["environment"]["AWS_LAMBDA_RUNTIME_API"] = env["AWS_LAMBDA_RUNTIME_API"]
            os.write(write_end, json.dumps(message).encode())
        os.close(write_end)
        env[ASSIGNMENT_FD] = str(read_end)
        pass_fds = (read_end,)
    output_path = task_root.parent / f"output-{time.monotonic_ns()}.log"
    try:
        with output_path.open("wb") as output:
            process = subprocess.Popen(
                [node, *node_options, str(NODEJS_RUNTIME)],
                env=env,
                cwd=task_root,
                stdout=output,
                stderr=subprocess.STDOUT,
                pass_fds=pass_fds,
            )
    finally:
        for fd in pass_fds:
            os.close(fd)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and process.poll() is None and not answered.is_set():
        time.sleep(0.02)
    if answered.is_set():
        # The last answer may be followed by an exit (init errors) or by more output; the
        # client asking for the next invocation says it has finished with this one.
        settle = time.monotonic() + 0.5
        while time.monotonic() < settle and process.poll() is None and not idle.is_set():
            time.sleep(0.01)
    exit_code = process.poll()
    if exit_code is None:
        process.kill()
        process.wait()
    server.shutdown()
    server.server_close()
    # Bytes: reading text would turn the carriage returns of log lines into line feeds.
    return ClientRun(exit_code, output_path.read_bytes().decode(errors="replace"), posts, asked)
