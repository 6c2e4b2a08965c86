"""Many functions created, invoked, updated and deleted at once leave nothing behind.

A bounded mixed load on the session's LocalStack: each worker runs function lifecycles
(create, concurrent invocations of which some time out and some crash the process, update
the code, invoke the new code, delete) until its time is up. Every call must do exactly
what it does on AWS, and afterwards LocalStack holds no more descriptors than before, no
code folder of these functions is left, and no process folder outlives its process.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import psutil
import pytest
from botocore.config import Config

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.localstack import embedded
from sfnlab.testing.functions import zip_files
from sfnlab.testing.waiting import wait_for

SECONDS = 20
WORKERS = 6
ROLE = "arn:aws:iam::000000000000:role/stress"
PREFIX = "stress-"

# Each kind of handler, and what an invocation of it must return.
HANDLERS = {
    "ok": "def handler(event, context):\n    return {'kind': 'ok', 'echo': event}\n",
    "times-out": (
        "import time\n\n"
        "def handler(event, context):\n"
        "    time.sleep(event.get('sleep', 0))\n"
        "    return {'kind': 'times-out', 'echo': event}\n"
    ),
    "crashes": (
        "import os\n\n"
        "def handler(event, context):\n"
        "    if event.get('crash'):\n"
        "        os._exit(3)\n"
        "    return {'kind': 'crashes', 'echo': event}\n"
    ),
    "raises": "def handler(event, context):\n    raise ValueError('as planned')\n",
}
EVENTS = {
    "ok": [{"n": 1}, {"n": 2}, {"n": 3}],
    "times-out": [{"sleep": 30}, {"n": 1}, {"n": 2}],
    "crashes": [{"crash": True}, {"n": 1}, {"n": 2}],
    "raises": [{"n": 1}, {"n": 2}],
}


def expected(kind: str, event: dict) -> tuple[str | None, object]:
    """(FunctionError, what identifies the payload) that AWS returns."""
    if kind == "times-out" and event.get("sleep"):
        return "Unhandled", "Sandbox.Timedout"
    if kind == "crashes" and event.get("crash"):
        return "Unhandled", "Runtime.ExitError"
    if kind == "raises":
        return "Unhandled", "ValueError"
    return None, {"kind": kind, "echo": event}


def outcome(response: dict) -> tuple[str | None, object]:
    payload = json.loads(response["Payload"].read())
    if "FunctionError" in response:
        return response["FunctionError"], payload.get("errorType")
    return None, payload


class Load:
    def __init__(self, lambda_client) -> None:
        self.lam = lambda_client
        self.errors: list[str] = []
        self.lifecycles = 0
        self.invocations = 0
        self._lock = threading.Lock()

    def fail(self, what: str) -> None:
        with self._lock:
            self.errors.append(what)

    def invoke(self, name: str, kind: str, event: dict) -> None:
        response = self.lam.invoke(FunctionName=name, Payload=json.dumps(event))
        seen, want = outcome(response), expected(kind, event)
        with self._lock:
            self.invocations += 1
        if seen != want:
            self.fail(f"{name} ({kind}) {event}: expected {want}, got {seen}")

    def lifecycle(self, rng: random.Random) -> None:
        name = f"{PREFIX}{uuid.uuid4().hex[:10]}"
        kind = rng.choice(list(HANDLERS))
        self.lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="lambda_function.handler",
            Code={"ZipFile": zip_files({"lambda_function.py": HANDLERS[kind]})},
            Timeout=3,  # a busy machine must not turn a quick handler into a timeout
        )
        try:
            wait_until_ready(self.lam, name)
            with ThreadPoolExecutor(len(EVENTS[kind])) as pool:
                for future in [pool.submit(self.invoke, name, kind, e) for e in EVENTS[kind]]:
                    future.result()
            kind = rng.choice(list(HANDLERS))
            self.lam.update_function_code(
                FunctionName=name, ZipFile=zip_files({"lambda_function.py": HANDLERS[kind]})
            )
            wait_until_ready(self.lam, name)
            self.invoke(name, kind, EVENTS[kind][0])
        finally:
            self.lam.delete_function(FunctionName=name)
        with self._lock:
            self.lifecycles += 1

    def run(self, seconds: float, workers: int) -> None:
        deadline = time.monotonic() + seconds

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                try:
                    self.lifecycle(rng)
                except Exception as e:
                    self.fail(f"{type(e).__name__}: {e}")

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(worker, range(workers)))


def descriptors(pid: int) -> Counter:
    """What LocalStack's open descriptors point at (sockets and pipes by kind only).

    Not counted: LocalStack's CloudWatch opens its metrics database on each call and
    leaves closing it to the garbage collector, so a varying number of those handles
    waits for the next collection; they are neither the executor's nor a leak.
    """
    found: Counter = Counter()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.endswith("/cloudwatch/metrics.db"):
            continue
        found[target.split(":")[0] if target.startswith(("socket:", "pipe:")) else target] += 1
    return found


def close_connections(client) -> None:
    client._endpoint.http_session.close()


def code_folders(state_dir: Path) -> list[Path]:
    """LocalStack's unzipped code of this test's functions."""
    return list((state_dir / "tmp").glob(f"lambda/*/{PREFIX}*"))


def orphaned_process_folders(settings) -> list[Path]:
    """Process folders whose process is gone (each process runs in its own folder)."""
    live = set()
    for process in embedded.runtime_processes(settings):
        try:
            live.add(Path(process.cwd()))
        except psutil.Error:
            continue
    return [
        folder
        for root in settings.state_dir.rglob("process-executor/processes")
        for folder in root.iterdir()
        if folder not in live
    ]


@pytest.fixture
def stress_client(localstack):
    # No retries: every throttle or error must show.
    return boto3.client(
        "lambda",
        endpoint_url=localstack.endpoint,
        region_name=localstack.region,
        aws_access_key_id=localstack.account_id,
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}, max_pool_connections=4 * WORKERS),
    )


def test_mixed_lifecycles_leave_no_errors_descriptors_or_folders(localstack, stress_client):
    pid = embedded.running_embedded(localstack).pid
    # Warm up once, so that what LocalStack creates on first use is not counted as a leak.
    warm_up = Load(stress_client)
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda seed: warm_up.lifecycle(random.Random(seed)), range(WORKERS)))
    assert warm_up.errors == []
    assert wait_for(lambda: orphaned_process_folders(localstack) == [], timeout=15)
    # This test's own keep-alive connections to LocalStack are not LocalStack's doing.
    close_connections(stress_client)
    time.sleep(0.5)
    before = descriptors(pid)

    load = Load(stress_client)
    load.run(seconds=SECONDS, workers=WORKERS)

    assert load.errors == []
    assert load.lifecycles >= WORKERS, "the load should have run a few lifecycles"
    close_connections(stress_client)
    settled = wait_for(lambda: descriptors(pid).total() <= before.total(), timeout=20)
    after = descriptors(pid)
    assert settled, f"LocalStack's descriptors, more after than before: {after - before}"
    assert wait_for(lambda: code_folders(localstack.state_dir) == [], timeout=10), code_folders(
        localstack.state_dir
    )
    assert wait_for(lambda: orphaned_process_folders(localstack) == [], timeout=10)
