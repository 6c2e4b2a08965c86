"""What the patch tests share: a state machine whose one task waits for its task token.

The task hands its token to a small Lambda (`notify`) and waits; the tests read the token
from the execution's history, as a reviewer would read it from the notification, and
then decide, stop, time out or heartbeat with it.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.localstack.install import ensure_runtime_env
from sfnlab.settings import load_settings
from tests.helpers import wait_for, zip_files

ROLE = "arn:aws:iam::000000000000:role/sfnlab-test-states"

# The Lambda the waiting task calls: it returns at once, or after `sleep` seconds.
NOTIFY_SOURCE = """
import time

def handler(event, context):
    time.sleep(event.get("sleep") or 0)
    return {"notified": True}
"""


@dataclass(frozen=True)
class Waiting:
    """An execution waiting at its task, and the task's token."""

    arn: str
    token: str


@pytest.fixture(scope="module")
def notify_function(lambda_client, lambda_python_version) -> Iterator[str]:
    name = f"test-notify-{uuid.uuid4().hex[:8]}"
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python{}.{}".format(*lambda_python_version),
        Role="arn:aws:iam::000000000000:role/sfnlab-test-lambda",
        Handler="lambda_function.handler",
        Code={"ZipFile": zip_files({"lambda_function.py": NOTIFY_SOURCE})},
        Timeout=30,
    )
    arn = wait_until_ready(lambda_client, name)["FunctionArn"]
    yield arn
    lambda_client.delete_function(FunctionName=name)


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


@pytest.fixture(scope="module")
def token_machine(sfn_client, notify_function) -> Iterator[Callable[..., str]]:
    """Factory: a state machine whose task "Review" waits for its token.

    `fields` go on the task (TimeoutSeconds, HeartbeatSeconds, Catch, ...); `more_states`
    are added beside it (the target of a Catch, say).
    """
    created: list[str] = []

    def factory(more_states: dict[str, dict] | None = None, **fields: Any) -> str:
        task = waiting_task(notify_function, **{"End": True, **fields})
        definition = {"StartAt": "Review", "States": {"Review": task, **(more_states or {})}}
        arn = sfn_client.create_state_machine(
            name=f"test-token-{uuid.uuid4().hex[:8]}",
            definition=json.dumps(definition),
            roleArn=ROLE,
        )["stateMachineArn"]
        created.append(arn)
        return arn

    yield factory
    for arn in created:
        sfn_client.delete_state_machine(stateMachineArn=arn)


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


def in_localstack(script: str, timeout: float = 120) -> Any:
    """Run `script` on the embedded LocalStack's own Python (LocalStack and the patches
    importable, nothing started); what it prints last, read as JSON."""
    python = ensure_runtime_env(load_settings())
    result = subprocess.run(
        [str(python), "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
