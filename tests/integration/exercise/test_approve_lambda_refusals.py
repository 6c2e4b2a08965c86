"""The approve Lambda says, in the reviewer's words, why Step Functions refused a token.

Step Functions answers TaskTimedOut for a token whose review is over (used, timed out,
stopped, ended), InvalidToken for one it never issued, ValidationException for one longer
than 2,048 characters; the Lambda turns each into what happened and what to do.
"""

from __future__ import annotations

import json

import pytest

from sfnlab.deploy.resources import deploy_state_machine
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client
from sfnlab.testing.waiting import review_waiting, wait_for
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution


def approve(localstack, deployment, token: str, **event) -> dict:
    """Invoke the approve Lambda; its error (errorType, errorMessage), which it must raise."""
    response = client("lambda", localstack).invoke(
        FunctionName=deployment.approve_function,
        Payload=json.dumps({"token": token, "approve": True, **event}),
    )
    error = json.loads(response["Payload"].read())
    assert response.get("FunctionError") == "Unhandled", error
    assert "botocore" not in error["errorMessage"] and "Traceback" not in error["errorMessage"]
    return error


def review_of(localstack) -> tuple[execution.Execution, str]:
    started = execution.start(localstack)
    return started, review_waiting(localstack, started).token


def assert_review_over(error: dict) -> None:
    assert error["errorType"] == "TokenNotWaiting"
    assert "(TaskTimedOut)" in error["errorMessage"]
    assert "start a new execution" in error["errorMessage"]


def test_a_token_used_twice_is_explained(localstack, deployment):
    started, token = review_of(localstack)
    client("lambda", localstack).invoke(
        FunctionName=deployment.approve_function,
        Payload=json.dumps({"token": token, "approve": True}),
    )
    error = approve(localstack, deployment, token)
    assert_review_over(error)
    assert "already used" in error["errorMessage"]
    execution.wait_for_end(localstack, started.arn)


def test_a_token_of_a_stopped_execution_is_explained(localstack, deployment):
    started, token = review_of(localstack)
    client("stepfunctions", localstack).stop_execution(executionArn=started.arn)
    assert_review_over(approve(localstack, deployment, token))
    assert "stopped" in approve(localstack, deployment, token)["errorMessage"]


@pytest.fixture(scope="module")
def quick_review(localstack, deployment):
    """SolveIssue whose review times out after 2 s."""
    return deploy_state_machine(
        localstack,
        "TestQuickReview",
        PROJECT_ROOT / "definitions" / "SolveIssueStepFunction.json",
        review_timeout=2,
        review_heartbeat=None,
    )


def test_a_token_of_an_expired_review_is_explained(localstack, deployment, quick_review):
    sfn = client("stepfunctions", localstack)
    arn = sfn.start_execution(stateMachineArn=quick_review, input="{}")["executionArn"]
    name = arn.rsplit(":", 1)[1]
    token = approval.find_review(localstack, name, wait=True).token
    assert wait_for(
        lambda: sfn.describe_execution(executionArn=arn)["status"] == "FAILED", timeout=20
    )
    error = approve(localstack, deployment, token)
    assert_review_over(error)
    assert "timed out" in error["errorMessage"]


def test_a_token_never_issued_is_explained(localstack, deployment):
    error = approve(localstack, deployment, "0123456789abcdef" * 3)
    assert error["errorType"] == "TokenUnknown"  # not "not waiting": it never waited
    assert "(InvalidToken)" in error["errorMessage"] and "never issued" in error["errorMessage"]


def test_a_token_too_long_to_be_one_is_explained(localstack, deployment):
    error = approve(localstack, deployment, "a" * 3000)
    assert error["errorType"] == "TokenMalformed"
    assert "2,048 characters" in error["errorMessage"] and len(error["errorMessage"]) < 800


def test_a_comment_too_long_for_step_functions_leaves_the_token_usable(localstack, deployment):
    started, token = review_of(localstack)
    error = approve(localstack, deployment, token, comment="x" * 300_000)
    assert error["errorType"] == "CommentTooLong"
    approval.decide(localstack, True, token=token, comment="fine, short")
    assert execution.wait_for_end(localstack, started.arn).status == "SUCCEEDED"


@pytest.mark.parametrize("value", ["yes", 1, 0])
def test_an_approve_that_is_not_true_or_false_decides_nothing(localstack, deployment, value):
    """The contract's `approve` is JSON true or false: "yes" approves nothing, 0 rejects
    nothing, and the message quotes what was given; the token still decides after."""
    started, token = review_of(localstack)
    error = approve(localstack, deployment, token, approve=value)
    assert error["errorType"] == "DecisionInvalid"
    assert f'"approve": {json.dumps(value)}' in error["errorMessage"]
    assert execution.describe(localstack, started.arn).waiting_at == "NotifyReviewers"
    approval.decide(localstack, False, token=token)
    assert execution.wait_for_end(localstack, started.arn).status == "FAILED"
