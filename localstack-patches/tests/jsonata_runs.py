"""Run a definition on the session's LocalStack and read back what AWS would show."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sfnlab.testing.waiting import wait_for

STATES_ROLE = "arn:aws:iam::000000000000:role/sfnlab-test-states"


@dataclass
class Run:
    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    events: list[dict]

    def of_type(self, event_type: str) -> list[dict]:
        return [event for event in self.events if event["type"] == event_type]

    @property
    def types(self) -> list[str]:
        return [event["type"] for event in self.events]


def create(sfn_client, definition: dict) -> str:
    name = f"jsonata-{uuid.uuid4().hex[:10]}"
    return sfn_client.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=STATES_ROLE
    )["stateMachineArn"]


def start(sfn_client, machine_arn: str, execution_input: Any = None) -> str:
    return sfn_client.start_execution(
        stateMachineArn=machine_arn,
        input=json.dumps({} if execution_input is None else execution_input),
    )["executionArn"]


def finish(sfn_client, execution_arn: str, timeout: float = 20.0) -> Run:
    """Wait until the execution has ended (or fail the test: nothing may stay RUNNING)."""

    def ended() -> dict | None:
        described = sfn_client.describe_execution(executionArn=execution_arn)
        return described if described["status"] != "RUNNING" else None

    described = wait_for(ended, timeout)
    assert described, f"the execution is still RUNNING after {timeout} s"
    events = sfn_client.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    output = described.get("output")
    return Run(
        arn=execution_arn,
        status=described["status"],
        output=json.loads(output) if output is not None else None,
        error=described.get("error"),
        cause=described.get("cause"),
        events=events,
    )


def run(sfn_client, definition: dict, execution_input: Any = None, timeout: float = 20.0) -> Run:
    return finish(
        sfn_client, start(sfn_client, create(sfn_client, definition), execution_input), timeout
    )


def jsonata(states: dict, start_at: str | None = None) -> dict:
    """A JSONata state machine of `states` (starting at the first one)."""
    return {"QueryLanguage": "JSONata", "StartAt": start_at or next(iter(states)), "States": states}


def pass_output(output: Any) -> dict:
    """One Pass state whose Output is `output`."""
    return jsonata({"Only": {"Type": "Pass", "Output": output, "End": True}})
