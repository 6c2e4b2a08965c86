"""Approval by a link, on the embedded LocalStack: API Gateway in front of the page.

A link previewer (GET, HEAD) and anything but the page's own POST decide nothing; the
page's button decides; a link whose token can no longer decide says why, in the words
`sfnlab approve` uses; the token never reaches a log.
"""

from __future__ import annotations

import html
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import requests

from sfnlab.deploy.iam import as_document
from sfnlab.deploy.resources import deploy
from sfnlab.exercise import APPROVE_BY_LINK, role_name
from sfnlab.inbox import InboxClient
from sfnlab.support.aws import client
from sfnlab.testing.waiting import review_waiting
from sfnlab.workflow import approval, approval_links
from sfnlab.workflow import executions as execution

METHODS_THAT_DO_NOT_DECIDE = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH")


def waiting_message(settings, started: execution.Execution) -> dict:
    """The reviewers' message about an execution, once it has come."""
    review_waiting(settings, started, timeout=60)
    return next(
        r.json
        for r in InboxClient(settings.inbox_url).requests(channel="reviewers", limit=50)
        if r.json.get("execution") == started.name
    )


def waiting_review(settings, event=None) -> dict:
    """Start an execution; the reviewers' message, once it has come."""
    return waiting_message(settings, execution.start(settings, event))


def still_waiting(settings, message: dict) -> bool:
    current = execution.describe(settings, message["executionArn"])
    return current.status == "RUNNING" and current.waiting_at == "NotifyReviewers"


def test_the_message_links_to_the_page_in_localstacks_own_form(localstack, deployment):
    assert deployment.approval_url.startswith(f"{localstack.endpoint}/restapis/")
    assert deployment.approval_url.endswith("/links/_user_request_/review")
    message = waiting_review(localstack)
    assert set(message["links"]) == {"approve", "reject"}
    for decision, link in message["links"].items():
        assert link.startswith(deployment.approval_url + "?")
        page = approval_links.open_page(link)
        assert page.status == 200 and page.title.startswith(decision.capitalize())


def test_a_second_deploy_leaves_the_link_unchanged(localstack, deployment):
    again = deploy(localstack)
    link_changes = [c for c in again.changes if c.kind in ("api", "permission")]
    assert [c.action for c in link_changes] == ["unchanged", "unchanged"]
    assert again.approval_url == deployment.approval_url
    assert again.changed == []


def test_nothing_but_the_pages_post_decides(localstack, deployment):
    message = waiting_review(localstack)
    fetched = approval_links.preview_links(message)  # what a mail scanner does
    assert {(f.method, f.status) for f in fetched} == {("HEAD", 200), ("GET", 200)}
    for link in message["links"].values():
        for method in METHODS_THAT_DO_NOT_DECIDE:
            answer = requests.request(method, link, timeout=30)
            assert answer.status_code in (200, 204, 405), (method, answer.status_code)
        # A POST without the page's form, or with the token in the query only.
        assert requests.post(link, timeout=30).status_code == 400
    time.sleep(1)  # a decision, had one been sent, would have moved the execution on
    assert still_waiting(localstack, message)
    history = client("stepfunctions", localstack).get_execution_history(
        executionArn=message["executionArn"]
    )["events"]
    exits = [e.get("stateExitedEventDetails", {}).get("name") for e in history]
    assert "NotifyReviewers" not in exits


def test_the_pages_button_rejects_and_a_spent_link_says_so(localstack, deployment):
    message = waiting_review(localstack)
    page = approval_links.press_the_button(message["links"]["reject"], "dmitri", "Not yet")
    assert page.status == 200 and page.title.startswith("Rejected")
    ended = execution.wait_for_end(localstack, message["executionArn"])
    assert (ended.status, ended.error) == ("FAILED", "ReviewRejected")
    assert ended.cause == "Rejected by dmitri: Not yet"
    for link in message["links"].values():  # spent: neither link can decide any more
        spent = approval_links.open_page(link)
        assert spent.form == {} and spent.title == "This link can no longer decide"
        assert approval.ended_refusal(ended).message in spent.text
    again = requests.post(
        message["links"]["approve"],
        data={"decision": "approve", "execution": message["executionArn"], "token": "x" * 40},
        timeout=30,
    )
    assert again.status_code == 409  # a made-up token for that execution decides nothing


def test_a_stopped_executions_link_says_so_in_sfnlab_approves_words(localstack, deployment):
    message = waiting_review(localstack)
    client("stepfunctions", localstack).stop_execution(executionArn=message["executionArn"])
    stopped = execution.wait_for_end(localstack, message["executionArn"])
    page = approval_links.open_page(message["links"]["approve"])
    refusal = approval.ended_refusal(stopped)
    assert "stopped (ABORTED)" in refusal.message
    assert refusal.message in page.text and refusal.hint in page.text
    assert page.form == {}


