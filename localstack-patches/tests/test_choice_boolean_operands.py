"""Choice rules whose boolean operand is a string, a number or null (patch
`choice_boolean_operands`).

The States Language gives each comparison operator a value of its type: BooleanEquals
and the Is* tests take a boolean. AWS checks a definition against that schema before
anything else: ValidateStateMachineDefinition answers FAIL with SCHEMA_VALIDATION_FAILED,
"Expected value of type Boolean", at the operand's location; CreateStateMachine and
UpdateStateMachine refuse it with `InvalidDefinition`.
"""

from __future__ import annotations

import json
import uuid

import pytest
from localstack_python import in_localstack
from test_definition_transition_checks import diagnostics
from token_waits import ROLE, refusal

YES, NO = {"Type": "Succeed"}, {"Type": "Fail", "Error": "No"}


def choice(*rules: dict) -> dict:
    """A workflow whose Choice `C` has `rules`, each going to Yes; the default is No."""
    return {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{**r, "Next": "Yes"} for r in rules],
                "Default": "No",
            },
            "Yes": YES,
            "No": NO,
        },
    }


def boolean_error(location: str) -> tuple[str, str, str]:
    return ("SCHEMA_VALIDATION_FAILED", "Expected value of type Boolean", location)


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        pytest.param(
            choice({"Variable": "$.approved", "BooleanEquals": "true"}),
            [boolean_error("/States/C/Choices[0]/BooleanEquals")],
            id="string-true",
        ),
        pytest.param(
            choice(
                {"Variable": "$.a", "BooleanEquals": True},
                {"Variable": "$.b", "BooleanEquals": 1},
            ),
            [boolean_error("/States/C/Choices[1]/BooleanEquals")],
            id="number",
        ),
        pytest.param(
            choice({"Variable": "$.a", "IsPresent": "false"}, {"Variable": "$.b", "IsNull": None}),
            [
                boolean_error("/States/C/Choices[0]/IsPresent"),
                boolean_error("/States/C/Choices[1]/IsNull"),
            ],
            id="is-tests",
        ),
        pytest.param(
            choice(
                {
                    "And": [
                        {"Variable": "$.a", "BooleanEquals": True},
                        {"Not": {"Variable": "$.b", "BooleanEquals": "false"}},
                    ]
                }
            ),
            [boolean_error("/States/C/Choices[0]/And[1]/Not/BooleanEquals")],
            id="nested",
        ),
        pytest.param(
            {
                "StartAt": "P",
                "States": {
                    "P": {
                        "Type": "Parallel",
                        "End": True,
                        "Branches": [choice({"Variable": "$.x", "IsString": "yes"})],
                    }
                },
            },
            [boolean_error("/States/P/Branches[0]/States/C/Choices[0]/IsString")],
            id="parallel-branch",
        ),
    ],
)
def test_validation_names_each_operand_that_is_not_a_boolean(sfn_client, definition, expected):
    """AWS: FAIL, one SCHEMA_VALIDATION_FAILED diagnostic per operand, at its location."""
    assert diagnostics(sfn_client, definition) == ("FAIL", expected)


def test_boolean_operands_and_other_comparisons_stay_ok(sfn_client):
    """AWS: true and false (and every other operator's own values) validate OK."""
    definition = choice(
        {"Variable": "$.a", "BooleanEquals": False},
        {"Variable": "$.b", "IsPresent": True},
        {"Variable": "$.c", "StringEquals": "true"},
        {"Variable": "$.d", "BooleanEqualsPath": "$.e"},
    )
    assert diagnostics(sfn_client, definition) == ("OK", [])


def test_create_state_machine_refuses_it_with_invalid_definition(sfn_client):
    """AWS: CreateStateMachine answers InvalidDefinition, "Invalid State Machine
    Definition: 'SCHEMA_VALIDATION_FAILED: Expected value of type Boolean at <location>'",
    and creates nothing."""
    name = f"test-boolean-{uuid.uuid4().hex[:8]}"
    code, message = refusal(
        sfn_client.create_state_machine,
        name=name,
        definition=json.dumps(choice({"Variable": "$.approved", "BooleanEquals": "true"})),
        roleArn=ROLE,
    )
    assert (code, message) == (
        "InvalidDefinition",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Expected value of type "
        "Boolean at /States/C/Choices[0]/BooleanEquals'",
    )
    assert name not in [m["name"] for m in sfn_client.list_state_machines()["stateMachines"]]


def test_update_state_machine_refuses_it_and_keeps_the_old_definition(sfn_client):
    good = choice({"Variable": "$.approved", "BooleanEquals": True})
    arn = sfn_client.create_state_machine(
        name=f"test-boolean-{uuid.uuid4().hex[:8]}", definition=json.dumps(good), roleArn=ROLE
    )["stateMachineArn"]
    try:
        code, _ = refusal(
            sfn_client.update_state_machine,
            stateMachineArn=arn,
            definition=json.dumps(choice({"Variable": "$.approved", "BooleanEquals": "true"})),
        )
        assert code == "InvalidDefinition"
        described = sfn_client.describe_state_machine(stateMachineArn=arn)
        assert json.loads(described["definition"]) == good
    finally:
        sfn_client.delete_state_machine(stateMachineArn=arn)


def test_a_transition_problem_beside_it_is_still_reported(sfn_client):
    """The schema's complaint comes first; fixed, the transition checks speak."""
    broken = choice({"Variable": "$.a", "BooleanEquals": "true"})
    broken["States"]["Orphan"] = YES
    assert diagnostics(sfn_client, broken)[1] == [
        boolean_error("/States/C/Choices[0]/BooleanEquals")
    ]
    broken["States"]["C"]["Choices"][0]["BooleanEquals"] = True
    assert diagnostics(sfn_client, broken) == (
        "FAIL",
        [("MISSING_TRANSITION_TARGET", 'State "Orphan" is not reachable.', "/States/Orphan")],
    )


def test_without_the_patch_localstack_accepts_a_string_operand():
    """The defect itself, in LocalStack 4.14.0 as shipped: a string where the schema takes
    a boolean passes its validation. When this fails, LocalStack checks it itself: the
    patch can go."""
    accepted = in_localstack(
        """
        import json
        from localstack.services.stepfunctions.provider import StepFunctionsProvider
        from localstack.services.stepfunctions.asl.static_analyser.static_analyser import (
            StaticAnalyser,
        )
        definition = {
            "StartAt": "C",
            "States": {
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.a", "BooleanEquals": "true", "Next": "Y"}],
                    "Default": "Y",
                },
                "Y": {"Type": "Succeed"},
            },
        }
        try:
            StepFunctionsProvider._validate_definition(
                definition=json.dumps(definition), static_analysers=[StaticAnalyser()]
            )
            print(json.dumps(True))
        except Exception:
            print(json.dumps(False))
        """
    )
    assert accepted is True
