"""A Step Functions Lambda task hands its `Payload` to the function as AWS does.

AWS (checked against AWS by LocalStack's snapshot tests of the Lambda integration): the
task sends `Payload` as JSON. A string that is itself JSON text is sent as that JSON; any
other string becomes a JSON string. What the function returns comes back as `Payload`,
a string as a string.
"""

from __future__ import annotations

import json
import uuid

import pytest

from sfnlab.support.polling import poll

ROLE = "arn:aws:iam::000000000000:role/payloads"
ECHO = """
def handler(event, context):
    return {"type": type(event).__name__, "event": event}
"""
GREETER = """
def handler(event, context):
    return "hello " + event
"""


def run(sfn_client, function: str, payload) -> dict:
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function, "Payload.$": "$.payload"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    machine = sfn_client.create_state_machine(
        name=f"payloads-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    arn = sfn_client.start_execution(
        stateMachineArn=machine, input=json.dumps({"payload": payload})
    )["executionArn"]
    poll(
        lambda: sfn_client.describe_execution(executionArn=arn)["status"] != "RUNNING",
        30,
        max_delay=0.1,
    )
    described = sfn_client.describe_execution(executionArn=arn)
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


@pytest.mark.parametrize(
    ("payload", "event"),
    [
        ("HelloWorld", "HelloWorld"),  # not JSON text: a JSON string
        ("'{'Hello':'World'}'", "'{'Hello':'World'}'"),
        ('"HelloWorld"', "HelloWorld"),  # JSON text: that JSON
        ('{"a": 1}', {"a": 1}),
        ("0", 0),
        ("true", True),
        ("[]", []),
        ({"a": "b"}, {"a": "b"}),
        (12, 12),
    ],
)
def test_the_function_gets_the_payload_as_json(sfn_client, create_function, payload, event):
    name = create_function(ECHO)
    assert run(sfn_client, name, payload) == {"type": type(event).__name__, "event": event}


def test_a_string_the_function_returns_is_the_tasks_payload(sfn_client, create_function):
    name = create_function(GREETER)
    assert run(sfn_client, name, "bob") == "hello bob"


RETURNS_BYTES = """
def handler(event, context):
    return b'"HelloWorld!"'
"""


def test_bytes_a_function_returns_pass_through_as_its_result(
    lambda_client, sfn_client, create_function
):
    """AWS's Python runtime sends returned bytes as they are (LocalStack's AWS-validated
    test_invoke_bytes_payload): here too, for Invoke and for both Lambda task forms."""
    name = create_function(RETURNS_BYTES)
    response = lambda_client.invoke(FunctionName=name)
    assert "FunctionError" not in response
    assert response["Payload"].read() == b'"HelloWorld!"'
    assert run(sfn_client, name, {}) == "HelloWorld!"  # arn:aws:states:::lambda:invoke
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    definition = {
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": arn, "End": True}},
    }
    machine = sfn_client.create_state_machine(
        name=f"bytes-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn_client.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    poll(
        lambda: sfn_client.describe_execution(executionArn=execution)["status"] != "RUNNING",
        30,
        max_delay=0.1,
    )
    described = sfn_client.describe_execution(executionArn=execution)
    assert (described["status"], described["output"]) == ("SUCCEEDED", '"HelloWorld!"')


def test_a_nodejs_function_is_a_lambda_task_as_a_python_one_is(sfn_client, create_node_function):
    name = create_node_function(
        "exports.handler = async (event) => ({ type: typeof event, event });"
    )
    assert run(sfn_client, name, '{"a": 1}') == {"type": "object", "event": {"a": 1}}
    assert run(sfn_client, name, "HelloWorld") == {"type": "string", "event": "HelloWorld"}
