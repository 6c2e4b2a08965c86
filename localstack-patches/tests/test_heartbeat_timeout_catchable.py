"""Retry and Catch on `States.HeartbeatTimeout` (patch `heartbeat_timeout_catchable`).

AWS developer guide, "Handling errors in Step Functions workflows": `States.HeartbeatTimeout`
is "A Task state failed to send a heartbeat for a period longer than the HeartbeatSeconds
value", a name "only available inside the Catch and Retry fields"; `States.Timeout` is a
task that "either ran longer than the TimeoutSeconds value, or failed to send a
heartbeat for a period longer than the HeartbeatSeconds value". AWS's history of a
missed heartbeat (LocalStack's AWS-validated `test_heartbeat_timeout`) records
`States.Timeout` in the TaskTimedOut event and in ExecutionFailed. So: a missed
heartbeat is recorded as `States.Timeout`, and a Catch or Retry naming either name
matches it; a task past its TimeoutSeconds matches `States.Timeout` only.
"""

from __future__ import annotations

import pytest
from jsonata_runs import jsonata, run
from token_waits import waiting_task

SILENT = {"Silent": {"Type": "Pass", "End": True}}


def review(function_arn: str, **fields) -> dict:
    """A JSONPath workflow whose task waits for its token; its catchers go to `Silent`."""
    return {
        "StartAt": "Review",
        "States": {"Review": waiting_task(function_arn, **fields), **SILENT},
    }


def review_in_jsonata(function_arn: str, **fields) -> dict:
    """The same in JSONata."""
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Arguments": {
            "FunctionName": function_arn,
            "Payload": {"token": "{% $states.context.Task.Token %}"},
        },
        **fields,
    }
    return jsonata({"Review": task, **SILENT})


def caught_by(*errors: str) -> list[dict]:
    return [{"ErrorEquals": list(errors), "Next": "Silent"}]


def test_a_missed_heartbeat_is_caught_by_states_heartbeat_timeout(sfn_client, notify_function):
    """AWS: a Catch naming only `States.HeartbeatTimeout` catches a missed heartbeat; the
    TaskTimedOut event and the error output still say `States.Timeout`."""
    definition = review(
        notify_function,
        TimeoutSeconds=60,
        HeartbeatSeconds=1,
        Catch=caught_by("States.HeartbeatTimeout"),
        End=True,
    )
    finished = run(sfn_client, definition, {"sleep": 0})
    assert finished.status == "SUCCEEDED"
    assert finished.output["Error"] == "States.Timeout"
    timed_out = finished.of_type("TaskTimedOut")
    assert [event["taskTimedOutEventDetails"]["error"] for event in timed_out] == ["States.Timeout"]


def test_a_missed_heartbeat_is_caught_in_jsonata_too(sfn_client, notify_function):
    """AWS, in a JSONata state: the same Catch catches it, and `$states.errorOutput`
    names `States.Timeout`."""
    catch = [
        {
            "ErrorEquals": ["States.HeartbeatTimeout"],
            "Output": {"error": "{% $states.errorOutput.Error %}"},
            "Next": "Silent",
        }
    ]
    definition = review_in_jsonata(
        notify_function, TimeoutSeconds=60, HeartbeatSeconds=1, Catch=catch, End=True
    )
    finished = run(sfn_client, definition)
    assert (finished.status, finished.output) == ("SUCCEEDED", {"error": "States.Timeout"})


def test_a_missed_heartbeat_is_retried_by_states_heartbeat_timeout(sfn_client, notify_function):
    """AWS: a Retry naming `States.HeartbeatTimeout` runs the task again after a missed
    heartbeat (a new TaskScheduled), then the Catch takes the second miss."""
    retry = [{"ErrorEquals": ["States.HeartbeatTimeout"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    definition = review(
        notify_function,
        TimeoutSeconds=60,
        HeartbeatSeconds=1,
        Retry=retry,
        Catch=caught_by("States.Timeout"),
        End=True,
    )
    finished = run(sfn_client, definition, {"sleep": 0}, timeout=30)
    assert finished.status == "SUCCEEDED"
    assert finished.types.count("TaskScheduled") == 2
    assert finished.types.count("TaskTimedOut") == 2


@pytest.mark.parametrize("language", ["JSONPath", "JSONata"])
def test_a_task_past_its_timeout_is_not_a_heartbeat_timeout(sfn_client, notify_function, language):
    """AWS: a task that runs past its TimeoutSeconds (heartbeats or not) is `States.Timeout`
    only: a Catch for `States.HeartbeatTimeout` lets it through and the execution fails."""
    fields = {"TimeoutSeconds": 1, "Catch": caught_by("States.HeartbeatTimeout"), "End": True}
    if language == "JSONPath":
        finished = run(sfn_client, review(notify_function, **fields), {"sleep": 0})
    else:
        finished = run(sfn_client, review_in_jsonata(notify_function, **fields))
    assert (finished.status, finished.error) == ("FAILED", "States.Timeout")


def test_states_timeout_still_catches_a_missed_heartbeat(sfn_client, notify_function):
    """AWS: `States.Timeout` covers a missed heartbeat too, so a Catch naming only it (as
    older workflows do) still catches it."""
    definition = review(
        notify_function,
        TimeoutSeconds=60,
        HeartbeatSeconds=1,
        Catch=caught_by("States.Timeout"),
        End=True,
    )
    assert run(sfn_client, definition, {"sleep": 0}).status == "SUCCEEDED"
