"""Retry and Catch on `States.HeartbeatTimeout` match a task that missed its heartbeat.

AWS's developer guide ("Handling errors in Step Functions workflows") lists
`States.HeartbeatTimeout`, a task that sent no heartbeat for longer than its
HeartbeatSeconds, as a name that is "only available inside the Catch and Retry fields",
and `States.Timeout` as the error of a task that "either ran longer than the
TimeoutSeconds value, or failed to send a heartbeat for a period longer than the
HeartbeatSeconds value". So a missed heartbeat is reported as `States.Timeout` (the
TaskTimedOut event and the error output say so, as AWS's history recorded in
LocalStack's AWS-validated test `test_heartbeat_timeout` shows) and matched by a Retry
or Catch naming either `States.Timeout` or `States.HeartbeatTimeout`; a task that ran
past its TimeoutSeconds is matched by `States.Timeout` only.

LocalStack 4.14.0 reports the missed heartbeat as `States.Timeout` too, but a Retry or
Catch naming only `States.HeartbeatTimeout` never matches it: the error goes uncaught.
This patch marks the timeout of a missed heartbeat, in a JSONPath or a JSONata state,
and lets `States.HeartbeatTimeout` match it; what is recorded stays `States.Timeout`.
"""

from __future__ import annotations

from types import ModuleType

from localstack_sfnlab_patches.import_hooks import when_imported

STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"


def patch_step_functions(_provider_module: ModuleType) -> None:
    from localstack.services.stepfunctions.asl.component.common.error_name.error_equals_decl import (  # noqa: E501
        ErrorEqualsDecl,
    )
    from localstack.services.stepfunctions.asl.component.common.error_name.states_error_name import (  # noqa: E501
        StatesErrorName,
    )
    from localstack.services.stepfunctions.asl.component.common.error_name.states_error_name_type import (  # noqa: E501
        StatesErrorNameType,
    )
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.service.state_task_service_callback import (  # noqa: E501
        StateTaskServiceCallback,
    )
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.state_task_activitiy import (  # noqa: E501
        StateTaskActivity,
    )
    from localstack.services.stepfunctions.asl.eval.callback.callback import (
        HeartbeatTimeoutError,
    )
    from localstack.utils.patch import Patch

    class MissedHeartbeat(StatesErrorName):
        """`States.Timeout`, from a heartbeat that did not come."""

        def __init__(self) -> None:
            super().__init__(typ=StatesErrorNameType.StatesTimeout)

    def mark_missed_heartbeat(original, self, env, ex):
        failure = original(self, env, ex)
        if isinstance(ex, HeartbeatTimeoutError):
            failure.error_name = MissedHeartbeat()
        return failure

    def heartbeat_timeout_matches(original, self, env):
        # The error name being matched is on top of the stack; the answer replaces it.
        if isinstance(env.stack[-1], MissedHeartbeat) and any(
            name.error_name == HEARTBEAT_TIMEOUT for name in self.error_names
        ):
            env.stack[-1] = True
            return None
        return original(self, env)

    for task_type in (StateTaskServiceCallback, StateTaskActivity):
        Patch.function(task_type._from_error, mark_missed_heartbeat).apply()
    Patch.function(ErrorEqualsDecl._eval_body, heartbeat_timeout_matches).apply()


def apply() -> None:
    when_imported(STEP_FUNCTIONS_PROVIDER, patch_step_functions)
