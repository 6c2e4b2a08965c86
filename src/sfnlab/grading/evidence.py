"""What an execution's history shows a solution did: each Lambda call, in and out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

WAIT_FOR_TOKEN = "invoke.waitForTaskToken"


@dataclass
class LambdaCall:
    state: str
    function: str  # the function's name
    payload: Any  # what the Lambda received
    state_input: Any = None  # what the Task state received
    result: Any = None  # what it returned (None until it returns)
    returned: bool = False
    waits_for_token: bool = False
    token_returned: bool = False  # SendTaskSuccess/Failure arrived for it
    error: str | None = None
    cause: str | None = None

    def failure(self) -> str:
        """The Lambda's error, readable: `ValueError: boom`, not an escaped JSON cause."""
        try:
            cause = json.loads(self.cause or "")
            detail = f"{cause.get('errorType', self.error)}: {cause.get('errorMessage', '')}"
        except (ValueError, AttributeError):
            detail = f"{self.error}: {self.cause or ''}"
        return f"{self.state} failed ({detail.strip()})"


def parse_json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def lambda_calls(events: list[dict]) -> list[LambdaCall]:
    """Every Lambda a Task state invoked, in order, with its payload and what came back."""
    calls: list[LambdaCall] = []
    state, state_input = "", None
    open_calls: list[LambdaCall] = []
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            state = event["stateEnteredEventDetails"]["name"]
            state_input = parse_json(event["stateEnteredEventDetails"].get("input"))
        elif kind == "TaskScheduled":
            details = event["taskScheduledEventDetails"]
            if details.get("resourceType") != "lambda":
                continue
            parameters = parse_json(details.get("parameters")) or {}
            call = LambdaCall(
                state=state,
                function=str(parameters.get("FunctionName", "")).split(":function:")[-1],
                payload=parameters.get("Payload"),
                state_input=state_input,
                waits_for_token=details.get("resource") == WAIT_FOR_TOKEN,
            )
            calls.append(call)
            open_calls.append(call)
        elif kind in ("TaskSucceeded", "TaskSubmitted") and open_calls:
            key = (
                "taskSucceededEventDetails"
                if kind == "TaskSucceeded"
                else "taskSubmittedEventDetails"
            )
            output = parse_json(event[key].get("output"))
            call = open_calls[-1]
            if kind == "TaskSubmitted" or not call.waits_for_token:
                call.result = output.get("Payload") if isinstance(output, dict) else output
                call.returned = True
            if kind == "TaskSucceeded":
                call.token_returned = call.waits_for_token
                open_calls.pop()
        elif kind in ("TaskFailed", "TaskTimedOut") and open_calls:
            key = "taskFailedEventDetails" if kind == "TaskFailed" else "taskTimedOutEventDetails"
            call = open_calls.pop()
            call.error = event[key].get("error")
            call.cause = event[key].get("cause")
    return calls


def leaf_strings(value: Any) -> set[str]:
    """Every string inside a JSON value (keys excluded)."""
    if isinstance(value, dict):
        return set().union(*(leaf_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(leaf_strings(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) else set()


def added_strings(before: Any, after: Any) -> set[str]:
    """Strings a step added to the payload: its new data (a branch name, a release name)."""
    return {text for text in leaf_strings(after) - leaf_strings(before) if len(text) >= 3}


def contains(outer: Any, inner: Any) -> bool:
    """Whether `outer` holds everything `inner` holds (dicts key by key, the rest by value)."""
    if isinstance(inner, dict):
        return isinstance(outer, dict) and all(
            key in outer and contains(outer[key], value) for key, value in inner.items()
        )
    return outer == inner


def missing_keys(outer: Any, inner: Any) -> list[str]:
    if not isinstance(inner, dict):
        return [] if outer == inner else ["(the payload itself)"]
    if not isinstance(outer, dict):
        return sorted(inner)
    return sorted(
        key for key, value in inner.items() if key not in outer or not contains(outer[key], value)
    )
