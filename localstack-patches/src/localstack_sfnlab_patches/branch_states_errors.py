"""A Parallel branch or Map iteration that fails with a `States.*` error fails its state with it.

When a branch of a Parallel state (or an iteration of a Map state) fails, LocalStack
4.14.0 names the state's error with the class meant for the errors a workflow invents,
which refuses names beginning with `States.`: a branch whose task times out
(`States.Timeout`) or fails with `States.TaskFailed` makes the Parallel or Map state
fail with `States.Runtime` ("Custom Error Names MUST NOT begin with the prefix
'States.'") instead, which no Retry or Catch for the real error matches, and the
execution fails with it.

AWS: "If any branch fails, because of an unhandled error or by transitioning to a Fail
state, the entire Parallel state is considered to have failed" (developer guide,
Parallel state), and the state's Retry and Catch see that error; a Map state whose
iteration times out fails the execution with `States.Timeout` (AWS's history, recorded
in LocalStack's own AWS-validated test `test_service_lambda_map_timeout`). This patch
names a branch's or iteration's error as Step Functions names it: one of its own
(`States.Timeout`, matched as such, and not by `States.TaskFailed`) or the workflow's.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from localstack_sfnlab_patches.import_hooks import when_imported

# The modules that name the error of a failed branch and of a failed Map iteration.
BRANCHES = "localstack.services.stepfunctions.asl.component.state.state_execution.state_parallel.branches_decl"  # noqa: E501
ITERATIONS = "localstack.services.stepfunctions.asl.component.state.state_execution.state_map.iteration.iteration_worker"  # noqa: E501
STATES_PREFIX = "States."


def propagated_error_name(error_name: str | None) -> Any:
    """The error name a failed branch hands to its Parallel or Map state."""
    from localstack.services.stepfunctions.asl.component.common.error_name.custom_error_name import (  # noqa: E501
        CustomErrorName,
    )
    from localstack.services.stepfunctions.asl.component.common.error_name.error_name import (
        ErrorName,
    )
    from localstack.services.stepfunctions.asl.component.common.error_name.states_error_name import (  # noqa: E501
        StatesErrorName,
    )

    if error_name is None or not error_name.startswith(STATES_PREFIX):
        return CustomErrorName(error_name)
    try:
        return StatesErrorName.from_name(error_name)
    except ValueError:
        # A `States.` name Step Functions does not list (a Fail state may raise one).
        return ErrorName(error_name)


def patch_module(module: ModuleType) -> None:
    from localstack.utils.patch import Patch

    def named_like_the_branch(error_name: str | None = None) -> Any:
        return propagated_error_name(error_name)

    Patch(module, "CustomErrorName", named_like_the_branch).apply()


def apply() -> None:
    when_imported(BRANCHES, patch_module)
    when_imported(ITERATIONS, patch_module)
