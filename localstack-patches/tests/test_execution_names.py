"""Execution names AWS refuses are refused (patch `execution_names`).

AWS Step Functions API reference, StartExecution `name`: 1 to 80 characters, and no white
space, brackets (< > { } [ ]), wildcards (? *), special characters (" # % \\ ^ | ~ ` $ & ,
; : /) or control characters (U+0000-001F, U+007F-009F); otherwise `InvalidName`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from token_waits import refusal

ROLE = "arn:aws:iam::000000000000:role/execution-names"
REFUSED = [
    "bad name",  # white space
    "tab\tname",
    "a" * 81,  # one too long
    "review/1",
    "review:1",
    "why?",
    "all*",
    "[draft]",
    "<b>",
    "{x}",
    'say"hi"',
    "50%",
    "a#b",
    "back\\slash",
    "caret^",
    "pipe|",
    "tilde~",
    "tick`",
    "$HOME",
    "a&b",
    "a,b",
    "a;b",
    "bell\x07",
    "del\x7f",
    "next-line\x85",
]
# Names AWS accepts; LocalStack 4.14 starts them, though its ARN check then refuses some
# (non-ASCII letters, `!`, `@`, ...) in DescribeExecution, which this patch leaves alone.
ACCEPTED = ["a" * 80, "solve-1_ok.v2", "x", "approved!by@ana+(1)='yes'", "revisión-ñ"]


@pytest.fixture(scope="module")
def pass_machine(sfn_client) -> Iterator[str]:
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    arn = sfn_client.create_state_machine(
        name=f"test-names-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    yield arn
    sfn_client.delete_state_machine(stateMachineArn=arn)


@pytest.mark.parametrize("name", REFUSED, ids=range(len(REFUSED)))
def test_a_name_aws_refuses_is_invalid_name_and_starts_nothing(sfn_client, pass_machine, name):
    assert refusal(
        sfn_client.start_execution, stateMachineArn=pass_machine, name=name, input="{}"
    ) == ("InvalidName", f"Invalid Name: '{name}'")
    started = sfn_client.list_executions(stateMachineArn=pass_machine)["executions"]
    assert name not in [execution["name"] for execution in started]


def test_names_aws_accepts_start_as_before(sfn_client, pass_machine):
    for name in ACCEPTED:
        sfn_client.start_execution(stateMachineArn=pass_machine, name=name, input="{}")
    # Without a name, Step Functions still makes one up.
    sfn_client.start_execution(stateMachineArn=pass_machine, input="{}")
    started = sfn_client.list_executions(stateMachineArn=pass_machine)["executions"]
    names = [execution["name"] for execution in started]
    assert set(ACCEPTED) <= set(names) and len(names) == len(ACCEPTED) + 1
