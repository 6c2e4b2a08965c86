"""The Runtime API a keeper serves to a Node.js runtime, between a stand-in runtime and a
stand-in for LocalStack's executor endpoint."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from localstack_process_executor import runtime_api
from localstack_process_executor.lambda_platform import LOGS_HEADER, SECRET_HEADER

API = "/2018-06-01/runtime"
SECRET = "the-environments-own-secret"


class LocalStackEndpoint:
    """Records what the keeper reports to LocalStack (`status/...`, `invocations/...`),
    and the secret each report showed."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, bytes, str | None]] = []
        self.secrets: list[str | None] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.secrets.append(self.headers.get(SECRET_HEADER))
                logs = self.headers.get(LOGS_HEADER)
                recorder.reports.append(
                    (self.path, body, base64.b64decode(logs).decode() if logs else None)
                )
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/_localstack_lambda/env-1"

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.reports]


@pytest.fixture
def keeper(tmp_path, monkeypatch):
    """A Runtime API as a keeper serves it; yields (its port, the LocalStack stand-in)."""
    log_file = tmp_path / "output.log"
    log_file.write_text("loading the handler\n")  # what the runtime wrote during init
    log_fd = open(log_file, "ab")  # noqa: SIM115 (the keeper's fd 1, for its whole life)
    monkeypatch.setattr(
        runtime_api.lambda_platform,
        "write_log",
        lambda text: (log_fd.write(text.encode()), log_fd.flush()),
    )
    localstack = LocalStackEndpoint()
    environment = {
        "LOCALSTACK_RUNTIME_ENDPOINT": localstack.url,
        "LOCALSTACK_RUNTIME_ID": "env-1",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "5",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "LOCALSTACK_MAX_PAYLOAD_SIZE": "1000",
    }
    api = runtime_api.RuntimeApi(environment, str(log_file), None, time.time(), SECRET)
    server = ThreadingHTTPServer(("127.0.0.1", 0), runtime_api.handler_for(api))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], localstack
    server.shutdown()
    localstack.server.shutdown()
    log_fd.close()


