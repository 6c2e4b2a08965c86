"""An execution's history, read once: the states it entered and what became of each, every
Lambda call in and out, and how the execution ended.

The same events the AWS console draws its graph from. `sfnlab status` and the workflow
picture read the path from here, the grader its evidence, the notebooks a state's task
events, the inbox's marks what became of each task token.

Each event names the event it followed (`previousEventId`): the reader follows those links
to tell which visit an event belongs to, so the events of Parallel branches (or of Map
iterations), which interleave, are each credited to their own state; and to tell which
state an entered one came from, that is, the edge of the workflow the execution took (a
Choice's branch, a Catch). Both ways of calling a Lambda are read: a service integration
(`TaskScheduled` with `FunctionName` and `Payload`, `TaskSubmitted` once a
`.waitForTaskToken` Lambda returned) and a Lambda ARN as `Resource`
(`LambdaFunctionScheduled`/`Succeeded`). Values are kept as whole JSON values, never as
text.
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
CONTAINERS = ("Parallel", "Map")  # states that run other states: branches, iterations
# A container's own failure (a branch failed, or an iteration), which a Catch may catch.
CONTAINER_FAILED = ("ParallelStateFailed", "MapStateFailed", "MapStateAborted")
TIMEOUTS = ("States.Timeout", "States.HeartbeatTimeout")

# What became of a task token (see `History.fate`).
WAITING, DECIDED, EXPIRED, SPENT = "waiting", "decided", "expired", "spent"


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
    # succeeded, failed, caught, waiting, running; cancelled: a sibling branch failed;
    # stopped: the execution was stopped (StopExecution) while it was open
    outcome: str = "running"
    attempts: int = 0  # tasks scheduled in this visit: more than one means retries
    input: Any = None
    output: Any = None
    exited: bool = False
    assigned: dict = field(default_factory=dict)  # the variables it set (JSONata `Assign`)
    events: list[dict] = field(default_factory=list, repr=False)  # its task's own events
    # The visit this one was entered from, as an index into `History.visits`; None for the
    # first state of the execution, of a Parallel branch or of a Map iteration.
    came_from: int | None = None
    error: str | None = None  # the error of its last failure (caught, retried or not)


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
        """Whether the event the Lambda got holds `value` as a whole value (a task token,
        under any key)."""
        return value in leaves(self.received)


def leaves(value: Any) -> list[Any]:
    """Every value inside a JSON value that is not an object or a list."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


@dataclass(frozen=True)
class TaskEvent:
    """One of a task's own events, timed from the execution's start."""

    seconds: float
    type: str  # TaskScheduled, TaskStarted, TaskFailed, TaskSucceeded, TaskSubmitted, ...
    error: str = ""  # what a failure names (InboxUnreachable, States.Timeout, ...)


@dataclass(frozen=True)
class Fate:
    """What became of one task token: `mark` is waiting (it can still decide), decided,
    expired (nobody decided in time) or spent (it can no longer decide: its execution
    ended or was stopped, or its step was tried again with a new token)."""

    mark: str
    detail: str
    state: str  # the state that handed it out


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

    def fate(self, token: str) -> Fate | None:
        """What became of `token`; None when no task of this execution handed it out."""
        holders = [call for call in self.calls if call.waits_for_token and call.holds(token)]
        if not holders:
            return None
        call = holders[-1]
        if call.answer == "success":
            return Fate(DECIDED, decision_text(call.answer_output), call.state)
        if call.answer == "failure":
            return Fate(DECIDED, f"sent back as a failure: {call.answer_error}", call.state)
        if call.error in TIMEOUTS:
            what = "heartbeat" if call.error == "States.HeartbeatTimeout" else "decision"
            return Fate(EXPIRED, f"no {what} came in time ({call.error})", call.state)
        if call.error:
            later = self.calls[self.calls.index(call) + 1 :]
            again = any(other.state == call.state for other in later)
            why = readable_error(call.error, call.cause)
            if again:
                return Fate(SPENT, f"its step failed ({why}) and was tried again", call.state)
            return Fate(SPENT, f"its step failed ({why})", call.state)
        if self.ended:
            how = "stopped" if self.status == "ABORTED" else f"ended {self.status}"
            return Fate(SPENT, f"the execution {how} before anyone decided", call.state)
        return Fate(WAITING, "it can still approve or reject", call.state)

    def describe_end(self) -> str:
        if not self.ended:
            return f"still RUNNING at {self.path_text()}"
        text = f"it ended {self.status}"
        if self.error:
            text += f" ({readable_error(self.error, self.cause)})"
        return f"{text}; states: {self.path_text()}"


