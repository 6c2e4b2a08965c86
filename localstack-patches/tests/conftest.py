"""The patch tests' fixtures: a small Lambda, and state machines whose one task hands it
its token and waits (see `token_waits.py`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from token_waits import ROLE, waiting_task

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.testing.functions import zip_files

# The Lambda the waiting task calls: it returns at once, or after `sleep` seconds.
NOTIFY_SOURCE = """
import time

def handler(event, context):
    time.sleep(event.get("sleep") or 0)
    return {"notified": True}
"""


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
