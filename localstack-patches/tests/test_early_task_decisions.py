"""A decision sent while the task's Lambda still runs (patch `early_task_decisions`).

AWS Step Functions developer guide, "Wait for a Callback with Task Token": the task
pauses until it receives the token back with SendTaskSuccess or SendTaskFailure; the
token is valid from the moment the task hands it out (it is in the Lambda's payload), so
a decision made while the Lambda is still running completes the task once the Lambda has
returned. This was the flake seen in notebook 04: an approval accepted, yet the
execution left waiting at NotifyReviewers.
"""

from __future__ import annotations

import json
import shutil

import pytest
from token_waits import ended, event_types, refusal, tokens

from sfnlab.deploy.resources import deploy
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client
from sfnlab.testing.waiting import wait_for
from sfnlab.workflow import approval

SPENT = ("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")


def decide_while_the_lambda_runs(sfn_client, machine: str, sleep: float = 3) -> str:
    """Start, and approve during the Lambda's `sleep`; the execution's ARN."""
    arn = sfn_client.start_execution(stateMachineArn=machine, input=json.dumps({"sleep": sleep}))[
        "executionArn"
    ]
    assert wait_for(lambda: tokens(sfn_client, arn), timeout=10)
    token = tokens(sfn_client, arn)[0]
    sfn_client.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
    # The Lambda has not returned yet: the task has not started waiting.
    assert "TaskSubmitted" not in event_types(sfn_client, arn)
    return arn


@pytest.mark.parametrize("heartbeat", [None, 60], ids=["no-heartbeat", "heartbeat"])
def test_an_approval_during_the_lambda_completes_the_task(sfn_client, token_machine, heartbeat):
    """AWS: the task completes with the early decision as soon as its Lambda returns, with
    or without HeartbeatSeconds (LocalStack 4.14.0 lost it with HeartbeatSeconds set, and
    failed the task with States.HeartbeatTimeout once they had passed)."""
    fields = {"TimeoutSeconds": 120}
    if heartbeat:
        fields["HeartbeatSeconds"] = heartbeat
    arn = decide_while_the_lambda_runs(sfn_client, token_machine(**fields))
    assert ended(sfn_client, arn, timeout=20) == "SUCCEEDED"
    assert json.loads(sfn_client.describe_execution(executionArn=arn)["output"]) == {
        "approved": True
    }


def test_a_second_decision_during_the_lambda_is_refused(sfn_client, token_machine):
    """AWS: the early decision closes the task; another one, even before the Lambda has
    returned, is TaskTimedOut, and the first one stands."""
    arn = decide_while_the_lambda_runs(sfn_client, token_machine(TimeoutSeconds=120))
    token = tokens(sfn_client, arn)[0]
    second = json.dumps({"approved": False})
    assert refusal(sfn_client.send_task_success, taskToken=token, output=second) == SPENT
    assert ended(sfn_client, arn, timeout=20) == "SUCCEEDED"
    assert json.loads(sfn_client.describe_execution(executionArn=arn)["output"]) == {
        "approved": True
    }


@pytest.fixture(scope="module")
def slow_notify(localstack, tmp_path_factory):
    """SolveIssue whose Notify Reviewers sleeps 3 s after posting the notification."""
    source = tmp_path_factory.mktemp("slow-notify")
    shutil.copytree(PROJECT_ROOT / "definitions", source / "definitions")
    shutil.copytree(PROJECT_ROOT / "lambdas", source / "lambdas")
    notify = source / "lambdas" / "notify_reviewers.py"
    text = notify.read_text()
    posted = '    send("reviewers", request)\n'
    assert posted in text
    notify.write_text("import time\n" + text.replace(posted, posted + "    time.sleep(3)\n"))
    return deploy(
        localstack, source=source, prefix="t-slow-notify-", state_machine_name="SlowNotify"
    )


def test_the_reviewers_approval_before_notify_reviewers_returns_is_kept(localstack, slow_notify):
    """AWS, as in notebook 04: the reviewers get the token from Notify Reviewers, which is
    still running, and approve at once with SendTaskSuccess; the exercise's review has
    HeartbeatSeconds (an hour), and the execution still goes on to merge and succeeds."""
    sfn = client("stepfunctions", localstack)
    arn = sfn.start_execution(stateMachineArn=slow_notify.state_machine_arn, input="{}")[
        "executionArn"
    ]
    name = arn.rsplit(":", 1)[1]

    def notified() -> str | None:
        reviews = approval.review_requests(localstack)
        return next((review.token for review in reviews if review.execution == name), None)

    token = wait_for(notified, timeout=30)
    decision = {"approved": True, "reviewer": "bob", "comment": "quick", "summary": "Approved"}
    sfn.send_task_success(taskToken=token, output=json.dumps(decision))
    assert (
        "TaskSubmitted"
        not in [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]][-3:]
    )
    assert ended(sfn, arn, timeout=30) == "SUCCEEDED"
