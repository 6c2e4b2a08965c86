"""Definitions with missing transition targets or unreachable states (patch
`definition_transition_checks`).

AWS Step Functions API reference, ValidateStateMachineDefinitionDiagnostic, error codes:
MISSING_TRANSITION_TARGET ("The value of "Next" field doesn't match a known state
name"), MISSING_END_STATE ("The workflow does not have a terminal state"); a definition
with an ERROR diagnostic gives result FAIL, and CreateStateMachine / UpdateStateMachine
refuse it with `InvalidDefinition`.
"""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.config import Config
from token_waits import ROLE, refusal

PASS_END = {"Type": "Pass", "End": True}


def diagnostics(sfn_client, definition: dict) -> tuple[str, list[tuple]]:
    result = sfn_client.validate_state_machine_definition(definition=json.dumps(definition))
    found = [(d["code"], d["message"], d.get("location")) for d in result["diagnostics"]]
    assert all(d["severity"] == "ERROR" for d in result["diagnostics"])
    return result["result"], found


MISSING_NEXT = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}, "B": PASS_END}}


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        pytest.param(
            MISSING_NEXT,
            [
                ("MISSING_TRANSITION_TARGET", "Missing 'Next' target: Nope", "/States/A/Next"),
                ("MISSING_TRANSITION_TARGET", 'State "B" is not reachable.', "/States/B"),
            ],
            id="next",
        ),
        pytest.param(
            {"StartAt": "Start", "States": {"A": PASS_END}},
            [
                ("MISSING_TRANSITION_TARGET", "Missing 'Next' target: Start", "/StartAt"),
                ("MISSING_TRANSITION_TARGET", 'State "A" is not reachable.', "/States/A"),
            ],
            id="start-at",
        ),
        pytest.param(
            {
                "StartAt": "C",
                "States": {
                    "C": {
                        "Type": "Choice",
                        "Default": "Gone",
                        "Choices": [{"Variable": "$.x", "BooleanEquals": True, "Next": "Lost"}],
                    },
                },
            },
            [
                ("MISSING_TRANSITION_TARGET", "Missing 'Next' target: Gone", "/States/C/Default"),
                (
                    "MISSING_TRANSITION_TARGET",
                    "Missing 'Next' target: Lost",
                    "/States/C/Choices[0]/Next",
                ),
                ("MISSING_END_STATE", "Workflow has no terminal state", None),
            ],
            id="choice",
        ),
        pytest.param(
            {
                "StartAt": "T",
                "States": {
                    "T": {
                        "Type": "Pass",
                        "End": True,
                        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}],
                    },
                },
            },
            [
                (
                    "MISSING_TRANSITION_TARGET",
                    "Missing 'Next' target: Oops",
                    "/States/T/Catch[0]/Next",
                )
            ],
            id="catch",
        ),
        pytest.param(
            {"StartAt": "A", "States": {"A": PASS_END, "Orphan": {"Type": "Succeed"}}},
            [("MISSING_TRANSITION_TARGET", 'State "Orphan" is not reachable.', "/States/Orphan")],
            id="unreachable",
        ),
        pytest.param(
            {
                "StartAt": "A",
                "States": {
                    "A": {"Type": "Pass", "Next": "B"},
                    "B": {"Type": "Pass", "Next": "A"},
                    "Orphan": {"Type": "Pass", "Next": "A"},
                },
            },
            [("MISSING_END_STATE", "Workflow has no terminal state", None)],
            id="no-terminal-state-hides-unreachable",
        ),
        pytest.param(
            {
                "StartAt": "P",
                "States": {
                    "P": {
                        "Type": "Parallel",
                        "End": True,
                        "Branches": [
                            {"StartAt": "X", "States": {"X": PASS_END}},
                            {
                                "StartAt": "Y",
                                "States": {
                                    "Y": {"Type": "Pass", "Next": "Z"},
                                    "Z": PASS_END,
                                    "Stray": PASS_END,
                                },
                            },
                        ],
                    }
                },
            },
            [
                (
                    "MISSING_TRANSITION_TARGET",
                    'State "Stray" is not reachable.',
                    "/States/P/Branches[1]/States/Stray",
                )
            ],
            id="parallel-branch",
        ),
        pytest.param(
            {
                "StartAt": "M",
                "States": {
                    "M": {
                        "Type": "Map",
                        "End": True,
                        "ItemProcessor": {
                            "StartAt": "Item",
                            "States": {
                                "Item": {"Type": "Pass", "Next": "Elsewhere"},
                                "Done": PASS_END,
                            },
                        },
                    }
                },
            },
            [
                (
                    "MISSING_TRANSITION_TARGET",
                    "Missing 'Next' target: Elsewhere",
                    "/States/M/ItemProcessor/States/Item/Next",
                ),
                (
                    "MISSING_TRANSITION_TARGET",
                    'State "Done" is not reachable.',
                    "/States/M/ItemProcessor/States/Done",
                ),
            ],
            id="map-processor",
        ),
    ],
)
def test_validation_reports_each_problem_with_its_code(sfn_client, definition, expected):
    """AWS: ValidateStateMachineDefinition answers FAIL with one ERROR diagnostic per
    missing target and per unreachable state, each with its code, message and location;
    a workflow with no terminal state gets MISSING_END_STATE instead of its unreachable
    states. Parallel branches and Map processors are checked on their own states (a
    branch cannot jump out of itself)."""
    assert diagnostics(sfn_client, definition) == ("FAIL", expected)


