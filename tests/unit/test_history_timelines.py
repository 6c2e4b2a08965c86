"""Reading an execution's history: each task's attempts timed, the waits its Retry made, the
token each waiting task was handed, and parallel branches kept apart."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sfnlab.workflow.history import read_history

START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:sfnlab-{}"


class Events:
    """A history as Step Functions records it: ids, previousEventId, timestamps."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def add(self, kind: str, at: float, after: int | None = None, **details) -> int:
        number = len(self.events) + 1
        self.events.append(
            {
                "id": number,
                "previousEventId": number - 1 if after is None else after,
                "type": kind,
                "timestamp": START + timedelta(seconds=at),
                **details,
            }
        )
        return number

    def enter(self, state: str, at: float, after: int | None = None, kind: str = "Task") -> int:
        details = {"name": state, "input": "{}"}
        return self.add(f"{kind}StateEntered", at, after, stateEnteredEventDetails=details)

    def schedule(self, function: str, at: float, after: int | None = None, **payload) -> int:
        waits = any("token" in key.lower() for key in payload)
        parameters = {"FunctionName": FUNCTION.format(function), "Payload": payload}
        details = {
            "resourceType": "lambda",
            "resource": "invoke.waitForTaskToken" if waits else "invoke",
            "parameters": json.dumps(parameters),
        }
        return self.add("TaskScheduled", at, after, taskScheduledEventDetails=details)

    def fail(self, error: str, at: float, after: int | None = None) -> int:
        details = {"error": error, "cause": json.dumps({"errorMessage": "down"})}
        return self.add("TaskFailed", at, after, taskFailedEventDetails=details)

    def read(self):
        return read_history("arn:aws:states:us-east-1:0:execution:M:e", self.events)


def retried_create_code() -> Events:
    """CreateCode fails twice (InboxUnreachable), retried after 1 and 2 s, then succeeds."""
    run = Events()
    run.add("ExecutionStarted", 0, executionStartedEventDetails={"input": "{}"})
    run.enter("CreateCode", 0.0)
    for scheduled_at, failed_at in ((0.0, 0.2), (1.2, 1.3)):
        run.schedule("create-code", scheduled_at)
        run.add("TaskStarted", scheduled_at + 0.05)
        run.fail("InboxUnreachable", failed_at)
    run.schedule("create-code", 3.3)
    run.add("TaskStarted", 3.35)
    output = json.dumps({"Payload": {"code": {}}})
    run.add("TaskSucceeded", 3.5, taskSucceededEventDetails={"output": output})
    run.add("TaskStateExited", 3.5, stateExitedEventDetails={"name": "CreateCode", "output": "{}"})
    return run


def test_a_retried_task_shows_each_attempt_timed_from_the_start():
    timeline = retried_create_code().read().timeline("CreateCode")
    assert [(round(e.seconds, 2), e.type, e.error) for e in timeline] == [
        (0.0, "TaskScheduled", ""),
        (0.05, "TaskStarted", ""),
        (0.2, "TaskFailed", "InboxUnreachable"),
        (1.2, "TaskScheduled", ""),
        (1.25, "TaskStarted", ""),
        (1.3, "TaskFailed", "InboxUnreachable"),
        (3.3, "TaskScheduled", ""),
        (3.35, "TaskStarted", ""),
        (3.5, "TaskSucceeded", ""),
    ]


def test_the_waits_the_retry_made_are_read_from_failure_to_next_attempt():
    run = retried_create_code().read()
    assert [round(wait, 2) for wait in run.observed_waits("CreateCode")] == [1.0, 2.0]
    assert [event.error for event in run.failures("CreateCode")] == ["InboxUnreachable"] * 2
    assert run.visit("CreateCode").attempts == 3 and run.visit("CreateCode").outcome == "succeeded"


def test_a_state_never_entered_has_no_timeline():
    run = retried_create_code().read()
    assert run.timeline("MergeToMaster") == [] and run.observed_waits("MergeToMaster") == []
    assert read_history("arn", []).timeline("CreateCode") == []


def two_reviews() -> tuple[Events, dict[str, int]]:
    """A Parallel state's two reviews, their events interleaved; both wait."""
    run = Events()
    run.add("ExecutionStarted", 0, executionStartedEventDetails={"input": "{}"})
    parallel = run.enter("Ask", 0, kind="Parallel")
    started = run.add("ParallelStateStarted", 0)
    ids = {"ana": run.enter("AskAna", 0.1, after=started)}
    ids["bob"] = run.enter("AskBob", 0.1, after=started)
    for name in ("ana", "bob"):
        ids[name] = run.schedule(
            "notify-reviewers", 0.2, after=ids[name], taskToken=f"token-of-{name}", reviewer=name
        )
    for name in ("ana", "bob"):
        ids[name] = run.add("TaskStarted", 0.3, after=ids[name])
    for name in ("bob", "ana"):  # Bob's Lambda returns first
        submitted = {"output": json.dumps({"Payload": {"notified": name}})}
        ids[name] = run.add(
            "TaskSubmitted", 0.4, after=ids[name], taskSubmittedEventDetails=submitted
        )
    assert parallel == 2
    return run, ids


def test_each_waiting_review_keeps_its_own_token_and_answer():
    run, ids = two_reviews()
    # Ana decides: her task's events follow her own chain, not the last one opened.
    decided = {"output": json.dumps({"approved": True, "reviewer": "ana"})}
    run.add("TaskSucceeded", 1.0, after=ids["ana"], taskSucceededEventDetails=decided)
    history = run.read()
    assert history.tokens() == {"AskAna": "token-of-ana", "AskBob": "token-of-bob"}
    (waiting,) = history.tokens_out()
    assert (waiting.state, waiting.token) == ("AskBob", "token-of-bob")
    assert waiting.holds("token-of-bob") and not waiting.holds("token-of-ana")
    ana = next(call for call in history.calls if call.state == "AskAna")
    assert ana.answer == "success" and ana.answer_output["reviewer"] == "ana"
    assert [e["type"] for e in history.task_events("AskAna")][-1] == "TaskSucceeded"
    assert "TaskSucceeded" not in [e["type"] for e in history.task_events("AskBob")]


def test_a_stopped_execution_leaves_its_waiting_states_stopped_not_failed():
    run, _ = two_reviews()
    run.add("ExecutionAborted", 2.0, executionAbortedEventDetails={"cause": "withdrawn"})
    history = run.read()
    assert history.status == "ABORTED" and (history.error, history.cause) == (None, "withdrawn")
    assert {v.name: v.outcome for v in history.visits if v.type == "Task"} == {
        "AskAna": "stopped",
        "AskBob": "stopped",
    }
    assert history.tokens_out() == []  # an ended execution's tokens decide nothing


def test_a_calls_token_is_the_field_named_for_it():
    run = Events()
    run.enter("Review", 0)
    run.schedule("notify-reviewers", 0, myTaskToken="t-1", note="not a token")
    (call,) = run.read().calls
    assert call.token == "t-1"


def test_the_variables_a_state_assigned_are_read_as_values():
    run = Events()
    run.enter("Decide", 0, kind="Pass")
    exited = {"name": "Decide", "output": "{}", "assignedVariables": {"review": '{"ok":true}'}}
    run.add("PassStateExited", 0.1, stateExitedEventDetails=exited)
    assert run.read().visit("Decide").assigned == {"review": {"ok": True}}
