"""What an execution's history shows: the states visited, and each Lambda call, in and out.

Both ways of calling a Lambda are read: a service integration (`TaskScheduled` with
`FunctionName` and `Payload`, `TaskSubmitted` once a `.waitForTaskToken` Lambda returned)
and a Lambda ARN as `Resource` (`LambdaFunctionScheduled`/`Succeeded`). Values are kept
as whole JSON values, never as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sfnlab.grading.workflow import function_name

ENDED = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
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


@dataclass
class Visit:
    name: str
    type: str  # Task, Choice, Fail, Succeed, Pass, Wait, Parallel, Map
    input: Any = None
    output: Any = None
    exited: bool = False


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


@dataclass
class Run:
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

    def calls_of(self, function: str) -> list[Call]:
        return [call for call in self.calls if call.function == function]

    def waiting_call(self) -> Call | None:
        """The `.waitForTaskToken` call whose Lambda returned and whose token is still out."""
        return next(
            (
                call
                for call in self.calls
                if call.waits_for_token and call.has_returned and not call.answer and not call.error
            ),
            None,
        )

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


def read_run(arn: str, events: list[dict]) -> Run:
    run = Run(arn, events)
    open_visits: list[Visit] = []
    open_calls: list[Call] = []
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            visit = Visit(
                details["name"], kind[: -len("StateEntered")], parse_json(details.get("input"))
            )
            run.visits.append(visit)
            open_visits.append(visit)
        elif kind.endswith("StateExited"):
            details = event["stateExitedEventDetails"]
            visit = next((v for v in reversed(open_visits) if v.name == details["name"]), None)
            if visit is not None:
                visit.output, visit.exited = parse_json(details.get("output")), True
                open_visits.remove(visit)
        elif kind == "TaskScheduled":
            details = event["taskScheduledEventDetails"]
            if details.get("resourceType") != "lambda":
                continue
            parameters = parse_json(details.get("parameters")) or {}
            call = Call(
                state=open_visits[-1].name if open_visits else "",
                function=function_name(parameters.get("FunctionName")) or "",
                received=parameters.get("Payload"),
                waits_for_token=str(details.get("resource", "")).endswith("waitForTaskToken"),
            )
            run.calls.append(call)
            open_calls.append(call)
        elif kind == "LambdaFunctionScheduled":
            details = event["lambdaFunctionScheduledEventDetails"]
            call = Call(
                state=open_visits[-1].name if open_visits else "",
                function=function_name(details.get("resource")) or "",
                received=parse_json(details.get("input")),
            )
            run.calls.append(call)
            open_calls.append(call)
        elif kind == "TaskSubmitted" and open_calls:
            output = parse_json(event["taskSubmittedEventDetails"].get("output"))
            open_calls[-1].returned = output.get("Payload") if isinstance(output, dict) else output
            open_calls[-1].has_returned = True
        elif kind == "TaskSucceeded" and open_calls:
            call = open_calls.pop()
            output = parse_json(event["taskSucceededEventDetails"].get("output"))
            if call.waits_for_token:
                call.answer, call.answer_output = "success", output
            else:
                call.returned = output.get("Payload") if isinstance(output, dict) else output
                call.has_returned = True
        elif kind == "LambdaFunctionSucceeded" and open_calls:
            call = open_calls.pop()
            details = event["lambdaFunctionSucceededEventDetails"]
            call.returned, call.has_returned = parse_json(details.get("output")), True
        elif kind in FAILED and open_calls:
            call = open_calls.pop()
            details = event.get(FAILED[kind]) or {}
            error = details.get("error") or kind
            if call.waits_for_token and call.has_returned and kind == "TaskFailed":
                call.answer, call.answer_error = (
                    "failure",
                    readable_error(error, details.get("cause")),
                )
            else:
                call.error, call.cause = error, details.get("cause")
        elif kind in ENDED:
            run.status = ENDED[kind]
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
            run.error, run.cause = details.get("error"), details.get("cause")
    return run
