"""An execution survives the inbox going away for a few seconds; a long outage still fails,
with the message that says what to do."""

from __future__ import annotations

import collections
import json
import uuid
from dataclasses import replace

import pytest

from sfnlab.deploy.definition import load_template, render_definition
from sfnlab.deploy.functions import function_arns
from sfnlab.deploy.resources import deploy_into_empty_account
from sfnlab.exercise import DEFINITION_FILE, LAMBDAS_FOLDER
from sfnlab.inbox import InboxClient
from sfnlab.inbox.service import ensure_inbox, stop_inbox
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client
from sfnlab.support.network import free_port
from sfnlab.testing.functions import invoke
from sfnlab.testing.settings import settings_for
from sfnlab.testing.waiting import wait_for
from sfnlab.workflow import executions as execution
from sfnlab.workflow import history

pytestmark = pytest.mark.localstack


@pytest.fixture
def inbox_back_afterwards(localstack):
    """Whatever a test does to the session's inbox, it runs again afterwards."""
    yield
    ensure_inbox(localstack)


def unreachable_attempts(settings, arn: str, state: str) -> int:
    """How many times `state`'s Lambda failed with InboxUnreachable so far."""
    failures, current = 0, None
    for event in history.fetch_events(client("stepfunctions", settings), arn):
        entered = event.get("stateEnteredEventDetails")
        if entered:
            current = entered["name"]
        details = event.get("taskFailedEventDetails") or event.get(
            "lambdaFunctionFailedEventDetails"
        )
        if current == state and details and details.get("error") == "InboxUnreachable":
            failures += 1
    return failures


def messages_of(localstack, marker: str) -> collections.Counter:
    """The inbox's messages that mention `marker`, counted by channel and action."""
    found = InboxClient(localstack.inbox_url).requests(limit=1000)
    return collections.Counter(
        (r.channel, (r.json or {}).get("action", "")) for r in found if marker in r.body
    )


def test_an_inbox_outage_of_seconds_costs_no_execution_and_no_notification(
    localstack, deployment, inbox_back_afterwards
):
    inbox = InboxClient(localstack.inbox_url)
    kept_before = [r.id for r in inbox.requests(limit=1000)]
    marker = uuid.uuid4().hex[:10]
    event = {
        "issue": {"id": f"ISSUE-{marker}", "title": "Survive an outage"},
        "repository": f"acme/{marker}",
        "branch": f"fix/outage-{marker}",
    }

    # Down before the first step: it fails four times (at 0, 1, 3 and 7 s) before the
    # inbox returns, and the fifth attempt (at 15 s) goes through.
    stop_inbox(localstack)
    started = execution.start(localstack, event)
    assert wait_for(lambda: unreachable_attempts(localstack, started.arn, "CreateCode") >= 4, 20)
    ensure_inbox(localstack)

    # Waiting for the review, the notification arrived once; down again for the merge.
    def token() -> str | None:
        found = [r.json for r in inbox.requests(channel="reviewers") if marker in r.body]
        return found[0]["taskToken"] if found else None

    assert wait_for(token, 30)
    review_token = token()
    stop_inbox(localstack)
    decided = invoke(
        client("lambda", localstack),
        deployment.approve_function,
        {"token": review_token, "approve": True, "reviewer": "bob"},
    )
    assert "FunctionError" not in decided, decided["Payload"]
    assert wait_for(lambda: unreachable_attempts(localstack, started.arn, "MergeToMaster") >= 1)
    ensure_inbox(localstack)

    ended = execution.wait_for_end(localstack, started.arn, timeout=30)
    assert ended.status == "SUCCEEDED", (ended.error, ended.cause)
    # Every step told the inbox exactly once, and the restarts lost nothing kept before.
    assert messages_of(localstack, marker) == {
        ("code", "code created"): 1,
        ("git", "branch created"): 1,
        ("reviewers", ""): 1,
        ("git", "merged"): 1,
        ("releases", "release created"): 1,
        ("ops", ""): 1,
    }
    assert set(kept_before) <= {r.id for r in inbox.requests(limit=1000)}
    retried = {state.name: state.attempts for state in ended.path}
    assert retried["CreateCode"] == 5 and retried["MergeToMaster"] >= 2


def test_a_long_inbox_outage_fails_the_execution_with_what_to_do(
    localstack, deployment, inbox_back_afterwards
):
    stop_inbox(localstack)
    started = execution.start(localstack, {"issue": {"id": "ISSUE-long-outage"}})
    # 1 + 2 + 4 + 8 s of waiting between five attempts, then it gives up.
    ended = execution.wait_for_end(localstack, started.arn, timeout=45)
    assert ended.status == "FAILED"
    assert ended.error == "InboxUnreachable"
    cause = json.loads(ended.cause)
    assert cause["errorType"] == "InboxUnreachable"
    assert cause["errorMessage"].startswith(f"Could not reach the inbox at {localstack.inbox_url}")
    assert "Is it running? `sfnlab up` starts it." in cause["errorMessage"]
    assert unreachable_attempts(localstack, started.arn, "CreateCode") == 5
    assert [state.name for state in ended.path] == ["CreateCode"]


def test_a_review_request_that_failed_is_sent_again_with_a_token_that_works(localstack, tmp_path):
    # Only Notify Reviewers is told of an inbox that is not running yet; in an account of
    # its own, so that the session's deployment is left as it is.
    settings = replace(localstack, account_id=f"1{uuid.uuid4().int % 10**11:011d}")
    late = settings_for(tmp_path / "late", inbox_port=free_port())
    template = load_template(PROJECT_ROOT / DEFINITION_FILE)
    definition = render_definition(
        template, function_arns("outage-", settings.account_id, settings.region), 86400, 3600
    )
    deployed = deploy_into_empty_account(
        settings,
        PROJECT_ROOT / LAMBDAS_FOLDER,
        definition,
        prefix="outage-",
        inbox_url_for=lambda step: (
            late.inbox_url if step.key == "NotifyReviewers" else localstack.inbox_url
        ),
    )
    try:
        started = execution.start(settings, {"issue": {"id": "ISSUE-late-review"}})
        assert wait_for(
            lambda: unreachable_attempts(settings, started.arn, "NotifyReviewers") >= 1, 20
        )
        ensure_inbox(late)
        reviewers = InboxClient(late.inbox_url)
        assert wait_for(lambda: reviewers.requests(channel="reviewers"), 20)
        (notification,) = reviewers.requests(channel="reviewers")
        token = notification.json["taskToken"]
        # The token of the attempt that got through: it is the one the task waits for.
        assert token == execution.task_token_in_history(settings, started.arn)
        decided = invoke(
            client("lambda", settings), deployed.approve_function, {"token": token, "approve": True}
        )
        assert "FunctionError" not in decided, decided["Payload"]
        ended = execution.wait_for_end(settings, started.arn, timeout=30)
    finally:
        stop_inbox(late)
    assert ended.status == "SUCCEEDED", (ended.error, ended.cause)
    assert {state.name: state.attempts for state in ended.path}["NotifyReviewers"] >= 2
