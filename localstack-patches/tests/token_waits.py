"""Executions that wait at a task for its token, as the patch tests drive them.

The task hands its token to a small Lambda (`notify`, see `conftest.py`) and waits; the
tests read the token from the execution's history, as a reviewer would read it from the
notification, and then decide, stop, time out or heartbeat with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sfnlab.testing.waiting import wait_for

ROLE = "arn:aws:iam::000000000000:role/sfnlab-test-states"


@dataclass(frozen=True)
class Waiting:
    """An execution waiting at its task, and the task's token."""

    arn: str
    token: str


def waiting_task(function_arn: str, **fields: Any) -> dict:
    """A `lambda:invoke.waitForTaskToken` task state passing its token to the function."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": function_arn,
            "Payload": {"token.$": "$$.Task.Token", "sleep.$": "$.sleep"},
        },
        **fields,
    }


def events(sfn_client, arn: str) -> list[dict]:
    return sfn_client.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def event_types(sfn_client, arn: str) -> list[str]:
    return [event["type"] for event in events(sfn_client, arn)]


def tokens(sfn_client, arn: str) -> list[str]:
    """The task tokens handed to the execution's tasks so far, in order."""
    found = []
    for event in events(sfn_client, arn):
        if event["type"] == "TaskScheduled":
            payload = json.loads(event["taskScheduledEventDetails"]["parameters"])["Payload"]
            token = isinstance(payload, dict) and (payload.get("token") or payload.get("taskToken"))
            if token:
                found.append(token)
    return found


def submitted(sfn_client, arn: str, count: int = 1) -> bool:
    """Whether `count` tasks have handed their token over and wait for it."""
    return event_types(sfn_client, arn).count("TaskSubmitted") >= count


def start_waiting(sfn_client, machine: str, sleep: float = 0) -> Waiting:
    """Start an execution and return once its task waits for its token."""
    arn = sfn_client.start_execution(stateMachineArn=machine, input=json.dumps({"sleep": sleep}))[
        "executionArn"
    ]
    assert wait_for(lambda: submitted(sfn_client, arn), timeout=30), "the task never waited"
    return Waiting(arn, tokens(sfn_client, arn)[0])


def status(sfn_client, arn: str) -> str:
    return sfn_client.describe_execution(executionArn=arn)["status"]


def ended(sfn_client, arn: str, timeout: float = 10.0) -> str:
    """The execution's status once it is no longer RUNNING (RUNNING if it never ends)."""
    wait_for(lambda: status(sfn_client, arn) != "RUNNING", timeout=timeout)
    return status(sfn_client, arn)


def refusal(call: Callable[..., Any], **arguments: Any) -> tuple[str, str] | None:
    """(error code, message) of a refused call; None if it was accepted."""
    try:
        call(**arguments)
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["Error"]["Message"]
    return None
