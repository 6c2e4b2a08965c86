"""LocalStacks of a test's own, with executor and LocalStack settings of their own, and
functions made in them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.lab import lifecycle
from sfnlab.settings import Settings
from sfnlab.support.aws import client
from sfnlab.testing.functions import zip_files
from sfnlab.testing.settings import settings_for

ROLE = "arn:aws:iam::000000000000:role/executor-test"


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables in this process's environment (which `sfnlab up` passes on) for a while."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def start_localstack(state_dir: Path, **settings: str) -> Settings:
    """`sfnlab up` on a free port and `state_dir`, with executor/LocalStack `settings`.

    Like the session's LocalStack, functions run on the embedded LocalStack's interpreter.
    """
    kit = settings_for(state_dir)
    python_dirs = str(kit.runtime_venv / "bin")
    with environment({"PROCESS_EXECUTOR_PYTHON_DIRS": python_dirs, **settings}):
        lifecycle.up(kit)
    return kit


def make_function(
    kit: Settings,
    source: str,
    runtime: str,
    timeout: int = 10,
    *,
    code_file: str = "lambda_function.py",
) -> str:
    """Create a function in `kit`'s LocalStack from `source` (in `code_file`, whose
    `handler` it runs) and wait until it is ready."""
    lam = client("lambda", kit)
    name = f"fn-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=f"{code_file.rsplit('.', 1)[0]}.handler",
        Code={"ZipFile": zip_files({code_file: source})},
        Timeout=timeout,
    )
    wait_until_ready(lam, name)
    return name


def most_at_once(results: list[dict]) -> int:
    """The most invocations running at one time, from each one's `started` and `ended`."""
    edges = sorted([(r["started"], 1) for r in results] + [(r["ended"], -1) for r in results])
    running = peak = 0
    for _, change in edges:
        running += change
        peak = max(peak, running)
    return peak
