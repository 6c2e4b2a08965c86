"""An execution's history, read once: the states it entered and what became of each, every
Lambda call in and out, and how the execution ended.

The same events the AWS console draws its graph from. `sfnlab status` and the workflow
picture read the path from here, the grader its evidence, the notebooks a state's task
events. Both ways of calling a Lambda are read: a service integration (`TaskScheduled`
with `FunctionName` and `Payload`, `TaskSubmitted` once a `.waitForTaskToken` Lambda
returned) and a Lambda ARN as `Resource` (`LambdaFunctionScheduled`/`Succeeded`). Values
are kept as whole JSON values, never as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ENDED = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
# A task's failure, and where its error and cause are.
FAILED = {
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "LambdaFunctionScheduleFailed": "lambdaFunctionScheduleFailedEventDetails",
    "LambdaFunctionStartFailed": "lambdaFunctionStartFailedEventDetails",
    "TaskStartFailed": "taskStartFailedEventDetails",
    "TaskSubmitFailed": "taskSubmitFailedEventDetails",
}
TASK_EVENTS = ("Task", "LambdaFunction")  # the prefixes of a task's own events
SCHEDULED = ("TaskScheduled", "LambdaFunctionScheduled")  # an attempt begins


def parse_json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def readable_error(error: str | None, cause: str | None) -> str:
    """`ValueError: boom`, not an escaped JSON cause."""
    parsed = parse_json(cause)
    if isinstance(parsed, dict) and ("errorType" in parsed or "errorMessage" in parsed):
        return f"{parsed.get('errorType', error)}: {parsed.get('errorMessage', '')}".strip()
    return f"{error}: {cause}" if cause else str(error)


def leaves(value: Any) -> list[Any]:
    """Every value inside a JSON value that is not an object or a list."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def function_name(reference: Any) -> str | None:
    """`sfnlab-merge-to-master` from a function's name, partial or full ARN, with a qualifier."""
    if not isinstance(reference, str) or not reference:
        return None
    if ":function:" in reference:
        reference = reference.split(":function:", 1)[1]
    elif reference.startswith("function:"):
        reference = reference[len("function:") :]
    return reference.split(":", 1)[0]


@dataclass
class Visit:
    """One entry into a state, and what became of it."""

    name: str
    type: str  # Task, Choice, Fail, Succeed, Pass, Wait, Parallel, Map
    outcome: str = "running"  # succeeded, failed, caught, waiting, running, stopped
    attempts: int = 0  # tasks scheduled in this visit: more than one means retries
    input: Any = None
    output: Any = None
    exited: bool = False
    assigned: dict = field(default_factory=dict)  # the variables it set (JSONata `Assign`)
    events: list[dict] = field(default_factory=list, repr=False)  # its task's own events


@dataclass
class Call:
    """One Lambda invocation by a Task state."""

    state: str
    function: str  # the function's name
    received: Any  # the event the Lambda got
    waits_for_token: bool = False
    returned: Any = None
    has_returned: bool = False
    error: str | None = None
    cause: str | None = None
    # A `.waitForTaskToken` task, after its Lambda returned: how the token came back.
    answer: str | None = None  # "success" (SendTaskSuccess) or "failure" (SendTaskFailure)
    answer_output: Any = None
    answer_error: str | None = None

    def failure(self) -> str:
        return f"{self.state} failed ({readable_error(self.error, self.cause)})"

    @property
    def open(self) -> bool:
        """Neither answered nor failed."""
        return not self.answer and not self.error

    @property
    def token(self) -> str | None:
        """The task token a `.waitForTaskToken` call handed its Lambda: the event's field
        named for it (`taskToken` in the kit's definitions), if it has one."""
        if not self.waits_for_token or not isinstance(self.received, dict):
            return None
        return next(
            (
                value
                for key, value in self.received.items()
                if "token" in key.lower() and isinstance(value, str) and value
            ),
            None,
        )

    def holds(self, value: str) -> bool:
        """Whether the event the Lambda got holds `value` as a whole value (a task token)."""
        return value in leaves(self.received)


@dataclass(frozen=True)
class TaskEvent:
    """One of a task's own events, timed from the execution's start."""

    seconds: float
    type: str  # TaskScheduled, TaskStarted, TaskFailed, TaskSucceeded, TaskSubmitted, ...
    error: str = ""  # what a failure names (InboxUnreachable, States.Timeout, ...)


