"""A task token decides its task once: later SendTask* calls are refused with TaskTimedOut.

LocalStack 4.14.0 keeps each task token usable after its task has ended: while the
execution still runs (the other branch of a Parallel waits, say) SendTaskSuccess and
SendTaskHeartbeat accept it again, and SendTaskFailure accepts it even after the
execution has ended; the second decision is silently dropped. Two decisions sent at once
are both accepted. Once the execution has ended, SendTaskSuccess and SendTaskHeartbeat
answer InvalidToken, as if the token had never existed.

AWS closes the task when it is decided, times out, or its execution (or Parallel branch)
stops, and from then on answers TaskTimedOut ("The task token has either expired or the
task associated with the token has already been closed"), with the message below. This
patch does the same; a token nobody issued stays InvalidToken.
"""

from __future__ import annotations

import threading
import weakref
from types import ModuleType
from typing import Any

from localstack_sfnlab_patches import waiting_tasks
from localstack_sfnlab_patches.import_hooks import when_imported

SPENT_MESSAGE = "Task Timed Out: 'Provided task does not exist anymore'"

_lock = threading.Lock()
# Endpoints whose task has been decided or has ended; weak, so ended executions' go away.
_closed: weakref.WeakSet[Any] = weakref.WeakSet()


def is_spent(endpoint: Any) -> bool:
    """Whether the endpoint's task is over (call with `_lock` held)."""
    if endpoint in _closed:
        return True
    frame = waiting_tasks.frame_of(endpoint)
    return frame is not None and not frame.is_running()


def patch_step_functions(provider_module: ModuleType) -> None:
    from localstack.aws.api.stepfunctions import InvalidToken, TaskTimedOut
    from localstack.services.stepfunctions.asl.eval.callback.callback import (
        CallbackEndpoint,
        CallbackPoolManager,
    )
    from localstack.utils.patch import Patch

    waiting_tasks.install()
    provider = provider_module.StepFunctionsProvider

    def close_when_task_ends(original, self):
        # Called once the task has its outcome, timed out or failed.
        original(self)
        with _lock:
            _closed.add(self)

    def decide_once(original, self, callback_id, outcome):
        # Checked and closed in one step: of two decisions at once, only one gets through.
        with _lock:
            endpoint = self.get(callback_id)
            if endpoint is None:
                return original(self, callback_id, outcome)
            if is_spent(endpoint):
                raise TaskTimedOut(SPENT_MESSAGE)
            _closed.add(endpoint)
        return original(self, callback_id, outcome)

    def heartbeat_while_open(original, self, callback_id):
        endpoint = self.get(callback_id)
        with _lock:
            spent = endpoint is not None and is_spent(endpoint)
        if spent:
            raise TaskTimedOut(SPENT_MESSAGE)
        return original(self, callback_id)

    def spent_after_execution_ended(original, self, context, *args, **kwargs):
        # The provider only looks for SendTaskSuccess and SendTaskHeartbeat tokens among
        # running executions; a token of an ended one is spent, not unknown.
        try:
            return original(self, context, *args, **kwargs)
        except InvalidToken:
            token = kwargs["task_token"] if "task_token" in kwargs else args[0]
            if issued_by_an_execution(self.get_store(context), token):
                raise TaskTimedOut(SPENT_MESSAGE) from None
            raise

    Patch.function(CallbackEndpoint.interrupt_all, close_when_task_ends).apply()
    Patch.function(CallbackPoolManager.notify, decide_once).apply()
    Patch.function(CallbackPoolManager.heartbeat, heartbeat_while_open).apply()
    Patch.function(provider.send_task_success, spent_after_execution_ended).apply()
    Patch.function(provider.send_task_heartbeat, spent_after_execution_ended).apply()


def issued_by_an_execution(store: Any, token: str) -> bool:
    for execution in list(store.executions.values()):
        environment = getattr(execution.exec_worker, "env", None)
        if environment is not None and environment.callback_pool_manager.get(token) is not None:
            return True
    return False


def apply() -> None:
    when_imported(waiting_tasks.STEP_FUNCTIONS_PROVIDER, patch_step_functions)
