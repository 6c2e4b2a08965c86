"""A learner's token mistakes get messages that name the likely cause."""

from __future__ import annotations

import json
import shutil

import pytest

from sfnlab.deploy.resources import deploy
from sfnlab.errors import ExecutionGone, LearnerError, TokenRefused
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution


@pytest.fixture
def approved_execution(localstack, deployment):
    started = execution.start(localstack)
    review = approval.find_review(localstack, started.name, wait=True)
    approval.decide(localstack, True, token=review.token)
    return started, review


def test_approving_twice_says_the_token_was_used(localstack, approved_execution):
    started, review = approved_execution
    with pytest.raises(LearnerError) as error:
        approval.decide(localstack, True, token=review.token)
    message = str(error.value)
    # Either it is still on its way (merging...) or it has already finished.
    assert started.name in message
    assert "already used" in message or "has already ended (SUCCEEDED)" in message


def test_approving_after_the_end_says_the_execution_ended(localstack, approved_execution):
    started, review = approved_execution
    execution.wait_for_end(localstack, started.arn)
    ended = rf"Execution {started.name} has already ended \(SUCCEEDED\)"
    with pytest.raises(LearnerError, match=ended):
        approval.decide(localstack, False, token=review.token)


@pytest.fixture(scope="module")
def slow_merge(localstack, tmp_path_factory):
    """SolveIssue with a merge that takes 5 s: an approved execution stays running a while."""
    source = tmp_path_factory.mktemp("slow-merge")
    shutil.copytree(PROJECT_ROOT / "definitions", source / "definitions")
    shutil.copytree(PROJECT_ROOT / "lambdas", source / "lambdas")
    merge = source / "lambdas" / "merge_to_master.py"
    merge.write_text(
        merge.read_text().replace("    branch = event", "    time.sleep(5)\n    branch = event")
    )
    merge.write_text("import time\n" + merge.read_text())
    return deploy(localstack, source=source, prefix="t-slow-", state_machine_name="SlowMerge")


def test_a_used_token_is_refused_while_its_execution_still_runs(localstack, slow_merge):
    arn = client("stepfunctions", localstack).start_execution(
        stateMachineArn=slow_merge.state_machine_arn, input="{}"
    )["executionArn"]
    name = arn.rsplit(":", 1)[1]
    review = approval.find_review(localstack, name, wait=True)
    approve = {"token": review.token, "function_name": slow_merge.approve_function}
    approval.decide(localstack, True, **approve)
    with pytest.raises(LearnerError, match=rf"This token was already used: execution {name}"):
        approval.decide(localstack, True, **approve)
    assert execution.describe(localstack, arn).status == "RUNNING"


def invoke_approve(localstack, deployment, event) -> dict:
    lam = client("lambda", localstack)
    response = lam.invoke(FunctionName=deployment.approve_function, Payload=json.dumps(event))
    assert response.get("FunctionError") == "Unhandled"
    return json.loads(response["Payload"].read())


def test_the_lambda_itself_names_a_token_of_an_ended_execution(
    localstack, deployment, approved_execution
):
    started, review = approved_execution
    execution.wait_for_end(localstack, started.arn)
    error = invoke_approve(localstack, deployment, {"token": review.token, "approve": True})
    assert error["errorType"] == "TokenNotWaiting"
    assert "already used" in error["errorMessage"]
    assert "botocore" not in error["errorMessage"]


def test_the_lambda_names_a_placeholder_token(localstack, deployment):
    event = approval.decision_event(True, "<paste the taskToken here>", None, None)
    error = invoke_approve(localstack, deployment, event)
    assert error["errorType"] == "TokenMalformed"


def test_a_token_nobody_issued_is_named(localstack, deployment):
    with pytest.raises(TokenRefused, match=r"does not know this token \(InvalidToken\)"):
        approval.decide(localstack, True, token="00000000-1111-2222-3333-444444444444")


@pytest.mark.parametrize("wait", [False, True])
def test_a_made_up_execution_is_named_as_unknown_at_once(localstack, deployment, wait):
    """Not "no notification (yet)", and no 30 s wait for one that can never come."""
    with pytest.raises(ExecutionGone, match="Execution no-such-run does not exist"):
        approval.find_review(localstack, "no-such-run", wait=wait, timeout=60)


def test_an_execution_of_another_machine_is_not_called_unknown(localstack, deployment):
    """A running execution that has notified nobody yet is still waited for, whatever its
    state machine (a learner's own, in notebook 05)."""
    sfn = client("stepfunctions", localstack)
    machine = sfn.create_state_machine(
        name="t-no-reviewers",
        definition=json.dumps(
            {"StartAt": "Pause", "States": {"Pause": {"Type": "Wait", "Seconds": 30, "End": True}}}
        ),
        roleArn=f"arn:aws:iam::{localstack.account_id}:role/t-any",
    )["stateMachineArn"]
    name = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"].rsplit(":", 1)[
        1
    ]
    try:
        with pytest.raises(LearnerError, match=rf"no notification for execution {name} \(yet\)"):
            approval.find_review(localstack, name, wait=True, timeout=0.5)
    finally:
        sfn.delete_state_machine(stateMachineArn=machine)
