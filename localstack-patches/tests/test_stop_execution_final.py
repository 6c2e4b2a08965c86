"""DescribeExecution and the history right after StopExecution (patch `stop_execution_final`).

AWS Step Functions API reference: StopExecution "Stops an execution" and answers its
`stopDate`; DescribeExecution's `stopDate` is "If the execution ended, the date the
execution stopped"; a stopped execution's history ends with its ExecutionAborted event.
The reference describes `error` and `cause` for a failed execution only; for a stopped
one AWS answers the stop's own (`ABORTED`, `Manual`, `probe` for `--error Manual --cause
probe`), and omits them, with ExecutionAborted's details empty, when the stop gave none,
as recorded against AWS in floci-io/floci issues #2734 and #2965.
"""

from __future__ import annotations

import json
import time

from token_waits import ended, event_types, events, start_waiting, submitted, tokens

from sfnlab.deploy.resources import deploy_state_machine
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.waiting import wait_for


def test_an_execution_is_aborted_when_stop_execution_returns(sfn_client, token_machine):
    """AWS: the first DescribeExecution after StopExecution returned says ABORTED, with the
    stopDate StopExecution answered and the stop's error and cause; the history ends with
    ExecutionAborted carrying them; ListExecutions agrees."""
    machine = token_machine(TimeoutSeconds=86400)
    waiting = start_waiting(sfn_client, machine)
    stopped = sfn_client.stop_execution(executionArn=waiting.arn, error="Manual", cause="probe")
    described = sfn_client.describe_execution(executionArn=waiting.arn)
    assert (described["status"], described["error"], described["cause"]) == (
        "ABORTED",
        "Manual",
        "probe",
    )
    assert described["stopDate"] == stopped["stopDate"] >= described["startDate"]
    history = events(sfn_client, waiting.arn)
    assert [event["type"] for event in history[-2:]] == ["TaskSubmitted", "ExecutionAborted"]
    assert history[-1]["executionAbortedEventDetails"] == {"error": "Manual", "cause": "probe"}
    listed = sfn_client.list_executions(stateMachineArn=machine, statusFilter="ABORTED")
    assert waiting.arn in [item["executionArn"] for item in listed["executions"]]


def test_a_stop_without_error_or_cause_has_neither(sfn_client, token_machine):
    """AWS: a stop that gives no error and no cause leaves DescribeExecution without either
    key and ExecutionAborted's details empty, and so they stay once the execution's work
    has unwound."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=86400))
    stopped = sfn_client.stop_execution(executionArn=waiting.arn)
    described = sfn_client.describe_execution(executionArn=waiting.arn)
    assert described["status"] == "ABORTED" and "error" not in described
    assert "cause" not in described
    assert events(sfn_client, waiting.arn)[-1]["executionAbortedEventDetails"] == {}
    time.sleep(1)
    later = sfn_client.describe_execution(executionArn=waiting.arn)
    assert (later["status"], later["stopDate"]) == ("ABORTED", stopped["stopDate"])
    assert "error" not in later and "cause" not in later
    assert event_types(sfn_client, waiting.arn)[-2:] == ["TaskSubmitted", "ExecutionAborted"]


def test_a_stop_while_the_task_lambda_runs_is_final_at_once(sfn_client, token_machine):
    """AWS: stopped while its task's Lambda still runs (2 s here), the execution is ABORTED
    at once and its history ends with ExecutionAborted right after TaskStarted; both stay
    so, with the same stopDate, error and cause, once the Lambda has returned."""
    machine = token_machine(TimeoutSeconds=86400)
    arn = sfn_client.start_execution(stateMachineArn=machine, input=json.dumps({"sleep": 2}))[
        "executionArn"
    ]
    assert wait_for(lambda: tokens(sfn_client, arn), timeout=10)
    stopped = sfn_client.stop_execution(executionArn=arn, error="Tidy", cause="done")
    first = sfn_client.describe_execution(executionArn=arn)
    assert (first["status"], first["error"], first["cause"]) == ("ABORTED", "Tidy", "done")
    assert event_types(sfn_client, arn)[-2:] == ["TaskStarted", "ExecutionAborted"]
    time.sleep(3)  # the Lambda has returned meanwhile
    assert event_types(sfn_client, arn)[-2:] == ["TaskStarted", "ExecutionAborted"]
    last = sfn_client.describe_execution(executionArn=arn)
    assert {key: last[key] for key in ("status", "stopDate", "error", "cause")} == {
        "status": "ABORTED",
        "stopDate": stopped["stopDate"],
        "error": "Tidy",
        "cause": "done",
    }


def test_stopping_an_ended_execution_leaves_its_outcome(sfn_client, token_machine):
    """An ended execution's outcome is final (AWS: ABORTED is the outcome of a stop of a
    running execution): the patch leaves a SUCCEEDED execution SUCCEEDED."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    sfn_client.send_task_success(taskToken=waiting.token, output=json.dumps({"done": True}))
    assert ended(sfn_client, waiting.arn) == "SUCCEEDED"
    sfn_client.stop_execution(executionArn=waiting.arn, error="Late", cause="too late")
    described = sfn_client.describe_execution(executionArn=waiting.arn)
    assert described["status"] == "SUCCEEDED" and "error" not in described
    assert json.loads(described["output"]) == {"done": True}


def test_the_two_reviewers_workflow_is_aborted_at_once(localstack, deployment, sfn_client):
    """AWS, on the kit's two-reviewers workflow with both reviews waiting: ABORTED, with the
    stop's error and cause, as soon as StopExecution returns, and nothing recorded after
    ExecutionAborted (LocalStack 4.14.0 recorded ParallelStateSucceeded before it)."""
    machine = deploy_state_machine(
        localstack,
        "TestStopFinalTwoReviewers",
        PROJECT_ROOT / "definitions" / "TwoReviewersStepFunction.json",
        review_timeout=3600,
    )
    arn = sfn_client.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    assert wait_for(lambda: submitted(sfn_client, arn, 2), timeout=30)
    sfn_client.stop_execution(executionArn=arn, error="Withdrawn", cause="the change is obsolete")
    described = sfn_client.describe_execution(executionArn=arn)
    assert (described["status"], described["error"]) == ("ABORTED", "Withdrawn")
    time.sleep(1)  # the branches have unwound meanwhile
    history = event_types(sfn_client, arn)
    assert history[-3:] == ["TaskSubmitted", "TaskSubmitted", "ExecutionAborted"]
