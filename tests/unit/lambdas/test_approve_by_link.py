"""The approval page's own logic, without AWS: what a request may do, what a page shows.

(With API Gateway and Step Functions: tests/integration/exercise/test_approval_link.py and
tests/browser/test_approve_by_link.py.)
"""

from __future__ import annotations

import base64
import importlib
import sys
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from sfnlab.settings import PROJECT_ROOT

TOKEN = "AAAAKgAAAAIAAAAAAAAAAQ-token-of-a-review"
EXECUTION = "arn:aws:states:us-east-1:000000000000:execution:SolveIssue:solve-1"
HOSTILE = '<script>alert("x")</script>&<b>'


@pytest.fixture
def page_module(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "lambdas"))
    for name in ("approve_by_link", "approve_step_with_token", "token_refusals"):
        sys.modules.pop(name, None)
    module = importlib.import_module("approve_by_link")
    yield module
    for name in ("approve_by_link", "approve_step_with_token", "token_refusals"):
        sys.modules.pop(name, None)


def link(decision="approve", **more):
    return {"decision": decision, "execution": EXECUTION, "token": TOKEN, **more}


CONTEXT = SimpleNamespace(aws_request_id="request-1")


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"])
def test_methods_other_than_get_and_post_touch_nothing(page_module, method, monkeypatch):
    monkeypatch.setattr(page_module, "stepfunctions", None)  # any call would fail
    answer = page_module.lambda_handler(
        {"httpMethod": method, "queryStringParameters": link()}, CONTEXT
    )
    assert answer["statusCode"] in (200, 204, 405)
    if method in ("HEAD", "OPTIONS"):
        assert answer["body"] == ""
    if method != "HEAD":
        assert answer["headers"]["Allow"] == "GET, HEAD, POST, OPTIONS"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        link(decision="maybe"),
        link(execution="solve-1"),
        link(token="short"),
        {"decision": "approve", "execution": EXECUTION},
    ],
)
def test_a_link_without_its_three_parts_is_refused_before_anything_is_asked(
    page_module, fields, monkeypatch
):
    monkeypatch.setattr(page_module, "stepfunctions", None)
    for event in (
        {"httpMethod": "GET", "queryStringParameters": fields},
        {"httpMethod": "POST", "body": urlencode(fields)},
    ):
        answer = page_module.lambda_handler(event, CONTEXT)
        assert answer["statusCode"] == 400 and "This link is incomplete" in answer["body"]


def test_the_form_is_read_whether_or_not_api_gateway_encoded_it(page_module):
    body = urlencode(link(reviewer="ana", comment="fine & good"))
    plain = page_module.form_fields({"body": body})
    encoded = page_module.form_fields(
        {"body": base64.b64encode(body.encode()).decode(), "isBase64Encoded": True}
    )
    assert plain == encoded == link(reviewer="ana", comment="fine & good")


def test_the_confirmation_page_escapes_what_it_shows_and_asks_once(page_module):
    review = {
        "name": "solve-1",
        "refused": None,
        "branch": f"feature/{HOSTILE}",
        "issue": {"id": "ISSUE-1", "title": HOSTILE},
    }
    page = page_module.confirmation_page(link(), review)
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;b&gt;" in page
    assert page.count("<form") == 1 and page.count("<button") == 1
    assert 'method="post"' in page and 'action="?"' in page
    assert "Whoever holds this link can decide this review" in page


def test_a_refused_review_gets_no_button(page_module):
    review = {
        "name": "solve-1",
        "refused": page_module.token_refusals.stopped("solve-1"),
        "branch": "b",
        "issue": None,
    }
    page = page_module.confirmation_page(link("reject"), review)
    assert "<form" not in page and "<button" not in page
    assert "was stopped (ABORTED)" in page


def test_pages_are_not_cached_nor_sent_on_as_a_referer(page_module):
    headers = page_module.HEADERS
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "script-src" not in headers["Content-Security-Policy"]  # default-src 'none'


def test_the_log_line_names_no_token(page_module, capsys, monkeypatch):
    monkeypatch.setattr(page_module, "stepfunctions", None)
    page_module.lambda_handler({"httpMethod": "HEAD", "queryStringParameters": link()}, CONTEXT)
    logged = capsys.readouterr().out
    assert "HEAD" in logged and TOKEN not in logged and EXECUTION not in logged


def test_the_tasks_of_a_history_are_told_apart(page_module):
    """Two reviewers (a Parallel state): one task closed, the other still waits."""
    parameters = '{"Payload": {"taskToken": "%s", "input": {"branch": "b", "issue": "I-1"}}}'
    events = [
        {
            "id": 1,
            "type": "TaskScheduled",
            "taskScheduledEventDetails": {"parameters": parameters % "t-ana"},
        },
        {
            "id": 2,
            "type": "TaskScheduled",
            "taskScheduledEventDetails": {"parameters": parameters % TOKEN},
        },
        {"id": 3, "type": "TaskStarted", "previousEventId": 1},
        {"id": 4, "type": "TaskStarted", "previousEventId": 2},
        {"id": 5, "type": "TaskSucceeded", "previousEventId": 4},
    ]
    mine = page_module.what_is_reviewed(events, TOKEN)
    assert mine == {
        "scheduled": 2,
        "closed": True,
        "others_waiting": True,
        "branch": "b",
        "issue": "I-1",
    }
    anas = page_module.what_is_reviewed(events, "t-ana")
    assert (anas["closed"], anas["others_waiting"]) == (False, False)
    assert page_module.what_is_reviewed(events, "not-a-token-of-it") == {"scheduled": None}