def test_a_branch_cannot_name_a_state_outside_itself(sfn_client):
    """AWS: each Parallel branch is its own set of states: a Next naming a state of the
    enclosing workflow is a missing target there."""
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Next": "After",
                "Branches": [
                    {
                        "StartAt": "X",
                        "States": {"X": {"Type": "Pass", "Next": "After"}, "End": PASS_END},
                    }
                ],
            },
            "After": PASS_END,
        },
    }
    result, found = diagnostics(sfn_client, definition)
    assert result == "FAIL"
    assert (
        "MISSING_TRANSITION_TARGET",
        "Missing 'Next' target: After",
        "/States/P/Branches[0]/States/X/Next",
    ) in found


def test_sound_definitions_stay_ok(sfn_client):
    """AWS: a definition whose transitions all resolve and whose states are all reachable
    validates OK with no diagnostics (loops with an exit are fine)."""
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Choice",
                "Default": "B",
                "Choices": [{"Variable": "$.again", "BooleanEquals": True, "Next": "A2"}],
            },
            "A2": {"Type": "Pass", "Next": "A"},
            "B": {"Type": "Succeed"},
        },
    }
    assert diagnostics(sfn_client, definition) == ("OK", [])


def test_create_state_machine_refuses_it_with_invalid_definition(sfn_client):
    """AWS: CreateStateMachine answers InvalidDefinition, "Invalid State Machine
    Definition: '<CODE>: <message> at <location>, ...'", and creates nothing."""
    name = f"test-invalid-{uuid.uuid4().hex[:8]}"
    code, message = refusal(
        sfn_client.create_state_machine,
        name=name,
        definition=json.dumps(MISSING_NEXT),
        roleArn=ROLE,
    )
    assert code == "InvalidDefinition"
    assert message == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: "
        'Nope at /States/A/Next, MISSING_TRANSITION_TARGET: State "B" is not reachable. at '
        "/States/B'"
    )
    names = [m["name"] for m in sfn_client.list_state_machines()["stateMachines"]]
    assert name not in names


def test_update_state_machine_refuses_it_and_keeps_the_old_definition(sfn_client):
    """AWS: UpdateStateMachine answers InvalidDefinition too; the machine keeps its
    definition."""
    good = {"StartAt": "A", "States": {"A": PASS_END}}
    arn = sfn_client.create_state_machine(
        name=f"test-update-{uuid.uuid4().hex[:8]}", definition=json.dumps(good), roleArn=ROLE
    )["stateMachineArn"]
    try:
        code, message = refusal(
            sfn_client.update_state_machine,
            stateMachineArn=arn,
            definition=json.dumps({"StartAt": "A", "States": {"A": PASS_END, "B": PASS_END}}),
        )
        assert code == "InvalidDefinition"
        assert 'MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B' in message
        described = sfn_client.describe_state_machine(stateMachineArn=arn)
        assert json.loads(described["definition"]) == good
    finally:
        sfn_client.delete_state_machine(stateMachineArn=arn)


def test_localstack_own_refusals_keep_their_message(sfn_client):
    """What LocalStack already refuses (here an unknown state Type) is reported as before:
    one SCHEMA_VALIDATION_FAILED diagnostic."""
    broken = {"StartAt": "A", "States": {"A": {"Type": "Passs", "End": True}}}
    result, found = diagnostics(sfn_client, broken)
    assert result == "FAIL"
    assert [code for code, _, _ in found] == ["SCHEMA_VALIDATION_FAILED"]


def test_test_state_still_checks_a_single_state(localstack):
    """AWS: TestState runs one state on its own; its Next need not exist in any workflow,
    so the transition checks do not apply to it."""
    # TestState's endpoint has a host prefix ("sync-") that a local endpoint cannot take.
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=localstack.endpoint,
        region_name=localstack.region,
        aws_access_key_id=localstack.account_id,
        aws_secret_access_key="test",
        config=Config(inject_host_prefix=False),
    )
    result = sfn.test_state(
        definition=json.dumps({"Type": "Pass", "Next": "Elsewhere"}), roleArn=ROLE, input="{}"
    )
    assert (result["status"], result["nextState"]) == ("SUCCEEDED", "Elsewhere")
