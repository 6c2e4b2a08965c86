"""Fixtures of the executor's tests: LocalStacks of their own, with settings of their own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.lab import lifecycle
from sfnlab.settings import Settings
from sfnlab.support.aws import client
from tests.helpers import settings_for, zip_files
from tests.nodejs_runtime_api import node_or_skip

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


@pytest.fixture
def own_localstack(tmp_path: Path, lambda_interpreter) -> Iterator[Callable[..., Settings]]:
    """Factory: start a LocalStack of this test's own; everything started is stopped after."""
    started: list[Settings] = []

    def factory(**settings: str) -> Settings:
        started.append(start_localstack(tmp_path / f"state-{len(started)}", **settings))
        return started[-1]

    yield factory
    for kit in started:
        lifecycle.down(kit)


def make_function(kit: Settings, source: str, runtime: str, timeout: int = 10) -> str:
    """Create a function in `kit`'s LocalStack and wait until it is ready."""
    lam = client("lambda", kit)
    name = f"fn-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler="lambda_function.handler",
        Code={"ZipFile": zip_files({"lambda_function.py": source})},
        Timeout=timeout,
    )
    wait_until_ready(lam, name)
    return name


@pytest.fixture(scope="session")
def node() -> str:
    """The `node` the session's LocalStack finds (on PATH); tests needing it skip without it."""
    return node_or_skip()


@pytest.fixture
def create_node_function(create_function, node) -> Callable[..., str]:
    """Factory: a Node.js function from `source` (its `index.js`) or `files`; as
    `create_function`, with `handler` `index.handler` and runtime nodejs20.x by default."""

    def factory(
        source: str | None = None,
        *,
        files: dict[str, str] | None = None,
        handler: str = "index.handler",
        runtime: str = "nodejs20.x",
        **options,
    ) -> str:
        return create_function(
            files=files or {"index.js": source or ""}, handler=handler, runtime=runtime, **options
        )

    return factory
