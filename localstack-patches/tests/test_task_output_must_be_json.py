"""SendTaskSuccess refuses an output that is not JSON (patch `task_output_must_be_json`).

AWS Step Functions API reference, SendTaskSuccess: `output` is "The JSON output of the
task"; the call's errors include `InvalidOutput`, "The provided JSON output data is not
valid." AWS does not document the message's wording; the kit's is the reference's.
"""

from __future__ import annotations

import json

import pytest
from token_waits import ended, refusal, start_waiting, status

INVALID = ("InvalidOutput", "The provided JSON output data is not valid.")


@pytest.mark.parametrize(
    "output", ["approved", "{'approved': true}", '{"approved": true', "", "NaN", "[1, Infinity]"]
)
def test_an_output_that_is_not_json_is_refused(sfn_client, token_machine, output):
    """AWS: InvalidOutput, and the task is not touched: it still waits, and its token
    still decides with a corrected output."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    assert refusal(sfn_client.send_task_success, taskToken=waiting.token, output=output) == INVALID
    assert status(sfn_client, waiting.arn) == "RUNNING"
    sfn_client.send_task_success(taskToken=waiting.token, output=json.dumps({"approved": True}))
    assert ended(sfn_client, waiting.arn) == "SUCCEEDED"
    described = sfn_client.describe_execution(executionArn=waiting.arn)
    assert json.loads(described["output"]) == {"approved": True}


@pytest.mark.parametrize("output", ['"just text"', "42", "null", "[]", ' {"a": [1, 2.5e3]} '])
def test_any_json_value_is_accepted(sfn_client, token_machine, output):
    """AWS: any JSON value is a task's output, not only an object; it becomes the output."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    assert refusal(sfn_client.send_task_success, taskToken=waiting.token, output=output) is None
    assert ended(sfn_client, waiting.arn) == "SUCCEEDED"
    described = sfn_client.describe_execution(executionArn=waiting.arn)
    assert json.loads(described["output"]) == json.loads(output)


def test_the_length_limit_is_checked_first(sfn_client, token_machine):
    """AWS: an output over 262,144 bytes is a ValidationException whatever it holds: the
    request's constraints are checked before its content."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    code, _ = refusal(sfn_client.send_task_success, taskToken=waiting.token, output="x" * 262_145)
    assert code == "ValidationException"
