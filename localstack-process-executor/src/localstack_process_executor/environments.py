"""Every execution environment alive in this LocalStack, and which function runs as a
given process: how a request LocalStack refuses is put down to the function behind it
(`callers.py`), without the caller knowing the executor."""

from __future__ import annotations

import weakref
from typing import Protocol


class RunningProcess(Protocol):
    pid: int


class Environment(Protocol):
    """What the registry needs of an environment (`executor.ProcessRuntimeExecutor`)."""

    @property
    def function_arn(self) -> str: ...

    def _current_process(self) -> RunningProcess | None: ...


_alive: weakref.WeakSet = weakref.WeakSet()


def register(environment: Environment) -> None:
    """Count `environment` among the living; it leaves when it is garbage-collected."""
    _alive.add(environment)


def function_of_process(pid: int) -> str | None:
    """The qualified ARN of the function whose environment runs as process `pid` (the
    process the executor started: the keeper, or the sandbox around it), if any."""
    for environment in list(_alive):
        runtime_process = environment._current_process()
        if runtime_process is not None and runtime_process.pid == pid:
            return environment.function_arn
    return None
