"""A state's expressions read the workflow variables as they were when the state was entered.

LocalStack 4.14.0 stores a state's `Assign` as soon as it is evaluated, so the same
state's later fields read the new values: `"Assign": {"x": "{% $x + 1 %}"}` beside
`"Output": {"x": "{% $x %}"}` outputs the incremented value, and in JSONPath an
`OutputPath` of `$x` does the same.

AWS evaluates `Assign` and `Output` in parallel: the developer guide ("Passing data
between states with variables", "Transforming data with JSONata") has a state's
assignments take effect for the states after it, and every expression of the state
read the values of the variables at the state's entry. AWS's history for a JSONPath
state with `"OutputPath": "$answer"` and `"Assign": {"answer": "<omitted>"}` outputs the
earlier value (LocalStack's own AWS-validated test `test_state_assign_evaluation_order`).
This patch holds a state's assignments (and those of the Catch or Choice rule that
ends it) until the state exits, in either language; the state's exit event still
records them, and the next state reads them.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from localstack_sfnlab_patches.import_hooks import when_imported

STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"
# The assignments a variable store holds back while a state runs: name -> value.
HELD = "_sfnlab_assigned_on_exit"


def release(store: Any) -> None:
    """Store the held assignments, so the next state reads them."""
    held = getattr(store, HELD, None)
    setattr(store, HELD, None)
    for name, value in (held or {}).items():
        store.set(name, value)


def patch_step_functions(_provider_module: ModuleType) -> None:
    from localstack.services.stepfunctions.asl.component.state.state import CommonStateField
    from localstack.services.stepfunctions.asl.eval.variable_store import (
        IllegalOuterScopeWrite,
        VariableStore,
    )
    from localstack.utils.patch import Patch

    def hold_while_the_state_runs(original, self, variable_identifier, variable_value):
        held = getattr(self, HELD, None)
        if held is None:
            return original(self, variable_identifier, variable_value)
        # Refused at once, as before: a branch cannot write an enclosing scope's variable.
        if variable_identifier in self._outer_scope:
            raise IllegalOuterScopeWrite(variable_identifier, variable_value)
        held[variable_identifier] = variable_value
        return None

    def one_state_at_a_time(original, self, env):
        store = env.variable_store
        enclosing = getattr(store, HELD, None)
        setattr(store, HELD, {})
        try:
            original(self, env)
            release(store)
        finally:
            setattr(store, HELD, enclosing)

    def released_at_exit(original, self, env):
        # The exit event records the state's assignments: they take effect here.
        release(env.variable_store)
        setattr(env.variable_store, HELD, {})
        return original(self, env)

    Patch.function(VariableStore.set, hold_while_the_state_runs).apply()
    Patch.function(CommonStateField._eval_body, one_state_at_a_time).apply()
    Patch.function(CommonStateField._get_state_exited_event_details, released_at_exit).apply()


def apply() -> None:
    when_imported(STEP_FUNCTIONS_PROVIDER, patch_step_functions)
