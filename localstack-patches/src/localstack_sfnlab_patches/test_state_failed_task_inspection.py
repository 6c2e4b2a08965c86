"""TestState of a task that fails shows no `afterResultSelector`: there was no result.

LocalStack 4.14.0 fills `afterResultSelector` of a JSONPath task in when the task's
execution ends, from whatever its evaluation left on top of its stack, result or not: a
task whose service call failed (a mocked `errorOutput`, say) shows the state's input
there, as if the input had been its result. AWS shows the data-flow steps the state went
through: for a failed call, input, afterInputPath and afterParameters, then `errorDetails`
(LocalStack's AWS-validated TestState snapshots of failing tasks have neither `result`
nor `afterResultSelector`). A task that returned a result is reported as before.
"""

from __future__ import annotations

from typing import Any

from localstack.services.stepfunctions.asl.component.test_state.state.execution import (
    MockedStateExecution,
)
from localstack.services.stepfunctions.asl.eval.test_state.environment import TestStateEnvironment


def apply() -> None:
    original = MockedStateExecution._apply_patches

    def _apply_patches(self: MockedStateExecution) -> None:
        original(self)
        evaluate = self._wrapped._eval_execution  # ends by filling the inspection data in

        def _eval_execution(env: TestStateEnvironment, *args: Any, **kwargs: Any) -> None:
            selected_before = "afterResultSelector" in env.inspection_data
            try:
                evaluate(env, *args, **kwargs)
            except Exception:
                if not selected_before:
                    env.inspection_data.pop("afterResultSelector", None)
                raise

        self._wrapped._eval_execution = _eval_execution

    MockedStateExecution._apply_patches = _apply_patches
