"""Each step's handler, called as Lambda would call it, with a real inbox to talk to."""

from __future__ import annotations

import copy
import json
from urllib.parse import parse_qs

import pytest

START = {
    "issue": {"id": "ISSUE-7", "title": "Cart total is wrong", "author": "ana"},
    "repository": "acme/webshop",
}
BRANCH = "feature/ISSUE-7-cart-total-is-wrong"


def full_payload(handlers, context) -> dict:
    """The payload as it reaches Merge To Master after an approved review."""
    payload = handlers.create_code.lambda_handler(copy.deepcopy(START), context)
    payload = handlers.create_branch.lambda_handler(payload, context)
    return {**payload, "review": {"approved": True, "summary": "Approved by bob"}}


def test_create_code_adds_the_commit_and_tells_the_inbox(handlers, inbox, context):
    result = handlers.create_code.lambda_handler(copy.deepcopy(START), context)
    assert result["code"]["commit"] == handlers.create_code.create_code(START["issue"])["commit"]
    assert result["code"]["message"] == "Fix ISSUE-7: Cart total is wrong"
    (message,) = inbox.requests(channel="code")
    assert message.json["code"] == result["code"]


def test_create_branch_names_the_branch_after_the_issue(handlers, inbox, context):
    result = handlers.create_branch.lambda_handler(copy.deepcopy(START), context)
    assert result["branch"] == BRANCH
    (message,) = inbox.requests(channel="git")
    assert message.json["branch"] == BRANCH


def test_create_branch_keeps_a_branch_name_from_the_start_event(handlers, context):
    event = {**START, "branch": "hotfix/<b>urgent</b>"}
    assert handlers.create_branch.lambda_handler(event, context)["branch"] == "hotfix/<b>urgent</b>"


def test_notify_reviewers_sends_branch_token_execution_and_what_to_run(handlers, inbox, context):
    payload = handlers.create_branch.lambda_handler(copy.deepcopy(START), context)
    token = "1234abcd-5678-4f00-9abc-def012345678"
    event = {"taskToken": token, "executionName": "solve-1", "input": payload}
    handlers.notify_reviewers.lambda_handler(event, context)
    (message,) = inbox.requests(channel="reviewers")
    body = message.json
    assert body["branch"] == BRANCH and body["taskToken"] == token
    assert body["execution"] == "solve-1"
    assert body["toApprove"]["sfnlab"] == f".sfnlab/venv/bin/sfnlab approve --token {token}"
    approve_cli = body["toApprove"]["awslocal"]
    assert "--function-name sfnlab-approve-step-with-token" in approve_cli
    payload_json = approve_cli.split("--payload '", 1)[1].split("'", 1)[0]
    assert json.loads(payload_json) == {"token": token, "approve": True}
    assert json.loads(body["toReject"]["awslocal"].split("'")[1]) == {
        "token": token,
        "approve": False,
    }


def test_notify_reviewers_links_to_approve_and_reject_when_told_the_pages_address(
    handlers, inbox, context, monkeypatch
):
    payload = handlers.create_branch.lambda_handler(copy.deepcopy(START), context)
    token = "AAAA+token/with=signs&more"
    execution = "arn:aws:states:us-east-1:000000000000:execution:SolveIssue:solve-1"
    event = {"taskToken": token, "executionArn": execution, "input": payload}
    handlers.notify_reviewers.lambda_handler(event, context)
    assert "links" not in inbox.requests(channel="reviewers")[0].json  # not told: none
    page = "http://127.0.0.1:4566/restapis/abc/links/_user_request_/review"
    monkeypatch.setattr(handlers.notify_reviewers, "APPROVAL_URL", page)
    handlers.notify_reviewers.lambda_handler(event, context)
    links = inbox.requests(channel="reviewers")[0].json["links"]
    assert set(links) == {"approve", "reject"}
    for decision, link in links.items():
        address, query = link.split("?", 1)
        assert address == page
        assert parse_qs(query) == {
            "decision": [decision],
            "execution": [execution],
            "token": [token],
        }


def test_notify_reviewers_without_a_token_says_how_to_pass_it(handlers, context):
    with pytest.raises(ValueError, match=r"\$\$\.Task\.Token"):
        handlers.notify_reviewers.lambda_handler({"input": {}}, context)


def test_merge_to_master_merges_the_branch_by_name(handlers, inbox, context):
    result = handlers.merge_to_master.lambda_handler(full_payload(handlers, context), context)
    assert result["merge"]["branch"] == BRANCH and result["merge"]["into"] == "master"
    message = inbox.requests(channel="git")[0]
    assert message.json["action"] == "merged" and message.json["branch"] == BRANCH


def test_merge_without_a_branch_says_which_step_adds_it(handlers, context):
    with pytest.raises(ValueError, match="Create Branch adds it"):
        handlers.merge_to_master.lambda_handler(copy.deepcopy(START), context)


def test_create_release_names_the_release_after_the_issue(handlers, inbox, context):
    payload = handlers.merge_to_master.lambda_handler(full_payload(handlers, context), context)
    result = handlers.create_release.lambda_handler(payload, context)
    assert result["release"]["name"].startswith("release-")
    assert result["release"]["name"].endswith("-ISSUE-7")
    assert result["release"]["commit"] == payload["merge"]["commit"]
    assert inbox.requests(channel="releases")[0].json["release"] == result["release"]


def test_notify_ops_names_the_release_to_deploy(handlers, inbox, context):
    payload = handlers.merge_to_master.lambda_handler(full_payload(handlers, context), context)
    payload = handlers.create_release.lambda_handler(payload, context)
    handlers.notify_ops.lambda_handler(payload, context)
    (message,) = inbox.requests(channel="ops")
    assert message.json["release"] == payload["release"]["name"]
    assert payload["release"]["name"] in message.json["subject"]


def test_notify_ops_without_a_release_says_which_step_adds_it(handlers, context):
    with pytest.raises(ValueError, match="Create Release adds it"):
        handlers.notify_ops.lambda_handler(copy.deepcopy(START), context)


@pytest.mark.parametrize(
    "step", ["create_code", "create_branch", "merge_to_master", "create_release", "notify_ops"]
)
def test_every_step_returns_at_least_the_payload_it_received(handlers, context, step):
    payload = full_payload(handlers, context)
    if step in ("create_release", "notify_ops"):
        payload = handlers.merge_to_master.lambda_handler(payload, context)
    if step == "notify_ops":
        payload = handlers.create_release.lambda_handler(payload, context)
    received = copy.deepcopy(payload)
    result = getattr(handlers, step).lambda_handler(payload, context)
    assert {key: result[key] for key in received} == received


def test_an_unreachable_inbox_is_a_clear_error(handlers, context, monkeypatch):
    monkeypatch.setattr(handlers.simulated_action, "INBOX_URL", "http://127.0.0.1:9")
    with pytest.raises(handlers.simulated_action.ActionFailed, match="Is it running"):
        handlers.create_code.lambda_handler(copy.deepcopy(START), context)
