"""Executions of SolveIssue: start one, follow it, and read the path it took.

The path comes from the execution's history, the same events the AWS console draws its
graph from: each state entered, and whether it succeeded, failed, was caught, or is
still waiting (for a task token, say).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfnlab.errors import ExecutionGone, LearnerError
from sfnlab.exercise import INITIAL_EVENT, STATE_MACHINE_NAME
from sfnlab.localstack.log_view import shorten
from sfnlab.settings import Settings
from sfnlab.support.aws import client
from sfnlab.support.polling import poll
from sfnlab.workflow.history import Call, History, Visit, fetch_events, read_history

ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass
class Execution:
    arn: str
    name: str
    status: str
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    path: list[Visit] = field(default_factory=list)
    # The `.waitForTaskToken` calls whose token can still decide (one per reviewer who
    # has not decided yet), each with the event its Lambda got: the token among it.
    waiting: list[Call] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def waiting_at(self) -> str | None:
        """The state the execution waits in (for a task token), if any."""
        return next(iter(self.waiting_in), None)

    @property
    def waiting_in(self) -> list[str]:
        """Every state the execution waits in now (both reviews of a Parallel state)."""
        return [state.name for state in self.path if state.outcome == "waiting"]

    def path_text(self) -> str:
        return " -> ".join(f"{state.name} ({state.outcome})" for state in self.path)

    def failure(self, full: bool = False) -> str | None:
        """`error: message` of an execution that failed (or either alone, as a stop may
        give neither, one or both); the whole cause only if `full`.

        A Lambda's failure comes as a JSON cause with the handler's stack trace; what a
        learner needs first is its message (and a 100 KB reject comment is cut short).
        """
        if not self.error and not self.cause:
            return None
        cause = self.cause or ""
        if not full:
            try:
                parsed = json.loads(cause)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and "errorMessage" in parsed:
                cause = str(parsed["errorMessage"])
            cause = shorten(cause)
        return ": ".join(part for part in (self.error, cause) if part)

    @property
    def shown_status(self) -> str:
        """The status as a learner reads it: ABORTED is what StopExecution leaves."""
        return "stopped (ABORTED)" if self.status == "ABORTED" else self.status

    def report(self, full_cause: bool = False) -> str:
        """What `sfnlab status EXECUTION` prints: status, the path state by state, the error."""
        lines = [f"{self.name}: {self.shown_status}"]
        lines += [f"  {s.name:<18} {s.type:<8} {s.outcome}" for s in self.path]
        failure = self.failure(full_cause)
        if failure:
            lines.append(f"{'error' if self.error else 'cause'}: {failure}")
            if not full_cause and failure != self.failure(True):
                lines.append("(the whole cause: add --cause)")
        return "\n".join(lines)


def local_state_machine_arn(settings: Settings, name: str = STATE_MACHINE_NAME) -> str:
    """A state machine's ARN on LocalStack, whose account and region are known beforehand."""
    return f"arn:aws:states:{settings.region}:{settings.account_id}:stateMachine:{name}"


def execution_arn_in(machine_arn: str, execution: str) -> str:
    """The ARN of the execution named `execution` of the state machine `machine_arn`."""
    return machine_arn.replace(":stateMachine:", ":execution:") + f":{execution}"


def state_machine_arn(settings: Settings, name: str = STATE_MACHINE_NAME) -> str:
    sfn = client("stepfunctions", settings)
    if not settings.on_aws:
        # LocalStack's ARNs are known beforehand: one describe checks it, where a listing
        # would first load the paginators' model (a command's start is kept quick).
        arn = local_state_machine_arn(settings, name)
        try:
            sfn.describe_state_machine(stateMachineArn=arn)
            return arn
        except sfn.exceptions.StateMachineDoesNotExist:
            pass
    else:
        for page in sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == name:
                    return machine["stateMachineArn"]
    raise LearnerError(
        f"There is no {name} state machine at {settings.endpoint}: nothing is deployed yet.",
        hint="Run `sfnlab deploy` first.",
    )


def execution_arn(settings: Settings, execution: str, machine: str | None = None) -> str:
    """An execution's ARN from its ARN or its name: of `machine`, or by default of whichever
    state machine has an execution of that name (SolveIssue's first)."""
    if execution.startswith("arn:"):
        return execution
    if machine is None:
        found = locate(settings, execution)
        if found is not None:
            return found
        machine = STATE_MACHINE_NAME  # none has it: the ARN it would have, to report it gone
    return execution_arn_in(state_machine_arn(settings, machine), execution)


