"""SendTaskHeartbeat for a waiting task (patch `heartbeat_without_heartbeat_seconds`).

AWS Step Functions API reference, SendTaskHeartbeat: reports "that the task represented
by the specified taskToken is still making progress. This action resets the Heartbeat
clock"; its errors are `TaskDoesNotExist`, `InvalidToken` ("The provided token is not
valid") and `TaskTimedOut`. A waiting task's token is valid whether or not its state sets
HeartbeatSeconds.
"""

from __future__ import annotations

import json
import time

from token_waits import ended, refusal, start_waiting, status


def test_a_heartbeat_is_accepted_for_a_task_without_heartbeat_seconds(sfn_client, token_machine):
    """AWS: the heartbeat is accepted (there is just no heartbeat clock to reset), and the
    task goes on waiting for its decision, which still completes it."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    for _ in range(3):
        assert refusal(sfn_client.send_task_heartbeat, taskToken=waiting.token) is None
    assert status(sfn_client, waiting.arn) == "RUNNING"
    sfn_client.send_task_success(taskToken=waiting.token, output=json.dumps({"done": True}))
    assert ended(sfn_client, waiting.arn) == "SUCCEEDED"


def test_heartbeats_still_keep_a_task_with_heartbeat_seconds_alive(sfn_client, token_machine):
    """AWS: with HeartbeatSeconds, each heartbeat resets the clock, so a task kept alive
    outlasts HeartbeatSeconds (here 3 s, kept alive for about 5 s) and then completes."""
    catch = [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Silent"}]
    silent = {"Silent": {"Type": "Fail", "Error": "HeartbeatTimedOut"}}
    machine = token_machine(silent, TimeoutSeconds=60, HeartbeatSeconds=3, Catch=catch)
    waiting = start_waiting(sfn_client, machine)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        assert refusal(sfn_client.send_task_heartbeat, taskToken=waiting.token) is None
        time.sleep(0.5)
    assert status(sfn_client, waiting.arn) == "RUNNING"
    sfn_client.send_task_success(taskToken=waiting.token, output="{}")
    assert ended(sfn_client, waiting.arn) == "SUCCEEDED"


def test_without_heartbeats_heartbeat_seconds_still_times_the_task_out(sfn_client, token_machine):
    """AWS: a task with HeartbeatSeconds that hears nothing times out (`States.Timeout`,
    which a Catch for `States.HeartbeatTimeout` also matches; the exercise names both, as
    does this test); the patch leaves that clock alone."""
    catch = [{"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "Next": "Silent"}]
    silent = {"Silent": {"Type": "Fail", "Error": "HeartbeatTimedOut"}}
    machine = token_machine(silent, TimeoutSeconds=60, HeartbeatSeconds=1, Catch=catch)
    waiting = start_waiting(sfn_client, machine)
    assert ended(sfn_client, waiting.arn, timeout=20) == "FAILED"
    described = sfn_client.describe_execution(executionArn=waiting.arn)
    assert described["error"] == "HeartbeatTimedOut"
