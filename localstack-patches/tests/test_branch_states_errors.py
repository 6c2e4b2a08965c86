"""A branch's `States.*` error fails its Parallel or Map state (patch `branch_states_errors`).

AWS developer guide, Parallel state: "If any branch fails, because of an unhandled error
or by transitioning to a Fail state, the entire Parallel state is considered to have
failed and all its branches are stopped. If the error is not handled by the Parallel
state itself, Step Functions stops the execution with an error." A Map state whose
iteration times out fails the execution with `States.Timeout` (AWS's history, recorded
in LocalStack's AWS-validated test `test_service_lambda_map_timeout`). The error is the
branch's own: `States.Timeout` for a task that timed out, which a Retry or Catch on the
Parallel or Map state for `States.Timeout` matches, and `States.TaskFailed` does not
("matches any known error name except for States.Timeout", "Handling errors").
"""

from __future__ import annotations

import pytest
from jsonata_runs import run
from token_waits import ended, event_types, submitted, tokens, waiting_task

from sfnlab.deploy.resources import deploy_state_machine
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.waiting import wait_for

CAUGHT = {"Caught": {"Type": "Pass", "End": True}}


def one_branch(task: dict) -> list[dict]:
    return [{"StartAt": "Review", "States": {"Review": {**task, "End": True}}}]


def parallel(branches: list[dict], **fields) -> dict:
    """A workflow of one Parallel state; its catchers go to `Caught`."""
    caught = CAUGHT if "Catch" in fields else {}
    both = {"Type": "Parallel", "Branches": branches, **fields}
    return {"StartAt": "Both", "States": {"Both": both, **caught}}


def catch(*errors: str) -> list[dict]:
    return [{"ErrorEquals": list(errors), "ResultPath": "$.error", "Next": "Caught"}]


def test_a_timed_out_branch_fails_the_execution_with_states_timeout(sfn_client, notify_function):
    """AWS: nothing catches the branch's timeout, so the execution fails with it:
    `States.Timeout`, not `States.Runtime`."""
    branches = one_branch(waiting_task(notify_function, TimeoutSeconds=1))
    finished = run(sfn_client, parallel(branches, End=True), {"sleep": 0})
    assert (finished.status, finished.error) == ("FAILED", "States.Timeout")
    assert "ParallelStateFailed" in finished.types


def test_a_catch_on_the_parallel_state_catches_the_branch_timeout(sfn_client, notify_function):
    """AWS: a Catch for `States.Timeout` on the Parallel state catches its branch's timeout;
    the error output names it."""
    branches = one_branch(waiting_task(notify_function, TimeoutSeconds=1))
    definition = parallel(branches, Catch=catch("States.Timeout"), End=True)
    finished = run(sfn_client, definition, {"sleep": 0})
    assert finished.status == "SUCCEEDED"
    assert finished.output["error"]["Error"] == "States.Timeout"


def test_states_task_failed_does_not_catch_a_branch_timeout(sfn_client, notify_function):
    """AWS: `States.TaskFailed` matches any error but `States.Timeout`, on the Parallel
    state as on a task; a later catcher for `States.ALL` does catch it."""
    branches = one_branch(waiting_task(notify_function, TimeoutSeconds=1))
    catchers = [
        {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.wrong", "Next": "Caught"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"},
    ]
    finished = run(sfn_client, parallel(branches, Catch=catchers, End=True), {"sleep": 0})
    assert finished.status == "SUCCEEDED"
    assert "wrong" not in finished.output and finished.output["error"]["Error"] == "States.Timeout"


def test_a_retry_on_the_parallel_state_retries_a_branch_timeout(sfn_client, notify_function):
    """AWS: a Retry for `States.Timeout` on the Parallel state runs its branches again."""
    branches = one_branch(waiting_task(notify_function, TimeoutSeconds=1))
    retry = [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    definition = parallel(branches, Retry=retry, Catch=catch("States.Timeout"), End=True)
    finished = run(sfn_client, definition, {"sleep": 0}, timeout=30)
    assert finished.status == "SUCCEEDED"
    assert finished.types.count("TaskTimedOut") == 2


def test_a_workflow_error_of_a_branch_still_reaches_its_parallel_state(sfn_client):
    """AWS: an error the workflow names itself (a Fail state's `Rejected`) reaches the
    Parallel state unchanged, with its cause, and a Catch for that name catches it."""
    fail = [
        {"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "Rejected", "Cause": "no"}}}
    ]
    finished = run(sfn_client, parallel(fail, Catch=catch("Rejected"), End=True))
    assert finished.status == "SUCCEEDED"
    assert finished.output["error"] == {"Error": "Rejected", "Cause": "no"}


def test_a_timed_out_map_iteration_is_caught_as_states_timeout(sfn_client, notify_function):
    """AWS: a Map state's iteration that times out fails the Map state with
    `States.Timeout`, which its Catch for `States.Timeout` catches (uncaught, it fails the
    execution with it, as AWS's history shows)."""
    task = {**waiting_task(notify_function, TimeoutSeconds=1), "End": True}
    task["Parameters"]["Payload"]["sleep"] = 0
    task["Parameters"]["Payload"].pop("sleep.$")
    each = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {"StartAt": "Review", "States": {"Review": task}},
    }
    caught = run(
        sfn_client,
        {
            "StartAt": "Each",
            "States": {"Each": {**each, "Catch": catch("States.Timeout"), "End": True}, **CAUGHT},
        },
        {"items": [1]},
    )
    assert caught.status == "SUCCEEDED" and caught.output["error"]["Error"] == "States.Timeout"
    uncaught = run(
        sfn_client, {"StartAt": "Each", "States": {"Each": {**each, "End": True}}}, {"items": [1]}
    )
    assert (uncaught.status, uncaught.error) == ("FAILED", "States.Timeout")


@pytest.fixture(scope="module")
def quick_two_reviewers(localstack, deployment):
    """The kit's two-reviewers workflow, whose reviews (inside a Parallel state) time out
    after 2 s."""
    return deploy_state_machine(
        localstack,
        "TestBranchErrorsTwoReviewers",
        PROJECT_ROOT / "definitions" / "TwoReviewersStepFunction.json",
        review_timeout=2,
    )


def test_the_two_reviewers_workflow_fails_with_the_review_timeout(sfn_client, quick_two_reviewers):
    """AWS, on the kit's two-reviewers workflow: when nobody reviews in time, the review
    tasks inside the Parallel state time out and the execution fails with
    `States.Timeout` (its Parallel state has no Catch), not `States.Runtime`."""
    arn = sfn_client.start_execution(stateMachineArn=quick_two_reviewers, input="{}")[
        "executionArn"
    ]
    assert wait_for(lambda: submitted(sfn_client, arn, 2), timeout=30)
    assert ended(sfn_client, arn, timeout=30) == "FAILED"
    described = sfn_client.describe_execution(executionArn=arn)
    assert described["error"] == "States.Timeout"
    assert "TaskTimedOut" in event_types(sfn_client, arn)
    assert len(tokens(sfn_client, arn)) == 2