def read_event(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as e:
        raise LearnerError(f"Cannot read the event file {path}: {e.strerror}.") from None
    except json.JSONDecodeError as e:
        raise LearnerError(
            f"The event file {path} is not valid JSON: {e.msg} at line {e.lineno}, "
            f"column {e.colno}."
        ) from None


def start(
    settings: Settings,
    event: Any = None,
    *,
    event_file: Path = INITIAL_EVENT,
    name: str | None = None,
    machine: str = STATE_MACHINE_NAME,
) -> Execution:
    """Start an execution with `event` (default: the contents of `event_file`)."""
    payload = read_event(event_file) if event is None else event
    name = name or f"solve-{time.strftime('%H%M%S')}-{uuid.uuid4().hex[:6]}"
    sfn = client("stepfunctions", settings)
    try:
        arn = sfn.start_execution(
            stateMachineArn=state_machine_arn(settings, machine),
            name=name,
            input=json.dumps(payload),
        )["executionArn"]
    except sfn.exceptions.ExecutionAlreadyExists:
        raise LearnerError(
            f"An execution named {name!r} exists already; choose another name."
        ) from None
    except sfn.exceptions.InvalidName:
        raise LearnerError(
            f"Step Functions refuses the execution name {name!r}.",
            hint="A name is 1 to 80 characters: letters, digits, - and _ are safe; no "
            'spaces, brackets, wildcards, or any of " # % \\ ^ | ~ ` $ & , ; : /.',
        ) from None
    return Execution(arn=arn, name=name, status="RUNNING", input=payload)


def describe(settings: Settings, execution: str) -> Execution:
    """The execution's status, input, output, error and the path it took so far."""
    sfn = client("stepfunctions", settings)
    arn = execution_arn(settings, execution)
    try:
        info = sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        raise gone(settings, execution) from None
    read = read_history(arn, fetch_events(sfn, arn))
    return Execution(
        arn=arn,
        name=info["name"],
        status=info["status"],
        input=json.loads(info.get("input") or "null"),
        output=json.loads(info["output"]) if info.get("output") else None,
        error=info.get("error"),
        cause=info.get("cause"),
        path=read.visits,
        waiting=read.tokens_out() if info["status"] == "RUNNING" else [],
    )


def gone(settings: Settings, execution: str, why: str = "") -> ExecutionGone:
    """The execution LocalStack does not know: mistyped, or forgotten in a restart."""
    name = execution.rsplit(":", 1)[-1]
    return ExecutionGone(
        f"Execution {name} does not exist at {settings.endpoint}. "
        + (
            why
            or "If it ran before LocalStack was restarted (`sfnlab down` and `up`, or a "
            "crash), it is gone: LocalStack keeps executions in memory only."
        ),
        hint="`sfnlab status` lists the latest executions; `sfnlab start` starts a new one.",
    )


def exists(settings: Settings, arn: str) -> bool:
    """Whether LocalStack knows the execution `arn` (one cheap call)."""
    sfn = client("stepfunctions", settings)
    try:
        sfn.describe_execution(executionArn=arn)
    except (sfn.exceptions.ExecutionDoesNotExist, sfn.exceptions.InvalidArn):
        return False
    return True


def known(settings: Settings, execution: str) -> bool:
    """Whether any state machine has an execution of this name (or this ARN)."""
    if execution.startswith("arn:"):
        return exists(settings, execution)
    return locate(settings, execution) is not None


def locate(settings: Settings, name: str) -> str | None:
    """The ARN of the execution named `name`, of whichever state machine has one."""
    sfn = client("stepfunctions", settings)
    # On LocalStack, SolveIssue's first: its ARN is known beforehand, and a listing is
    # slower to load.
    solve_issue = execution_arn_in(local_state_machine_arn(settings), name)
    if not settings.on_aws and exists(settings, solve_issue):
        return solve_issue
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            arn = execution_arn_in(machine["stateMachineArn"], name)
            if exists(settings, arn):
                return arn
    return None


def wait(
    settings: Settings,
    execution: str,
    until: Callable[[Execution], bool],
    timeout: float = 30.0,
    what: str = "the expected state",
) -> Execution:
    """Poll the execution until `until(execution)` holds; LearnerError after `timeout` seconds."""
    last: list[Execution] = []

    def reached() -> bool:
        last[:] = [describe(settings, execution)]
        return until(last[0])

    if not poll(reached, timeout):
        current = last[0]
        raise LearnerError(
            f"Execution {current.name} did not reach {what} within {timeout:.0f} s; it is "
            f"{current.status}: {current.path_text() or 'no state entered'}."
        )
    return last[0]


def wait_for_reviews(
    settings: Settings, execution: str, count: int = 1, timeout: float = 30.0
) -> Execution:
    """Poll the execution until `count` of its tasks wait for their token, each having
    handed it on (its Lambda returned: the reviewer was notified)."""
    return wait(
        settings,
        execution,
        lambda current: sum(call.has_returned for call in current.waiting) >= count,
        timeout,
        what=f"{count} review(s) waiting for their token",
    )


def wait_for_end(settings: Settings, execution: str, timeout: float = 30.0) -> Execution:
    """Poll only the execution's status (one cheap call) until it ends; then describe it."""
    sfn = client("stepfunctions", settings)
    arn = execution_arn(settings, execution)
    try:
        ended = poll(
            lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", timeout, 0.1
        )
    except sfn.exceptions.ExecutionDoesNotExist:
        raise gone(settings, execution) from None
    current = describe(settings, arn)
    if not ended:
        raise LearnerError(
            f"Execution {current.name} did not end within {timeout:.0f} s; it is at "
            f"{current.path_text() or 'no state yet'}."
        )
    return current


def history(settings: Settings, execution: str) -> History:
    """Everything the execution's history tells (see `sfnlab.workflow.history`): its
    visits, each task's events and attempts, the Lambda calls and the tokens handed out."""
    arn = execution_arn(settings, execution)
    return read_history(arn, fetch_events(client("stepfunctions", settings), arn))


def task_token_in_history(settings: Settings, execution: str) -> str | None:
    """The task token the execution handed to its waiting task, read from its history."""
    tokens = [call.token for call in history(settings, execution).calls if call.token]
    return tokens[-1] if tokens else None


def latest(settings: Settings, count: int = 5, machine: str = STATE_MACHINE_NAME) -> list[dict]:
    """The newest executions of the state machine (name, status, start date, ARN)."""
    sfn = client("stepfunctions", settings)
    found = []
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn(settings, machine)
    ):
        found.extend(page["executions"])
    return sorted(found, key=lambda e: e["startDate"], reverse=True)[:count]
