"""StopExecution ends an execution that waits for a task token at once: ABORTED.

In LocalStack 4.14.0, stopping an execution marks it stopped, but a task waiting for its
task token keeps waiting (until its token arrives or its TimeoutSeconds pass, a day in
the exercise): the execution stays RUNNING, and a decision sent meanwhile is accepted
and recorded (TaskSucceeded before ExecutionAborted). The same happens to the waiting
branches of a Parallel state whose other branch fails.

A stop that lands while the task's Lambda still runs fails the execution instead
(States.Runtime, "'>' not supported between instances of 'dict' and 'int'").

On AWS the execution is ABORTED at once, with nothing after the task's TaskSubmitted but
ExecutionAborted, and its token is refused (that refusal is `spent_task_tokens`). This
patch wakes the tasks waiting in a frame when that frame is stopped, and lets a task of
a stopped frame end without recording an outcome; a task whose frame was not stopped is
handled as before.
"""

from __future__ import annotations

import contextlib
from types import ModuleType

from localstack_sfnlab_patches import waiting_tasks
from localstack_sfnlab_patches.import_hooks import when_imported


class TaskAbandoned(Exception):
    """The frame of a task waiting for its token was stopped: the task has no outcome."""


def patch_step_functions(_provider_module: ModuleType) -> None:
    from localstack.services.stepfunctions.asl.component.state.state_execution.execute_state import (  # noqa: E501
        ExecutionState,
    )
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.service.state_task_service_callback import (  # noqa: E501
        StateTaskServiceCallback,
    )
    from localstack.services.stepfunctions.asl.eval.environment import Environment
    from localstack.services.stepfunctions.asl.eval.program_state import ProgramStopped
    from localstack.utils.patch import Patch

    waiting_tasks.install()
    wait = StateTaskServiceCallback._eval_wait_for_task_token

    def stopped(frame) -> bool:
        return isinstance(frame.program_state(), ProgramStopped)

    def wake_waiting_tasks(original, self, *args, **kwargs):
        # Called on the stopped frame and, through the original, on each frame inside it.
        original(self, *args, **kwargs)
        for endpoint in waiting_tasks.waiting_in(self):
            endpoint.interrupt_all()

    def no_wait_once_stopped(original, self, *args, **kwargs):
        # Tracked before the check: a stop after it finds this wait and wakes it.
        frame, endpoint = waiting_tasks.wait_arguments(wait, self, *args, **kwargs)
        with waiting_tasks.track(frame, endpoint):
            if stopped(frame):
                raise TaskAbandoned()
            return original(self, *args, **kwargs)

    def abandon_once_stopped(original, self, env, *args, **kwargs):
        # A stopped frame makes the task's wait end without an outcome (read as a timeout)
        # or, stopped while its Lambda ran, trips over LocalStack's skipped evaluations.
        try:
            return original(self, env, *args, **kwargs)
        except Exception:
            if stopped(env):
                raise TaskAbandoned() from None
            raise

    def record_nothing_for_an_abandoned_task(original, self, env):
        # No TaskFailed/TaskTimedOut, no retry, no catch: the frame is stopped, and the
        # execution ends ABORTED right after.
        with contextlib.suppress(TaskAbandoned):
            original(self, env)

    Patch.function(Environment.set_stop, wake_waiting_tasks).apply()
    Patch.function(wait, no_wait_once_stopped).apply()
    Patch.function(StateTaskServiceCallback._eval_integration_pattern, abandon_once_stopped).apply()
    Patch.function(
        ExecutionState._evaluate_with_timeout, record_nothing_for_an_abandoned_task
    ).apply()


def apply() -> None:
    when_imported(waiting_tasks.STEP_FUNCTIONS_PROVIDER, patch_step_functions)