@dataclass
class History:
    """One execution, as its history tells it."""

    arn: str
    events: list[dict] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    status: str = "RUNNING"
    error: str | None = None
    cause: str | None = None

    @property
    def ended(self) -> bool:
        return self.status != "RUNNING"

    def visit(self, state: str) -> Visit | None:
        return next((v for v in self.visits if v.name == state), None)

    def task_events(self, state: str) -> list[dict]:
        """The task events of every visit to `state`: scheduled, started, failed, ..."""
        return [event for visit in self.visits if visit.name == state for event in visit.events]

    def timeline(self, state: str) -> list[TaskEvent]:
        """The task events of every visit to `state`, each timed from the execution's
        start: every attempt of a retried task is there, with the error it failed with."""
        if not self.events:
            return []
        began = self.events[0]["timestamp"]
        found = []
        for event in self.task_events(state):
            details = event.get(FAILED.get(event["type"], "")) or {}
            seconds = (event["timestamp"] - began).total_seconds()
            found.append(TaskEvent(seconds, event["type"], details.get("error") or ""))
        return found

    def failures(self, state: str) -> list[TaskEvent]:
        """Each time `state`'s task failed (a Retry may have tried it again after)."""
        return [event for event in self.timeline(state) if event.type in FAILED]

    def observed_waits(self, state: str) -> list[float]:
        """Seconds from each failure of `state`'s task to its next attempt: the waits its
        Retry rule made, as they happened."""
        timeline = self.timeline(state)
        failed = [event.seconds for event in timeline if event.type in FAILED]
        scheduled = [event.seconds for event in timeline if event.type in SCHEDULED]
        return [again - at for at, again in zip(failed, scheduled[1:], strict=False)]

    def tokens(self) -> dict[str, str]:
        """The task token each state waiting for one was handed (the latest, if retried)."""
        return {call.state: call.token for call in self.calls if call.token}

    def calls_of(self, function: str) -> list[Call]:
        return [call for call in self.calls if call.function == function]

    def waiting_calls(self) -> list[Call]:
        """The `.waitForTaskToken` calls whose Lambda returned and whose token is still out
        (two, while both reviewers of a Parallel state review)."""
        return [
            call for call in self.calls if call.waits_for_token and call.has_returned and call.open
        ]

    def tokens_out(self) -> list[Call]:
        """The `.waitForTaskToken` calls whose token can still decide their task: waiting,
        or about to (its Lambda, which hands the token on, still runs)."""
        if self.ended:
            return []
        return [call for call in self.calls if call.waits_for_token and call.open]

    def waiting_call(self) -> Call | None:
        """The first of `waiting_calls`, if any."""
        return next(iter(self.waiting_calls()), None)

    def last_failure(self) -> Call | None:
        return next((call for call in reversed(self.calls) if call.error), None)

    def path_text(self) -> str:
        return " -> ".join(visit.name for visit in self.visits) or "no state entered"

    def describe_end(self) -> str:
        if not self.ended:
            return f"still RUNNING at {self.path_text()}"
        text = f"it ended {self.status}"
        if self.error:
            text += f" ({readable_error(self.error, self.cause)})"
        return f"{text}; states: {self.path_text()}"


