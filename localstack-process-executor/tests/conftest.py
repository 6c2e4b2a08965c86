"""Fixtures of the executor's tests: LocalStacks of their own (see `own_localstacks.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from own_localstacks import start_localstack

from sfnlab.lab import lifecycle
from sfnlab.settings import Settings
from sfnlab.testing.nodejs_runtime_api import node_or_skip


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
