"""Fixtures of the executor's tests: LocalStacks of their own (see `own_localstacks.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from own_localstacks import start_localstack

from sfnlab.lab import lifecycle
from sfnlab.settings import Settings


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