class _Reader:
    """The state of one pass over the events: what is open, and what failed.

    Parallel branches interleave their events. Each event names the one before it in its
    own branch (`previousEventId`), so a task's events are followed along that chain to
    the visit and the Lambda call they belong to, never credited to another branch's.
    """

    def __init__(self, history: History) -> None:
        self.history = history
        self.open_visits: list[Visit] = []
        self.open_calls: list[Call] = []
        self.failed: set[int] = set()  # visits (by id) whose task failed since it began
        self.token_out: set[int] = set()  # open Tasks that have handed out a task token
        self.owner: dict[Any, tuple[Visit | None, Call | None]] = {}  # event id -> its own

    def open_tasks(self) -> list[Visit]:
        return [visit for visit in self.open_visits if visit.type == "Task"]

    def owners(self, event: dict) -> tuple[Visit | None, Call | None]:
        """The visit and call the event belongs to: its predecessor's, else the only ones."""
        found = self.owner.get(event.get("previousEventId"))
        if found is not None:
            return found
        tasks = self.open_tasks()
        return (tasks[0] if len(tasks) == 1 else None), (
            self.open_calls[-1] if self.open_calls else None
        )

    def read(self, event: dict) -> None:
        kind = event["type"]
        visit, call = self.owners(event)
        if kind.startswith(TASK_EVENTS) and "State" not in kind and visit is not None:
            visit.events.append(event)
        if kind == "TaskSubmitted" and visit is not None:
            self.token_out.add(id(visit))
        if kind.endswith("StateEntered"):
            visit = self.enter(kind[: -len("StateEntered")], event["stateEnteredEventDetails"])
            call = None
        elif kind.endswith("StateExited"):
            self.exit(event["stateExitedEventDetails"])
        elif kind in SCHEDULED:
            call = self.schedule(kind, event, visit)
        elif kind == "TaskSubmitted" and call is not None:
            output = parse_json(event["taskSubmittedEventDetails"].get("output"))
            call.returned = output.get("Payload") if isinstance(output, dict) else output
            call.has_returned = True
        elif kind == "TaskSucceeded" and call is not None:
            self.close(call)
            output = parse_json(event["taskSucceededEventDetails"].get("output"))
            if call.waits_for_token:
                call.answer, call.answer_output = "success", output
            else:
                call.returned = output.get("Payload") if isinstance(output, dict) else output
                call.has_returned = True
        elif kind == "LambdaFunctionSucceeded" and call is not None:
            self.close(call)
            details = event["lambdaFunctionSucceededEventDetails"]
            call.returned, call.has_returned = parse_json(details.get("output")), True
        elif kind in FAILED:
            self.fail(kind, event.get(FAILED[kind]) or {}, visit, call)
        elif kind in ENDED:
            self.history.status = ENDED[kind]
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
            self.history.error, self.history.cause = details.get("error"), details.get("cause")
            if kind == "ExecutionFailed" and self.open_visits:
                self.open_visits[-1].outcome = "failed"
        self.owner[event.get("id")] = (visit, call)

    def close(self, call: Call) -> None:
        if call in self.open_calls:
            self.open_calls.remove(call)

    def enter(self, state_type: str, details: dict) -> Visit:
        visit = Visit(details["name"], state_type, input=parse_json(details.get("input")))
        if visit.type == "Fail":
            visit.outcome = "failed"
        self.history.visits.append(visit)
        self.open_visits.append(visit)
        return visit

    def exit(self, details: dict) -> None:
        name = details["name"]
        visit = next((v for v in reversed(self.open_visits) if v.name == name), None)
        if visit is None:
            return
        visit.output, visit.exited = parse_json(details.get("output")), True
        # As recorded: each variable's value as JSON text.
        assigned = details.get("assignedVariables") or {}
        visit.assigned = {key: parse_json(value) for key, value in assigned.items()}
        self.open_visits.remove(visit)
        if visit.type != "Fail":
            visit.outcome = "caught" if id(visit) in self.failed else "succeeded"

    def schedule(self, kind: str, event: dict, visit: Visit | None) -> Call | None:
        if visit is not None and visit.type == "Task":
            visit.attempts += 1
            if visit.attempts > 1:  # a retry: the earlier failure is not the outcome
                self.failed.discard(id(visit))
                visit.outcome = "running"
        if visit is not None:
            state = visit.name
        else:
            state = self.open_visits[-1].name if self.open_visits else ""
        if kind == "TaskScheduled":
            details = event["taskScheduledEventDetails"]
            if details.get("resourceType") != "lambda":
                return None
            parameters = parse_json(details.get("parameters")) or {}
            call = Call(
                state=state,
                function=function_name(parameters.get("FunctionName")) or "",
                received=parameters.get("Payload"),
                waits_for_token=str(details.get("resource", "")).endswith("waitForTaskToken"),
            )
        else:
            details = event["lambdaFunctionScheduledEventDetails"]
            call = Call(
                state=state,
                function=function_name(details.get("resource")) or "",
                received=parse_json(details.get("input")),
            )
        self.history.calls.append(call)
        self.open_calls.append(call)
        return call

    def fail(self, kind: str, details: dict, visit: Visit | None, call: Call | None) -> None:
        failed = (
            visit if visit is not None else (self.open_visits[-1] if self.open_visits else None)
        )
        if failed is not None:
            self.failed.add(id(failed))
            failed.outcome = "failed"
        if call is None:
            return
        self.close(call)
        error = details.get("error") or kind
        if call.waits_for_token and call.has_returned and kind == "TaskFailed":
            call.answer, call.answer_error = "failure", readable_error(error, details.get("cause"))
        else:
            call.error, call.cause = error, details.get("cause")

    def finish(self) -> History:
        running = not self.history.ended
        for visit in self.open_visits:
            if visit.outcome != "running":
                continue
            if not running:
                # StopExecution ends what was open: nothing in it failed.
                visit.outcome = "stopped" if self.history.status == "ABORTED" else "failed"
            elif (visit.type == "Task" and id(visit) in self.token_out) or visit.type == "Wait":
                visit.outcome = "waiting"
        return self.history


def read_history(arn: str, events: list[dict]) -> History:
    """Read an execution's events (oldest first) into what they tell."""
    reader = _Reader(History(arn, events))
    for event in events:
        reader.read(event)
    return reader.finish()


def fetch_events(sfn: Any, arn: str) -> list[dict]:
    """Every event of the execution `arn`, oldest first."""
    events: list[dict] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return events
