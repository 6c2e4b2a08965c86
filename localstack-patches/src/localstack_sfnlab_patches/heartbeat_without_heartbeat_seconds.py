"""SendTaskHeartbeat is accepted for a waiting task that has no HeartbeatSeconds.

LocalStack 4.14.0 answers InvalidToken to a heartbeat for a task whose state sets no
HeartbeatSeconds (and to one sent before the task's Lambda has returned), as if the
token did not exist. On AWS the token is valid while its task waits: the heartbeat is
accepted, and it simply has no heartbeat clock to reset. A heartbeat for a spent token
is still refused (`spent_task_tokens`), and one for a task with HeartbeatSeconds resets
its clock as before.
"""

from __future__ import annotations

from types import ModuleType

from localstack_sfnlab_patches.import_hooks import when_imported

CALLBACK_MODULE = "localstack.services.stepfunctions.asl.eval.callback.callback"


def patch_callbacks(module: ModuleType) -> None:
    from localstack.utils.patch import Patch

    def accept_without_clock(original, self):
        if self._heartbeat_endpoint is None:
            return True
        return original(self)

    Patch.function(module.CallbackEndpoint.notify_heartbeat, accept_without_clock).apply()


def apply() -> None:
    when_imported(CALLBACK_MODULE, patch_callbacks)
