"""Which execution frame each task holding a task token runs in (bookkeeping only).

LocalStack 4.14.0 keeps an execution's task tokens in one pool, shared by every frame of
the execution (each Parallel branch, each Map iteration runs in a frame of its own), and
does not record which frame runs the task of which token. The task-token patches need
that link: a token is spent once the frame of its task has stopped, and stopping a frame
must wake the tasks waiting in it. This module records the link from the moment the task
hands its token out (its Lambda is invoked with it) until the task ends, so a stop that
lands while the Lambda still runs spends the token too; by itself it changes no
behaviour.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"

_lock = threading.Lock()
# CallbackEndpoint -> (the Environment frame its task waits in, how many tracks are open)
_waits: dict[Any, tuple[Any, int]] = {}
_installed = False


def frame_of(endpoint: Any) -> Any | None:
    """The frame whose task holds `endpoint` right now, if any."""
    with _lock:
        return _waits.get(endpoint, (None, 0))[0]


def waiting_in(frame: Any) -> list[Any]:
    """The endpoints of the tasks running in `frame` right now (their token handed out)."""
    with _lock:
        return [endpoint for endpoint, (owner, _) in _waits.items() if owner is frame]


@contextmanager
def track(frame: Any, endpoint: Any) -> Iterator[None]:
    """Record that the task of `endpoint` runs in `frame` (may be nested)."""
    with _lock:
        _waits[endpoint] = (frame, _waits.get(endpoint, (None, 0))[1] + 1)
    try:
        yield
    finally:
        with _lock:
            opened = _waits[endpoint][1] - 1
            if opened:
                _waits[endpoint] = (frame, opened)
            else:
                del _waits[endpoint]


def wait_arguments(wait: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """(frame, endpoint) of a call to StateTaskServiceCallback._eval_wait_for_task_token."""
    arguments = inspect.signature(wait).bind(*args, **kwargs).arguments
    return arguments["env"], arguments["callback_endpoint"]


def issued_endpoint(frame: Any) -> Any | None:
    """The endpoint of the token the `.waitForTaskToken` task of `frame` holds, if any."""
    token = frame.states.context_object.context_object_data.get("Task", {}).get("Token")
    return frame.callback_pool_manager.get(token) if token else None


def install() -> None:
    """Record the frame of every task holding a token (idempotent; the provider must be
    imported)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True

    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.service.state_task_service import (  # noqa: E501
        StateTaskService,
    )
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.service.state_task_service_callback import (  # noqa: E501
        StateTaskServiceCallback,
    )
    from localstack.utils.patch import Patch

    wait = StateTaskServiceCallback._eval_wait_for_task_token

    def tracked_run(original, self, frame, *args, **kwargs):
        # The whole task: its TaskScheduled event shows the token, its Lambda runs with it,
        # then it waits for it.
        endpoint = issued_endpoint(frame) if isinstance(self, StateTaskServiceCallback) else None
        if endpoint is None:
            return original(self, frame, *args, **kwargs)
        with track(frame, endpoint):
            return original(self, frame, *args, **kwargs)

    def tracked_wait(original, self, *args, **kwargs):
        with track(*wait_arguments(wait, self, *args, **kwargs)):
            return original(self, *args, **kwargs)

    Patch.function(StateTaskService._eval_execution, tracked_run).apply()
    Patch.function(wait, tracked_wait).apply()