def test_a_timed_out_reviews_link_says_so(localstack):
    short = replace(localstack, account_id="111100000031")
    deploy(short, review_timeout=2, review_heartbeat=None)
    message = waiting_review(short)
    timed_out = execution.wait_for_end(short, message["executionArn"], timeout=60)
    assert timed_out.error == "ReviewTimedOut"
    page = approval_links.open_page(message["links"]["approve"])
    assert approval.ended_refusal(timed_out).message in page.text
    assert "timed out" in page.text and page.form == {}


def test_a_token_from_another_message_is_refused(localstack, deployment):
    first, second = waiting_review(localstack), waiting_review(localstack)
    mixed = first["links"]["approve"].replace(
        requests.utils.quote(first["executionArn"], safe=""),
        requests.utils.quote(second["executionArn"], safe=""),
    )
    assert mixed != first["links"]["approve"]
    page = approval_links.open_page(mixed)
    assert "never asked for a review with this token" in page.text and page.form == {}
    for message in (first, second):
        assert still_waiting(localstack, message)


def test_whatever_the_issue_says_is_shown_as_text(localstack, deployment):
    title = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'
    message = waiting_review(localstack, {"issue": {"id": "ISSUE-7", "title": title}})
    answer = requests.get(message["links"]["approve"], timeout=30)
    assert "<script>" not in answer.text and "<img" not in answer.text
    assert html.escape(title, quote=True) in answer.text
    page = approval_links.open_page(message["links"]["approve"])
    assert f"ISSUE-7 {title}" in page.text  # the text a person reads, as typed


def test_the_token_reaches_no_log(localstack, deployment):
    message = waiting_review(localstack)
    token = message["taskToken"]
    approval_links.preview_links(message)
    approval_links.press_the_button(message["links"]["approve"], "ana")
    assert execution.wait_for_end(localstack, message["executionArn"]).status == "SUCCEEDED"
    logs = client("logs", localstack)
    group = f"/aws/lambda/{APPROVE_BY_LINK.function_name()}"
    lines = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    assert {"GET", "HEAD", "POST"} <= {line.get("method") for line in logged}
    assert not [line for line in lines if token in line]
    localstack_log = localstack.log_file.read_text(errors="replace")
    assert "_user_request_/review" in localstack_log  # the requests are in it...
    assert token not in localstack_log  # ...without their query


def test_the_pages_role_may_decide_and_read_executions_only(localstack, deployment):
    iam = client("iam", localstack)
    name = role_name("sfnlab-", "approve-link")
    document = iam.get_role_policy(RoleName=name, PolicyName="decide-by-link")["PolicyDocument"]
    assert as_document(document)["Statement"] == [
        {"Effect": "Allow", "Action": ["states:SendTaskSuccess"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["states:DescribeExecution", "states:GetExecutionHistory"],
            "Resource": "arn:aws:states:*:*:execution:SolveIssue:*",
        },
    ]
    approve_role = role_name("sfnlab-", "approve")
    assert sorted(iam.list_role_policies(RoleName=approve_role)["PolicyNames"]) == [
        "send-review-decision",
        "write-logs",
    ]


@pytest.mark.parametrize("query", ["", "?decision=approve", "?decision=maybe&token=x"])
def test_a_link_cut_short_says_so(localstack, deployment, query):
    answer = requests.get(deployment.approval_url + query, timeout=30)
    assert answer.status_code == 400 and "This link is incomplete" in answer.text


def test_two_clicks_at_once_decide_once(localstack, deployment):
    message = waiting_review(localstack)
    page = approval_links.open_page(message["links"]["approve"])
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(
                lambda n: requests.post(
                    page.action, data={**page.form, "reviewer": f"r{n}"}, timeout=60
                ),
                range(4),
            )
        )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    ended = execution.wait_for_end(localstack, message["executionArn"])
    assert ended.status == "SUCCEEDED"
    decided = next(a for a in answers if a.status_code == 200)
    assert "Approved by r" in decided.text
    assert all("already" in a.text for a in answers if a.status_code == 409)


def test_a_comment_too_long_is_refused_and_the_link_still_works(localstack, deployment):
    message = waiting_review(localstack)
    page = approval_links.open_page(message["links"]["reject"])
    too_long = requests.post(page.action, data={**page.form, "comment": "x" * 300_000}, timeout=60)
    assert too_long.status_code == 400 and "too large" in too_long.text
    assert still_waiting(localstack, message)
    done = approval_links.press_the_button(message["links"]["reject"], "eve", "Shorter")
    assert done.status == 200
    ended = execution.wait_for_end(localstack, message["executionArn"])
    assert (ended.status, ended.cause) == ("FAILED", "Rejected by eve: Shorter")