class _Reader:
    """The state of one pass over the events: what is open, and what failed."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.open_visits: list[Visit] = []
        self.open_calls: list[Call] = []
        self.call_visit: dict[int, Visit | None] = {}  # call (by id) -> the visit making it
        self.failed: set[int] = set()  # visits (by id) whose task failed since it began
        self.token_out: set[int] = set()  # open Tasks that have handed out a task token
        # Event id -> the visit it belongs to (None: the execution's own). Events that do
        # not name the one they followed are credited as before such links: to the one
        # open Task, or to the visit entered last.
        self.owners: dict[int, Visit | None] = {}
        self.parents: dict[int, Visit | None] = {}  # visit (by id) -> its Parallel or Map
        self.index: dict[int, int] = {}  # visit (by id) -> its place in history.visits
        self.linked = False  # whether events name the one they followed

    def open_tasks(self) -> list[Visit]:
        return [visit for visit in self.open_visits if visit.type == "Task"]

    def followed(self, event: dict) -> tuple[bool, Visit | None]:
        """Whether `event` names an earlier event, and the visit that one belongs to."""
        previous = event.get("previousEventId")
        if isinstance(previous, int) and previous in self.owners:
            self.linked = True
            return True, self.owners[previous]
        return False, None

    def container_of(self, visit: Visit | None) -> Visit | None:
        """`visit` itself if it is an open Parallel or Map, else the one it runs in."""
        while visit is not None and not (visit.type in CONTAINERS and self.is_open(visit)):
            visit = self.parents.get(id(visit))
        return visit

    def owner(self, event: dict, kind: str) -> Visit | None:
        linked, owner = self.followed(event)
        if kind.startswith(CONTAINERS) and "StateE" not in kind:
            return self.container_of(owner) if linked else self.container_of(self.last_open())
        if linked:
            return owner
        tasks = self.open_tasks()
        if kind.startswith(TASK_EVENTS):
            return tasks[0] if len(tasks) == 1 else None
        return self.last_open()

    def last_open(self) -> Visit | None:
        return self.open_visits[-1] if self.open_visits else None

    # Visits are told apart by identity: two iterations of a Map may be equal in value.
    def is_open(self, visit: Visit) -> bool:
        return any(open_visit is visit for open_visit in self.open_visits)

    def close(self, visit: Visit) -> None:
        self.open_visits = [v for v in self.open_visits if v is not visit]

    def read(self, event: dict) -> None:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            owner = self.enter(kind[: -len("StateEntered")], event)
        elif kind.endswith("StateExited"):
            owner = self.exit(event)
        else:
            owner = self.owner(event, kind)
        if isinstance(event.get("id"), int):
            self.owners[event["id"]] = owner
        if kind.startswith(TASK_EVENTS) and "State" not in kind and owner is not None:
            owner.events.append(event)
        if kind == "TaskSubmitted" and owner is not None:
            self.token_out.add(id(owner))
        if kind in SCHEDULED:
            self.schedule(kind, event, owner)
        elif kind == "TaskSubmitted" and (call := self.open_call(owner, keep=True)):
            output = parse_json(event["taskSubmittedEventDetails"].get("output"))
            call.returned = output.get("Payload") if isinstance(output, dict) else output
            call.has_returned = True
        elif kind == "TaskSucceeded" and (call := self.open_call(owner)):
            output = parse_json(event["taskSucceededEventDetails"].get("output"))
            if call.waits_for_token:
                call.answer, call.answer_output = "success", output
            else:
                call.returned = output.get("Payload") if isinstance(output, dict) else output
                call.has_returned = True
        elif kind == "LambdaFunctionSucceeded" and (call := self.open_call(owner)):
            details = event["lambdaFunctionSucceededEventDetails"]
            call.returned, call.has_returned = parse_json(details.get("output")), True
        elif kind in FAILED:
            self.fail(kind, event.get(FAILED[kind]) or {}, owner)
        elif kind in CONTAINER_FAILED and owner is not None:
            self.failed.add(id(owner))
            owner.outcome = "failed"
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            owner.error = (details or {}).get("error") or owner.error
        elif kind in ENDED:
            self.history.status = ENDED[kind]
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
            self.history.error, self.history.cause = details.get("error"), details.get("cause")
            if kind == "ExecutionFailed" and self.open_visits:
                self.open_visits[-1].outcome = "failed"

    def open_call(self, owner: Visit | None, keep: bool = False) -> Call | None:
        """The open call of `owner` (without one, the latest open call), taken off the
        open calls unless `keep`."""
        calls = [c for c in self.open_calls if owner is None or self.call_visit[id(c)] is owner]
        if not calls:
            return None
        if not keep:
            self.open_calls = [c for c in self.open_calls if c is not calls[-1]]
        return calls[-1]

    def enter(self, state_type: str, event: dict) -> Visit:
        details = event["stateEnteredEventDetails"]
        visit = Visit(details["name"], state_type, input=parse_json(details.get("input")))
        if visit.type == "Fail":
            visit.outcome = "failed"
        linked, source = self.followed(event)
        if not linked and not self.linked:
            source = self.left_last()
        if source is not None and source is self.container_of(source):
            parent, source = source, None  # the first state of a branch or an iteration
        else:
            parent = self.parents.get(id(source)) if source else self.container_of(None)
        if source is not None:
            visit.came_from = self.index[id(source)]
        self.parents[id(visit)] = parent
        self.index[id(visit)] = len(self.history.visits)
        self.history.visits.append(visit)
        self.open_visits.append(visit)
        return visit

    def left_last(self) -> Visit | None:
        """Without links between events: the visit that ended last and led nowhere yet,
        or the open Parallel or Map the new state would be the first of."""
        followed = {visit.came_from for visit in self.history.visits}
        for visit in reversed(self.history.visits):
            if self.is_open(visit):
                if visit.type in CONTAINERS:
                    return visit
                continue
            if self.index[id(visit)] not in followed:
                return visit
        return None

    def exit(self, event: dict) -> Visit | None:
        name = event["stateExitedEventDetails"]["name"]
        _, owner = self.followed(event)
        candidates = [v for v in self.open_visits if v.name == name]
        visit = owner if any(owner is v for v in candidates) else None
        visit = visit or (candidates[-1] if candidates else None)
        if visit is None:
            return None
        visit.output = parse_json(event["stateExitedEventDetails"].get("output"))
        visit.exited = True
        # As recorded: each variable's value as JSON text.
        assigned = event["stateExitedEventDetails"].get("assignedVariables") or {}
        visit.assigned = {key: parse_json(value) for key, value in assigned.items()}
        self.close(visit)
        if visit.type != "Fail":
            visit.outcome = "caught" if id(visit) in self.failed else "succeeded"
        if visit.type in CONTAINERS:
            # What still runs inside it stops with it: a sibling branch failed.
            for inner in list(self.open_visits):
                if self.inside(inner, visit):
                    inner.outcome = "failed" if inner.outcome == "failed" else "cancelled"
                    self.close(inner)
        return visit

    def inside(self, visit: Visit, container: Visit) -> bool:
        parent = self.parents.get(id(visit))
        while parent is not None:
            if parent is container:
                return True
            parent = self.parents.get(id(parent))
        return False

    def schedule(self, kind: str, event: dict, task: Visit | None) -> None:
        if task is not None and task.type == "Task":
            task.attempts += 1
            if task.attempts > 1:  # a retry: the earlier failure is not the outcome
                self.failed.discard(id(task))
                task.outcome = "running"
        state = task.name if task else (self.open_visits[-1].name if self.open_visits else "")
        if kind == "TaskScheduled":
            details = event["taskScheduledEventDetails"]
            if details.get("resourceType") != "lambda":
                return
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
        self.call_visit[id(call)] = task

    def fail(self, kind: str, details: dict, owner: Visit | None) -> None:
        visit = owner or self.last_open()
        error = details.get("error") or kind
        if visit is not None:
            self.failed.add(id(visit))
            visit.outcome, visit.error = "failed", error
        call = self.open_call(owner)
        if call is None:
            return
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


def decision_text(output: Any) -> str:
    """A decision as the approve Lambda sends it: its summary, else approved or not."""
    if isinstance(output, dict):
        if isinstance(output.get("summary"), str) and output["summary"]:
            return output["summary"]
        if isinstance(output.get("approved"), bool):
            return "approved" if output["approved"] else "rejected"
    return "answered"


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
