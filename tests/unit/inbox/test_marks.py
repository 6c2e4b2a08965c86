"""The review marks the kit posts: kept with their requests, shown escaped on the page,
and refused when malformed."""

from __future__ import annotations

import json

import pytest
import requests

from sfnlab.inbox import InboxClient
from sfnlab.testing.servers import inbox_server


@pytest.fixture
def inbox(tmp_path):
    with inbox_server(tmp_path / "inbox.sqlite3") as url:
        yield InboxClient(url)


def notify(inbox: InboxClient, token: str, branch: str = "feature/x") -> int:
    body = {"subject": f"Please review branch {branch}", "taskToken": token}
    return requests.post(f"{inbox.url}/reviewers", json=body, timeout=5).json()["id"]


def mark_of(page: str, request: int) -> str:
    """The `data-mark` of the request's article on the page."""
    start = page.index(f'id="request-{request}"')
    attribute = page.index('data-mark="', start) + len('data-mark="')
    return page[attribute : page.index('"', attribute)]


def test_each_review_shows_its_mark_and_an_unchecked_one_says_so(inbox):
    waiting, decided, spent, unchecked = (notify(inbox, f"token-{n}") for n in range(4))
    changed = inbox.post_marks(
        [
            {"request": waiting, "mark": "waiting", "detail": "it can still approve or reject"},
            {"request": decided, "mark": "decided", "detail": "Approved by bob: fine"},
            {"request": spent, "mark": "spent", "detail": "the execution stopped"},
        ]
    )
    assert changed == 3
    page = requests.get(f"{inbox.url}/", timeout=5).text
    assert [mark_of(page, n) for n in (waiting, decided, spent, unchecked)] == [
        "waiting",
        "decided",
        "spent",
        "unchecked",
    ]
    assert "this token can still approve or reject" in page
    assert "Approved by bob: fine" in page and "not checked yet" in page
    fragment = requests.get(f"{inbox.url}/fragment?channel=reviewers", timeout=5).text
    assert mark_of(fragment, decided) == "decided"


def test_a_request_without_a_token_gets_no_mark(inbox):
    ops = requests.post(f"{inbox.url}/ops", json={"release": "r1"}, timeout=5).json()["id"]
    assert mark_of(requests.get(f"{inbox.url}/", timeout=5).text, ops) == ""


def test_what_a_reviewer_typed_is_shown_as_text(inbox):
    request = notify(inbox, "token-1")
    comment = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    inbox.post_marks([{"request": request, "mark": "decided", "detail": f"Rejected: {comment}"}])
    page = requests.get(f"{inbox.url}/", timeout=5).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&lt;img src=x" in page


def test_the_version_grows_only_when_a_mark_changes_and_health_says_when_checked(inbox):
    request = notify(inbox, "token-1")
    health = requests.get(f"{inbox.url}/api/health", timeout=5).json()
    assert (health["marks"], health["marksCheckedAt"]) == (0, None)
    waiting = {"request": request, "mark": "waiting", "detail": ""}
    assert inbox.post_marks([waiting]) == 1
    assert inbox.post_marks([waiting]) == 0  # the same again: nothing changed
    assert inbox.post_marks([]) == 0  # the kit still checks
    health = requests.get(f"{inbox.url}/api/health", timeout=5).json()
    assert health["marks"] == 1 and health["marksCheckedAt"].endswith("+00:00")
    assert inbox.post_marks([{**waiting, "mark": "expired"}]) == 1
    assert requests.get(f"{inbox.url}/api/health", timeout=5).json()["marks"] == 2


def test_marks_of_requests_that_do_not_exist_are_not_kept(inbox):
    assert inbox.post_marks([{"request": 999, "mark": "waiting", "detail": ""}]) == 0
    assert requests.get(f"{inbox.url}/api/health", timeout=5).json()["marks"] == 0


def test_clearing_the_requests_never_takes_the_version_back(inbox):
    inbox.post_marks([{"request": notify(inbox, "t-1"), "mark": "waiting", "detail": ""}])
    inbox.clear()
    request = notify(inbox, "t-2")
    assert mark_of(requests.get(f"{inbox.url}/", timeout=5).text, request) == "unchecked"
    inbox.post_marks([{"request": request, "mark": "spent", "detail": ""}])
    assert requests.get(f"{inbox.url}/api/health", timeout=5).json()["marks"] == 2


def test_marks_outlive_the_inbox(tmp_path):
    database = tmp_path / "inbox.sqlite3"
    with inbox_server(database) as url:
        request = notify(InboxClient(url), "keep")
        InboxClient(url).post_marks([{"request": request, "mark": "expired", "detail": "late"}])
    with inbox_server(database) as url:
        assert mark_of(requests.get(f"{url}/", timeout=5).text, request) == "expired"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"marks": "waiting"}',
        b"[1, 2]",
        json.dumps({"marks": [{"request": 1, "mark": "approved"}]}).encode(),
        json.dumps({"marks": [{"request": True, "mark": "waiting"}]}).encode(),
        json.dumps({"marks": [{"request": -1, "mark": "waiting"}]}).encode(),
        json.dumps({"marks": [{"request": "1", "mark": "waiting"}]}).encode(),
        json.dumps({"marks": [{"request": 2**63, "mark": "waiting"}]}).encode(),
        json.dumps({"marks": [{"request": 1, "mark": "waiting", "detail": 5}]}).encode(),
        json.dumps({"marks": ["waiting"]}).encode(),
        json.dumps({"marks": [{"request": 1, "mark": "spent"}] * 1001}).encode(),
    ],
)
def test_malformed_marks_are_refused_and_change_nothing(inbox, body):
    request = notify(inbox, "token-1")
    inbox.post_marks([{"request": request, "mark": "waiting", "detail": ""}])
    answer = requests.post(
        f"{inbox.url}/api/marks",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert answer.status_code == 400 and answer.json()["error"]
    assert mark_of(requests.get(f"{inbox.url}/", timeout=5).text, request) == "waiting"
    assert [r.id for r in inbox.requests()] == [request]  # and nothing was captured


def test_a_long_detail_is_cut_and_another_sites_page_may_not_post_marks(inbox):
    request = notify(inbox, "token-1")
    inbox.post_marks([{"request": request, "mark": "decided", "detail": "x" * 5000}])
    page = requests.get(f"{inbox.url}/", timeout=5).text
    assert "x" * 299 + "…" in page and "x" * 301 not in page
    forged = requests.post(
        f"{inbox.url}/api/marks",
        json={"marks": [{"request": request, "mark": "waiting"}]},
        headers={"Origin": "http://evil.example"},
        timeout=5,
    )
    assert forged.status_code == 403
    assert mark_of(requests.get(f"{inbox.url}/", timeout=5).text, request) == "decided"
