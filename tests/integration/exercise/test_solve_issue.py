"""The exercise end to end on the embedded LocalStack: approve, reject, and the messages."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import requests

from sfnlab.errors import LearnerError
from sfnlab.inbox import InboxClient
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.waiting import review_waiting
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution


def start_and_wait_for_review(settings, event=None) -> tuple[execution.Execution, object]:
    started = execution.start(settings, event)
    return started, review_waiting(settings, started)


def test_approve_path_succeeds_and_ops_are_asked_to_deploy_the_release(localstack, deployment):
    started, review = start_and_wait_for_review(localstack)
    approval.decide(localstack, True, token=review.token)
    ended = execution.wait_for_end(localstack, started.arn)
    assert ended.status == "SUCCEEDED"
    assert [s.name for s in ended.path][-4:] == [
        "MergeToMaster",
        "CreateRelease",
        "NotifyOps",
        "IssueSolved",
    ]
    release = ended.output["release"]["name"]
    ops = InboxClient(localstack.inbox_url).requests(channel="ops")
    assert any(message.json["release"] == release for message in ops)
    assert ended.output["merge"]["branch"] == review.branch


def test_reject_path_fails_in_the_fail_state_naming_the_decision(localstack, deployment):
    started, review = start_and_wait_for_review(localstack)
    approval.decide(localstack, False, token=review.token, reviewer="carol", comment="no tests")
    ended = execution.wait_for_end(localstack, started.arn)
    assert ended.status == "FAILED"
    assert ended.error == "ReviewRejected"
    assert ended.cause == "Rejected by carol: no tests"
    assert ended.path[-1].name == "ReviewRejected" and ended.path[-1].type == "Fail"
    assert "MergeToMaster" not in [state.name for state in ended.path]


def test_reviewers_message_has_branch_token_and_execution(localstack, deployment):
    event = {"issue": {"id": "ISSUE-9", "title": "Typo in footer"}, "branch": "fix/footer"}
    started, review = start_and_wait_for_review(localstack, event)
    message = next(
        r.json
        for r in InboxClient(localstack.inbox_url).requests(channel="reviewers")
        if r.json["execution"] == started.name
    )
    assert message["branch"] == "fix/footer"
    assert message["taskToken"] == execution.task_token_in_history(localstack, started.name)
    assert message["taskToken"] in message["toApprove"]["sfnlab"]
    waiting = execution.describe(localstack, started.name)
    assert waiting.status == "RUNNING" and waiting.waiting_at == "NotifyReviewers"
    approval.decide(localstack, False, token=review.token)  # leave nothing waiting


def test_review_decides_through_the_test_events(localstack, deployment):
    event = approval.decision_event(True, "token-123", None, None)
    assert event == {
        "token": "token-123",
        "approve": True,
        "reviewer": "bob",
        "comment": "Looks good to me",
    }


def test_a_branch_name_with_html_is_shown_escaped_in_the_inbox(localstack, deployment):
    branch = '<img src=x onerror="alert(1)">'
    _, review = start_and_wait_for_review(localstack, {"branch": branch})
    assert review.branch == branch
    page = requests.get(f"{localstack.inbox_url}/?channel=reviewers", timeout=5).text
    assert branch not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    approval.decide(localstack, False, token=review.token)


def test_starting_without_a_deployment_says_to_deploy(localstack):
    with pytest.raises(LearnerError, match=r"nothing is deployed yet.*sfnlab deploy"):
        execution.start(localstack, machine="NotDeployedHere")


@pytest.mark.parametrize(("flag", "outcome"), [((), "SUCCEEDED"), (("--reject",), "FAILED")])
def test_run_exercise_script_exits_0_on_the_expected_outcome(localstack, deployment, flag, outcome):
    environment = {
        **os.environ,
        "SFNLAB_ENDPOINT": localstack.endpoint,
        "SFNLAB_INBOX_URL": localstack.inbox_url,
        "SFNLAB_STATE_DIR": str(localstack.state_dir),
    }
    result = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "run_exercise.sh"), *flag],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f": {outcome}" in result.stdout
    assert "What the reviewers got" in result.stdout
    assert "The workflow, as this execution went" in result.stdout
    assert "NotifyReviewers    Task     succeeded" in result.stdout
    picture = next(w for w in result.stdout.split() if w.endswith(".html"))
    assert Path(picture).is_file() and Path(picture).is_relative_to(localstack.state_dir)
    assert "ended as expected" in result.stdout
    assert "LocalStack and the inbox keep running" in result.stderr
