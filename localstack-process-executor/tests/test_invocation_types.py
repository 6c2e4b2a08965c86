"""Synchronous, asynchronous and Step Functions invocations, including task tokens."""

from __future__ import annotations

import json
import uuid

import pytest

from sfnlab.testing.functions import invoke
from sfnlab.testing.waiting import wait_for


def test_synchronous_invocation_returns_the_result(lambda_client, create_function):
    name = create_function("def handler(event, context):\n    return {'got': event}\n")
    response = invoke(lambda_client, name, {"branch": "feature/x"})
    assert response["StatusCode"] == 200
    assert response["Payload"] == {"got": {"branch": "feature/x"}}


def test_asynchronous_invocation_runs_the_handler(lambda_client, logs_client, create_function):
    name = create_function("def handler(event, context):\n    print('async', event['marker'])\n")
    marker = uuid.uuid4().hex
    response = lambda_client.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps({"marker": marker})
    )
    assert response["StatusCode"] == 202

    def logged() -> bool:
        try:
            events = logs_client.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except logs_client.exceptions.ResourceNotFoundException:
            return False
        return any(f"async {marker}" in event["message"] for event in events)

    assert wait_for(logged)


# The handler decides with the token it was given, through boto3 and AWS_ENDPOINT_URL,
# exactly as the exercise's approval step does.
DECIDER = """
import boto3, json

sfn = boto3.client("stepfunctions")

def handler(event, context):
    if event["decision"] == "approve":
        sfn.send_task_success(taskToken=event["token"], output=json.dumps({"approved": True}))
    else:
        sfn.send_task_failure(taskToken=event["token"], error="Rejected", cause="no, thanks")
    return {"sent": event["decision"]}
"""


def callback_machine(function_arn: str) -> str:
    return json.dumps(
        {
            "StartAt": "Decide",
            "States": {
                "Decide": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {
                        "FunctionName": function_arn,
                        "Payload": {"token.$": "$$.Task.Token", "decision.$": "$.decision"},
                    },
                    "End": True,
                }
            },
        }
    )


@pytest.fixture
def callback_state_machine(lambda_client, sfn_client, create_function):
    name = create_function(DECIDER)
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    machine = sfn_client.create_state_machine(
        name=f"callback-{name}",
        definition=callback_machine(arn),
        roleArn="arn:aws:iam::000000000000:role/sfnlab-test-states",
    )["stateMachineArn"]
    yield machine
    sfn_client.delete_state_machine(stateMachineArn=machine)


def run_to_end(sfn_client, machine: str, decision: str) -> dict:
    execution = sfn_client.start_execution(
        stateMachineArn=machine, input=json.dumps({"decision": decision})
    )["executionArn"]
    assert wait_for(
        lambda: sfn_client.describe_execution(executionArn=execution)["status"] != "RUNNING",
        timeout=30,
    )
    return sfn_client.describe_execution(executionArn=execution)


def test_wait_for_task_token_resumes_on_send_task_success(sfn_client, callback_state_machine):
    result = run_to_end(sfn_client, callback_state_machine, "approve")
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"approved": True}


def test_wait_for_task_token_fails_on_send_task_failure(sfn_client, callback_state_machine):
    result = run_to_end(sfn_client, callback_state_machine, "reject")
    assert result["status"] == "FAILED"
    assert result["error"] == "Rejected"
    assert result["cause"] == "no, thanks"
