"""TestState at DEBUG shows a Choice's, Fail's or Succeed's `afterInputPath`, as JSON text.

AWS's inspection data of these states is `input` and `afterInputPath` (LocalStack's own
AWS-validated TestState snapshots record both, for a Choice and for a Fail), each as JSON
text, as every inspection field is. LocalStack 4.14.0 leaves `afterInputPath` out when
the state is tested by `stateName` within a whole definition (how the kit tests a state
of the exercise), and otherwise gives the state's input itself, as a JSON object rather
than JSON text, before its InputPath rather than after it.

The patch records `afterInputPath` where the state's InputPath is evaluated, as LocalStack
already does for Task states: JSON text, after the InputPath, however the state is named.
Pass states, whose data flow LocalStack fills in otherwise, are left as they are.
"""

from __future__ import annotations

from localstack.services.stepfunctions.asl.component.state.state_pass.state_pass import StatePass
from localstack.services.stepfunctions.asl.component.test_state.state.common import (
    MockedCommonState,
)


def apply() -> None:
    original = MockedCommonState._apply_patches

    def _apply_patches(self: MockedCommonState) -> None:
        original(self)
        state = self._wrapped
        if not isinstance(state, StatePass) and state._is_language_query_jsonpath():
            self._eval_with_inspect(state.input_path, "afterInputPath")

    MockedCommonState._apply_patches = _apply_patches
