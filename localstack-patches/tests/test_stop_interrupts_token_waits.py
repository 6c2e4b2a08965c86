"""StopExecution ends an execution that waits for a task token (patch
`stop_interrupts_token_waits`; its token's refusal is `spent_task_tokens`).

AWS Step Functions API reference, StopExecution: "Stops an execution"; the execution's
status is then ABORTED and its history ends with ExecutionAborted. SendTaskSuccess with
the token of a task whose execution was stopped: `TaskTimedOut` ("the task associated
with the token has already been closed").
"""

from __future__ import annotations

import json

import pytest
from token_waits import ended, event_types, events, refusal, start_waiting, submitted, tokens

from sfnlab.deploy.resources import deploy_state_machine
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.waiting import wait_for
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution

SPENT = ("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")


def test_stopping_a_waiting_execution_aborts_it_at_once(sfn_client, token_machine):
    """AWS: StopExecution on an execution waiting at `.waitForTaskToken` ends it ABORTED at
    once (its TimeoutSeconds, a day here, do not matter); the history has nothing between
    TaskSubmitted and ExecutionAborted, which carries the stop's error and cause."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=86400))
    stopped = sfn_client.stop_execution(executionArn=waiting.arn, error="Tidy", cause="done")
    assert stopped["stopDate"]
    assert ended(sfn_client, waiting.arn, timeout=5) == "ABORTED"
    history = events(sfn_client, waiting.arn)
    assert [event["type"] for event in history[-2:]] == ["TaskSubmitted", "ExecutionAborted"]
    assert history[-1]["executionAbortedEventDetails"] == {"error": "Tidy", "cause": "done"}


def test_a_stopped_execution_refuses_its_token(sfn_client, token_machine):
    """AWS: after StopExecution the task is closed: SendTaskSuccess, SendTaskFailure and
    SendTaskHeartbeat with its token are TaskTimedOut, and the execution stays ABORTED."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=86400, HeartbeatSeconds=60))
    sfn_client.stop_execution(executionArn=waiting.arn)
    assert ended(sfn_client, waiting.arn, timeout=5) == "ABORTED"
    assert refusal(sfn_client.send_task_success, taskToken=waiting.token, output="{}") == SPENT
    assert refusal(sfn_client.send_task_failure, taskToken=waiting.token) == SPENT
    assert refusal(sfn_client.send_task_heartbeat, taskToken=waiting.token) == SPENT
    assert event_types(sfn_client, waiting.arn)[-1] == "ExecutionAborted"
    assert "TaskSucceeded" not in event_types(sfn_client, waiting.arn)


def test_stopping_while_the_task_lambda_still_runs_aborts_too(sfn_client, token_machine):
    """AWS: a stop that lands while the task's Lambda is still running (before the task
    waits) ends the execution ABORTED as well, with no TaskFailed, and closes the task."""
    machine = token_machine(TimeoutSeconds=86400)
    arn = sfn_client.start_execution(stateMachineArn=machine, input=json.dumps({"sleep": 2}))[
        "executionArn"
    ]
    assert wait_for(lambda: tokens(sfn_client, arn), timeout=10)
    sfn_client.stop_execution(executionArn=arn)
    assert ended(sfn_client, arn, timeout=15) == "ABORTED"
    history = event_types(sfn_client, arn)
    assert history[-1] == "ExecutionAborted" and "TaskFailed" not in history
    token = tokens(sfn_client, arn)[0]
    assert refusal(sfn_client.send_task_success, taskToken=token, output="{}") == SPENT


@pytest.fixture(scope="module")
def two_reviewers(localstack, deployment):
    return deploy_state_machine(
        localstack,
        "TestStopTwoReviewers",
        PROJECT_ROOT / "definitions" / "TwoReviewersStepFunction.json",
        review_timeout=3600,
    )


def test_stopping_two_waiting_reviews_aborts_and_refuses_both_tokens(sfn_client, two_reviewers):
    """AWS: stopping an execution whose Parallel branches both wait ends it ABORTED at once
    and closes both tasks: each token is TaskTimedOut."""
    arn = sfn_client.start_execution(stateMachineArn=two_reviewers, input="{}")["executionArn"]
    assert wait_for(lambda: submitted(sfn_client, arn, 2), timeout=30)
    sfn_client.stop_execution(executionArn=arn)
    assert ended(sfn_client, arn, timeout=5) == "ABORTED"
    both = tokens(sfn_client, arn)
    assert len(both) == 2
    for token in both:
        assert refusal(sfn_client.send_task_success, taskToken=token, output="{}") == SPENT


def test_the_exercise_stopped_at_its_review_is_aborted(localstack, deployment, sfn_client):
    """AWS, as notebook 03 tidies up: the SolveIssue execution stopped while it waits at
    NotifyReviewers is ABORTED, and the reviewers' token can no longer approve."""
    started = execution.start(localstack)
    review = approval.find_review(localstack, started.name, wait=True)
    sfn_client.stop_execution(executionArn=started.arn)
    assert ended(sfn_client, started.arn, timeout=5) == "ABORTED"
    decision = json.dumps({"approved": True})
    assert refusal(sfn_client.send_task_success, taskToken=review.token, output=decision) == SPENT
