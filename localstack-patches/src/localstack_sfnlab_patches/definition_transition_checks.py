"""State machine definitions are checked for missing transition targets and unreachable states.

LocalStack 4.14.0 creates, updates and validates (ValidateStateMachineDefinition: OK) a
definition whose Next, Default, Choices or Catch names a state that does not exist,
whose StartAt names no state, with a state nothing leads to, or with no state that
ends the workflow; the mistake only shows when an execution gets there.

AWS refuses such a definition. ValidateStateMachineDefinition answers FAIL with one
ERROR diagnostic per problem, using the codes of its API reference:

    MISSING_TRANSITION_TARGET  Missing 'Next' target: Nope          at /States/A/Next
    MISSING_TRANSITION_TARGET  State "B" is not reachable.          at /States/B
    MISSING_END_STATE          Workflow has no terminal state       (no location)

and CreateStateMachine and UpdateStateMachine answer InvalidDefinition, "Invalid State
Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at
/States/A/Next, ...'". Each Parallel branch and Map processor is checked the same way,
on its own states. A workflow with no terminal state is reported instead of its
unreachable states, as AWS does. Definitions LocalStack already refuses keep its own
message, and TestState (which checks a single state) is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any, NamedTuple

from localstack_sfnlab_patches.import_hooks import when_imported

STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"
MISSING_TRANSITION_TARGET = "MISSING_TRANSITION_TARGET"
MISSING_END_STATE = "MISSING_END_STATE"
# States whose Type ends the workflow by itself; any other ends it with "End": true.
TERMINAL_TYPES = {"Succeed", "Fail"}


class Diagnostic(NamedTuple):
    code: str
    message: str
    location: str | None


def transitions(state: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(where in the state, target) for every transition out of it."""
    for field in ("Next", "Default"):
        if field in state:
            yield field, state[field]
    for field in ("Choices", "Catch"):
        rules = state.get(field)
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            if isinstance(rule, dict) and "Next" in rule:
                yield f"{field}[{index}]/Next", rule["Next"]


def scope_diagnostics(scope: dict[str, Any], where: str) -> list[Diagnostic]:
    """The problems of one set of states (the workflow, a branch, a Map processor)."""
    states = scope.get("States")
    if not isinstance(states, dict):
        return []  # not a set of states: LocalStack's own checks speak for it
    found = []
    start = scope.get("StartAt")
    if isinstance(start, str) and start not in states:
        found.append(missing_target(start, f"{where}/StartAt"))
    for name, state in states.items():
        if isinstance(state, dict):
            for field, target in transitions(state):
                if isinstance(target, str) and target not in states:
                    found.append(missing_target(target, f"{where}/States/{name}/{field}"))
    if not any(is_terminal(state) for state in states.values()):
        found.append(Diagnostic(MISSING_END_STATE, "Workflow has no terminal state", None))
    else:
        reachable = reachable_from(start, states)
        found += [
            Diagnostic(
                MISSING_TRANSITION_TARGET,
                f'State "{name}" is not reachable.',
                f"{where}/States/{name}",
            )
            for name in states
            if name not in reachable
        ]
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        branches = state.get("Branches")
        for index, branch in enumerate(branches if isinstance(branches, list) else []):
            if isinstance(branch, dict):
                found += scope_diagnostics(branch, f"{where}/States/{name}/Branches[{index}]")
        for field in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(field), dict):
                found += scope_diagnostics(state[field], f"{where}/States/{name}/{field}")
    return found


def missing_target(target: str, location: str) -> Diagnostic:
    return Diagnostic(MISSING_TRANSITION_TARGET, f"Missing 'Next' target: {target}", location)


def is_terminal(state: Any) -> bool:
    return isinstance(state, dict) and (
        state.get("End") is True or state.get("Type") in TERMINAL_TYPES
    )


def reachable_from(start: Any, states: dict[str, Any]) -> set[str]:
    reachable: set[str] = set()
    queue = [start] if isinstance(start, str) else []
    while queue:
        name = queue.pop()
        if name in reachable or not isinstance(states.get(name), dict):
            continue
        reachable.add(name)
        queue += [target for _, target in transitions(states[name]) if isinstance(target, str)]
    return reachable


def definition_diagnostics(definition: str) -> list[Diagnostic]:
    """Every transition problem of a definition (none if it is not a JSON object)."""
    try:
        document = json.loads(definition)
    except (TypeError, ValueError):
        return []
    return scope_diagnostics(document, "") if isinstance(document, dict) else []


def invalid_definition_message(diagnostics: list[Diagnostic]) -> str:
    problems = ", ".join(f"{d.code}: {d.message} at {d.location or 'null'}" for d in diagnostics)
    return f"Invalid State Machine Definition: '{problems}'"


def patch_provider(module: ModuleType) -> None:
    from localstack.aws.api.stepfunctions import (
        InvalidDefinition,
        ValidateStateMachineDefinitionDiagnostic,
        ValidateStateMachineDefinitionSeverity,
    )
    from localstack.services.stepfunctions.asl.static_analyser.test_state.test_state_analyser import (  # noqa: E501
        TestStateStaticAnalyser,
    )

    provider = module.StepFunctionsProvider

    def check_transitions(original, definition, static_analysers):
        # The one check CreateStateMachine, UpdateStateMachine and the validation share.
        original(definition=definition, static_analysers=static_analysers)
        if any(isinstance(a, TestStateStaticAnalyser) for a in static_analysers):
            return
        diagnostics = definition_diagnostics(definition)
        if diagnostics:
            raise InvalidDefinition(invalid_definition_message(diagnostics))

    def one_diagnostic_per_problem(original, self, context, request, **kwargs):
        # LocalStack turns the InvalidDefinition above into one SCHEMA_VALIDATION_FAILED
        # diagnostic carrying its message; AWS lists each problem with its own code.
        output = original(self, context, request, **kwargs)
        diagnostics = definition_diagnostics(request.get("definition"))
        if not diagnostics:
            return output
        summary = invalid_definition_message(diagnostics)
        if not any(d.get("message") == summary for d in output.get("diagnostics") or []):
            return output  # LocalStack refused it for another reason first
        listed = []
        for diagnostic in output.get("diagnostics") or []:
            if diagnostic.get("message") != summary:
                listed.append(diagnostic)
                continue
            for problem in diagnostics:
                entry = ValidateStateMachineDefinitionDiagnostic(
                    severity=ValidateStateMachineDefinitionSeverity.ERROR,
                    code=problem.code,
                    message=problem.message,
                )
                if problem.location is not None:
                    entry["location"] = problem.location
                listed.append(entry)
        output["diagnostics"] = listed
        return output

    patch_validation(provider, check_transitions, one_diagnostic_per_problem)


def patch_validation(provider: Any, check: Any, diagnostics: Any) -> None:
    """Put `check` around the one validation CreateStateMachine, UpdateStateMachine and
    ValidateStateMachineDefinition share, and `diagnostics` around the last one's answer
    (this patch's and `choice_boolean_operands`')."""
    from localstack.utils.patch import Patch, create_patch_proxy

    # A static method: the patch must stay one, or `self._validate_definition(...)` breaks.
    static_patch = Patch(
        provider,
        "_validate_definition",
        staticmethod(create_patch_proxy(provider._validate_definition, check)),
    )
    static_patch.old = provider.__dict__["_validate_definition"]
    static_patch.apply()
    Patch.function(provider.validate_state_machine_definition, diagnostics).apply()


def apply() -> None:
    when_imported(STEP_FUNCTIONS_PROVIDER, patch_provider)