def request(
    port: int, method: str, path: str, body: bytes | None = None, secret: str | None = SECRET
):
    """`secret`: what the request shows as the environment's secret (None: nothing)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body, {SECRET_HEADER: secret} if secret is not None else {})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def invoke(port: int, request_id: str, payload: str = '{"n": 1}') -> None:
    document = {
        "invoke-id": request_id,
        "invoked-function-arn": "arn:aws:lambda:us-east-1:000000000000:function:f",
        "payload": payload,
        "trace-id": "Root=1-abc",
    }
    assert request(port, "POST", "/invoke", json.dumps(document).encode())[0] == 200


def next_invocation(port: int) -> tuple:
    """GET next in a thread (it waits for an invocation): a function returning its answer."""
    answer: list = []
    thread = threading.Thread(
        target=lambda: answer.append(request(port, "GET", f"{API}/invocation/next"))
    )
    thread.start()
    return lambda: (thread.join(10), answer[0])[1]


def test_first_next_reports_ready_and_waits_for_an_invocation(keeper):
    port, localstack = keeper
    answer = next_invocation(port)
    time.sleep(0.3)
    assert localstack.paths() == ["/_localstack_lambda/env-1/status/env-1/ready"]
    before = time.time()
    invoke(port, "req-1")
    status, headers, body = answer()
    assert status == 200 and json.loads(body) == {"n": 1}
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:f")
    assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-abc"
    deadline = int(headers["Lambda-Runtime-Deadline-Ms"]) / 1000
    assert before + 4.5 < deadline < time.time() + 5.01


def test_a_response_is_reported_with_the_logs_and_the_platforms_lines(keeper):
    port, localstack = keeper
    answer = next_invocation(port)
    invoke(port, "req-1")
    answer()
    status, _, _ = request(port, "POST", f"{API}/invocation/req-1/response", b'"done"')
    assert status == 202
    path, body, logs = localstack.reports[-1]
    assert path == "/_localstack_lambda/env-1/invocations/req-1/response"
    assert body == b'"done"'
    lines = logs.splitlines()
    assert lines[0] == "loading the handler"
    assert lines[1] == "START RequestId: req-1 Version: $LATEST"
    assert lines[2] == "END RequestId: req-1"
    assert lines[3].startswith("REPORT RequestId: req-1\tDuration: ")
    assert "Memory Size: 256 MB" in lines[3] and "Init Duration: " in lines[3]


def test_an_error_is_reported_as_the_runtime_posts_it(keeper):
    port, localstack = keeper
    answer = next_invocation(port)
    invoke(port, "req-1")
    answer()
    error = b'{"errorType":"TypeError","errorMessage":"x","trace":[]}'
    assert request(port, "POST", f"{API}/invocation/req-1/error", error)[0] == 202
    assert localstack.reports[-1][:2] == (
        "/_localstack_lambda/env-1/invocations/req-1/error",
        error,
    )


def test_a_response_over_the_limit_fails_the_invocation(keeper):
    port, localstack = keeper
    answer = next_invocation(port)
    invoke(port, "req-1")
    answer()
    assert request(port, "POST", f"{API}/invocation/req-1/response", b"x" * 1001)[0] == 202
    path, body, _ = localstack.reports[-1]
    assert path.endswith("/invocations/req-1/error")
    assert json.loads(body)["errorType"] == "Function.ResponseSizeTooLarge"


@pytest.mark.parametrize("request_id", ["someone-else", "req-1"])
def test_a_result_for_another_or_a_finished_invocation_is_refused(keeper, request_id):
    port, localstack = keeper
    answer = next_invocation(port)
    invoke(port, "req-1")
    answer()
    if request_id == "req-1":  # answered once already
        assert request(port, "POST", f"{API}/invocation/req-1/response", b"1")[0] == 202
    reported = len(localstack.reports)
    status, _, body = request(port, "POST", f"{API}/invocation/{request_id}/response", b"2")
    assert status == 400 and json.loads(body)["errorType"] == "InvalidRequestID"
    assert len(localstack.reports) == reported


def test_next_while_an_invocation_is_unanswered_is_refused(keeper):
    port, _ = keeper
    answer = next_invocation(port)
    invoke(port, "req-1")
    answer()
    status, _, body = request(port, "GET", f"{API}/invocation/next")
    assert status == 403 and json.loads(body)["errorType"] == "InvalidStateTransition"


def test_an_init_error_is_reported_as_the_environments_start_up_error(keeper):
    port, localstack = keeper
    error = b'{"errorType":"Runtime.ImportModuleError","errorMessage":"no","trace":[]}'
    assert request(port, "POST", f"{API}/init/error", error)[0] == 202
    assert localstack.reports == [("/_localstack_lambda/env-1/status/env-1/error", error, None)]


@pytest.mark.parametrize("secret", [None, "", "someone-elses-secret", SECRET[:-1]])
def test_only_the_environments_own_runtime_and_executor_are_answered(keeper, secret):
    """The port is on the loopback, where any function can reach it: without the
    environment's secret, no request takes an invocation, answers one, reports an init
    error or delivers an invocation; the runtime's own go on as before."""
    port, localstack = keeper
    answer = next_invocation(port)
    invoke(port, "req-1")
    answer()
    invocation = json.dumps({"invoke-id": "forged", "invoked-function-arn": "x", "payload": "1"})
    refused = [
        request(port, "GET", f"{API}/invocation/next", secret=secret),
        request(port, "POST", f"{API}/invocation/req-1/response", b'"forged"', secret=secret),
        request(port, "POST", f"{API}/invocation/req-1/error", b"{}", secret=secret),
        request(port, "POST", f"{API}/init/error", b"{}", secret=secret),
        request(port, "POST", "/invoke", invocation.encode(), secret=secret),
    ]
    assert [status for status, _, _ in refused] == [403] * len(refused)
    assert all(json.loads(body)["errorType"] == "AccessDenied" for _, _, body in refused)
    assert localstack.paths() == ["/_localstack_lambda/env-1/status/env-1/ready"]
    # The runtime's own answer is taken, and the next invocation is its own, not "forged".
    assert request(port, "POST", f"{API}/invocation/req-1/response", b'"mine"')[0] == 202
    assert localstack.reports[-1][:2] == (
        "/_localstack_lambda/env-1/invocations/req-1/response",
        b'"mine"',
    )
    answer = next_invocation(port)
    invoke(port, "req-2")
    assert answer()[1]["Lambda-Runtime-Aws-Request-Id"] == "req-2"


def test_every_report_to_localstack_shows_the_environments_secret(keeper):
    port, localstack = keeper
    answer = next_invocation(port)
    invoke(port, "req-1")
    answer()
    assert request(port, "POST", f"{API}/invocation/req-1/response", b"1")[0] == 202
    assert len(localstack.secrets) == 2 and set(localstack.secrets) == {SECRET}


def test_unknown_paths_are_not_found(keeper):
    port, _ = keeper
    assert request(port, "GET", "/2018-06-01/runtime/invocation/elsewhere")[0] == 404
    assert request(port, "POST", "/2020-01-01/extension/register", b"{}")[0] == 404


def test_the_runtime_gets_the_functions_environment_without_the_platforms_wiring():
    assignment = {
        "task_root": "/code/task",
        "secret": SECRET,
        "environment": {
            "LOCALSTACK_RUNTIME_ENDPOINT": "http://127.0.0.1:1/_localstack_lambda/x",
            "LOCALSTACK_RUNTIME_ID": "x",
            "LOCALSTACK_HOSTNAME": "127.0.0.1",
            "STAGE": "test",
        },
    }
    given = runtime_api.for_the_runtime(assignment)
    assert given == {
        "task_root": "/code/task",
        "secret": SECRET,  # the runtime shows it the Runtime API; not in its environment
        "environment": {
            "LOCALSTACK_HOSTNAME": "127.0.0.1",  # LocalStack's public endpoint stays
            "STAGE": "test",
            "PWD": "/code/task",
            "SHLVL": "0",
        },
    }
    assert "LOCALSTACK_RUNTIME_ID" in assignment["environment"]  # the keeper's own copy
