"""Choice rules whose boolean operand is not a JSON boolean are refused, as AWS refuses them.

LocalStack 4.14.0 creates, updates and validates (ValidateStateMachineDefinition: OK) a
Choice rule such as `{"Variable": "$.review.approved", "BooleanEquals": "true", ...}`:
the string "true" never equals the boolean true, so every execution silently takes the
Default way (an approved review ends in the rejection's Fail state).

AWS checks a definition against the States Language's schema first, and a comparison
operator whose value is of the wrong type fails it: ValidateStateMachineDefinition
answers FAIL with one ERROR diagnostic per such operand,

    SCHEMA_VALIDATION_FAILED  Expected value of type Boolean  at /States/C/Choices[0]/BooleanEquals

and CreateStateMachine and UpdateStateMachine answer InvalidDefinition, "Invalid State
Machine Definition: 'SCHEMA_VALIDATION_FAILED: Expected value of type Boolean at
/States/C/Choices[0]/BooleanEquals'". The operators that take a boolean are
BooleanEquals and the Is* tests (IsNull, IsPresent, IsNumeric, IsString, IsBoolean,
IsTimestamp); rules nested in And, Or and Not, and the states of Parallel branches and
Map processors, are checked alike. JSONata Choice rules (a `Condition`) have no such
operands. TestState is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from localstack_sfnlab_patches.definition_transition_checks import (
    Diagnostic,
    invalid_definition_message,
    patch_validation,
)
from localstack_sfnlab_patches.import_hooks import when_imported

STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"
SCHEMA_VALIDATION_FAILED = "SCHEMA_VALIDATION_FAILED"
BOOLEAN_OPERATORS = (
    "BooleanEquals",
    "IsBoolean",
    "IsNull",
    "IsNumeric",
    "IsPresent",
    "IsString",
    "IsTimestamp",
)
NOT_A_BOOLEAN = "Expected value of type Boolean"


def rule_diagnostics(rule: Any, where: str) -> Iterator[Diagnostic]:
    """Every boolean operand of a Choice rule (and the rules nested in it) that is not one."""
    if not isinstance(rule, dict):
        return
    for operator in BOOLEAN_OPERATORS:
        if operator in rule and not isinstance(rule[operator], bool):
            yield Diagnostic(SCHEMA_VALIDATION_FAILED, NOT_A_BOOLEAN, f"{where}/{operator}")
    for combinator in ("And", "Or"):
        nested = rule.get(combinator)
        for index, inner in enumerate(nested if isinstance(nested, list) else []):
            yield from rule_diagnostics(inner, f"{where}/{combinator}[{index}]")
    if "Not" in rule:
        yield from rule_diagnostics(rule["Not"], f"{where}/Not")


def scope_diagnostics(scope: Any, where: str) -> list[Diagnostic]:
    """The problems of one set of states (the workflow, a branch, a Map processor)."""
    states = scope.get("States") if isinstance(scope, dict) else None
    if not isinstance(states, dict):
        return []
    found: list[Diagnostic] = []
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        if state.get("Type") == "Choice":
            rules = state.get("Choices")
            for index, rule in enumerate(rules if isinstance(rules, list) else []):
                found += rule_diagnostics(rule, f"{where}/States/{name}/Choices[{index}]")
        branches = state.get("Branches")
        for index, branch in enumerate(branches if isinstance(branches, list) else []):
            found += scope_diagnostics(branch, f"{where}/States/{name}/Branches[{index}]")
        for field in ("ItemProcessor", "Iterator"):
            found += scope_diagnostics(state.get(field), f"{where}/States/{name}/{field}")
    return found


def definition_diagnostics(definition: str) -> list[Diagnostic]:
    """Every boolean operand of the definition that is not a boolean."""
    try:
        document = json.loads(definition)
    except (TypeError, ValueError):
        return []
    return scope_diagnostics(document, "")


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

    def check_operands(original, definition, static_analysers):
        # Schema first, as AWS checks it before the transitions (and LocalStack's parse).
        if not any(isinstance(a, TestStateStaticAnalyser) for a in static_analysers):
            diagnostics = definition_diagnostics(definition)
            if diagnostics:
                raise InvalidDefinition(invalid_definition_message(diagnostics))
        original(definition=definition, static_analysers=static_analysers)

    def one_diagnostic_per_operand(original, self, context, request, **kwargs):
        # LocalStack turns the InvalidDefinition above into one SCHEMA_VALIDATION_FAILED
        # diagnostic carrying its whole message; AWS lists each operand with its location.
        output = original(self, context, request, **kwargs)
        diagnostics = definition_diagnostics(request.get("definition"))
        summary = invalid_definition_message(diagnostics) if diagnostics else None
        listed = []
        for diagnostic in output.get("diagnostics") or []:
            if summary is None or diagnostic.get("message") != summary:
                listed.append(diagnostic)
                continue
            listed += [
                ValidateStateMachineDefinitionDiagnostic(
                    severity=ValidateStateMachineDefinitionSeverity.ERROR,
                    code=problem.code,
                    message=problem.message,
                    location=problem.location,
                )
                for problem in diagnostics
            ]
        output["diagnostics"] = listed
        return output

    patch_validation(provider, check_operands, one_diagnostic_per_operand)


def apply() -> None:
    when_imported(STEP_FUNCTIONS_PROVIDER, patch_provider)
