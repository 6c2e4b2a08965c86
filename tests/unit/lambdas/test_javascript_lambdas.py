"""The JavaScript Lambdas (lambdas-js/): their own tests under Node.js's test runner, and
each step beside its Python twin, on the same events, with the same real inbox."""

from __future__ import annotations

import copy
import json
import os
import shlex
import subprocess
from urllib.parse import parse_qs

import pytest

from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.nodejs_runtime_api import node_or_skip

NODE_TESTS = PROJECT_ROOT / "tests" / "unit" / "lambdas_js"
INVOKE = NODE_TESTS / "invoke.js"
TOKEN = "1234abcd-5678-4f00-9abc-def012345678"
START = {
    "issue": {"id": "ISSUE-7", "title": "Cart total is wrong", "author": "ana"},
    "repository": "acme/webshop",
}


def test_the_javascript_lambdas_pass_their_own_tests():
    node = node_or_skip()
    files = sorted(str(path) for path in NODE_TESTS.glob("*.test.js"))
    assert len(files) >= 3
    done = subprocess.run(
        [node, "--test", *files], capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout


def invoke_js(module: str, event: object, inbox_url: str) -> dict:
    """{"result": ...} or {"errorType", "errorMessage"} of the JavaScript Lambda `module`."""
    environment = dict(
        os.environ, INBOX_URL=inbox_url, APPROVE_FUNCTION_NAME="sfnlab-approve-step-with-token"
    )
    done = subprocess.run(
        [node_or_skip(), str(INVOKE), module],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def invoke_py(handlers, module: str, event: object, context) -> dict:
    try:
        return {"result": getattr(handlers, module).lambda_handler(copy.deepcopy(event), context)}
    except Exception as error:
        return {"errorType": type(error).__name__, "errorMessage": str(error)}


def both(handlers, inbox, context, python: str, javascript: str, event: object, channel=None):
    """What each twin returned, and what each sent on `channel` (the newest message)."""
    py = invoke_py(handlers, python, event, context)
    py_sent = [r.json for r in inbox.requests(channel=channel)] if channel else []
    js = invoke_js(javascript, event, inbox.url)
    js_sent = [r.json for r in inbox.requests(channel=channel)] if channel else []
    # Newest first: the JavaScript twin's message, then the Python one's.
    return py, js, (py_sent[0] if py_sent else None), (js_sent[0] if js_sent else None)


PAYLOADS = {
    "the start event": START,
    "a branch given": {**START, "branch": "hotfix/<b>urgent</b>"},
    "no title": {"issue": {"id": "ISSUE-8"}, "repository": "acme/webshop"},
    "no issue": {"repository": "acme/webshop"},
    "an odd title": {"issue": {"id": "ISSUE-9", "title": "  --Ünïcode & a very, very long one!!"}},
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
@pytest.mark.parametrize(
    ("python", "javascript", "channel"),
    [("create_code", "createCode", "code"), ("create_branch", "createBranch", "git")],
)
def test_the_first_steps_add_and_send_what_their_python_twins_do(
    handlers, inbox, context, python, javascript, channel, payload
):
    py, js, py_sent, js_sent = both(handlers, inbox, context, python, javascript, payload, channel)
    assert js == py
    assert js_sent == py_sent is not None


def approved_payload(handlers, context, **changes) -> dict:
    payload = handlers.create_code.lambda_handler(copy.deepcopy({**START, **changes}), context)
    payload = handlers.create_branch.lambda_handler(payload, context)
    return {**payload, "review": {"approved": True, "summary": "Approved by bob"}}


def test_merge_release_and_ops_match_their_python_twins(handlers, inbox, context):
    payload = approved_payload(handlers, context)
    for python, javascript, channel in [
        ("merge_to_master", "mergeToMaster", "git"),
        ("create_release", "createRelease", "releases"),
        ("notify_ops", "notifyOps", "ops"),
    ]:
        py, js, py_sent, js_sent = both(
            handlers, inbox, context, python, javascript, payload, channel
        )
        if python == "notify_ops":  # the inbox's receipt: each twin's own message
            assert js["result"]["opsNotified"].pop("inboxId") > py["result"]["opsNotified"].pop(
                "inboxId"
            )
        assert js == py, python
        assert js_sent == py_sent is not None, python
        payload = py["result"]


@pytest.mark.parametrize(
    ("python", "javascript"),
    [("merge_to_master", "mergeToMaster"), ("notify_ops", "notifyOps")],
)
def test_a_step_missing_what_an_earlier_one_adds_fails_in_the_same_words(
    handlers, inbox, context, python, javascript
):
    py, js, _, _ = both(handlers, inbox, context, python, javascript, START)
    assert js["errorMessage"] == py["errorMessage"] and "adds it" in js["errorMessage"]
    assert inbox.requests() == []  # neither told the inbox anything


@pytest.mark.parametrize(
    "approval_url", ["", "http://127.0.0.1:4566/restapis/abc/links/_user_request_/review"]
)
def test_the_reviewers_message_says_what_the_python_one_does(
    handlers, inbox, context, monkeypatch, approval_url
):
    monkeypatch.setattr(handlers.notify_reviewers, "APPROVAL_URL", approval_url)
    monkeypatch.setenv("APPROVAL_URL", approval_url)  # the JavaScript twin's environment
    event = {
        "taskToken": "AAAA+token/with=signs&more 'quoted'",
        "executionName": "solve-1",
        "executionArn": "arn:aws:states:us-east-1:000000000000:execution:SolveIssue:solve-1",
        "reviewer": "bob",
        "input": approved_payload(handlers, context),
    }
    py, js, py_sent, js_sent = both(
        handlers, inbox, context, "notify_reviewers", "notifyReviewers", event, "reviewers"
    )
    assert js == py == {"result": event}
    # The same message, what to run to the character; links differ only in which
    # characters are escaped: the same values either way.
    for key in ("toApprove", "toReject"):
        assert js_sent[key] == py_sent[key]
        payload = js_sent[key]["awslocal"].split("--payload ", 1)[1].split(" .sfnlab/")[0]
        assert json.loads(shell_words(payload))["token"] == event["taskToken"]
    for message in (py_sent, js_sent):
        for decision, link in message.get("links", {}).items():
            message["links"][decision] = parsed_link(link)
    assert js_sent == py_sent
    assert ("links" in js_sent) is bool(approval_url)


def shell_words(text: str) -> str:
    [word] = shlex.split(text)
    return word


def parsed_link(link: str) -> tuple[str, dict]:
    address, query = link.split("?", 1)
    return address, parse_qs(query)


@pytest.mark.parametrize(
    "event",
    [
        {"approve": True},
        {"token": "<paste the taskToken from the reviewers' notification here>", "approve": True},
        {"token": "1234abcd", "approve": True},
        {"token": TOKEN},
        {"token": TOKEN, "approve": "yes"},
        {"token": TOKEN, "approve": False, "comment": "x" * 262144},
    ],
    ids=["no token", "placeholder", "cut short", "no decision", "approve: yes", "too long"],
)
def test_the_approve_lambda_refuses_what_its_python_twin_refuses(handlers, inbox, context, event):
    py = invoke_py(handlers, "approve_step_with_token", event, context)
    js = invoke_js("approveStepWithToken", event, inbox.url)
    assert js["errorType"] == py["errorType"]
    if js["errorType"] in ("TokenMissing", "DecisionMissing", "CommentTooLong"):
        assert js["errorMessage"] == py["errorMessage"]
