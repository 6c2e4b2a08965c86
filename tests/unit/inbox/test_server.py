"""The inbox stores whatever is POSTed or PUT, and hands it back through its JSON API."""

from __future__ import annotations

import errno
import json
import socket
import threading

import pytest
import requests

from sfnlab.inbox import InboxClient
from sfnlab.inbox.server import InboxServer
from sfnlab.inbox.store import RequestStore
from sfnlab.testing.servers import inbox_server


@pytest.fixture
def inbox(tmp_path):
    with inbox_server(tmp_path / "inbox.sqlite3", max_body=1024) as url:
        yield InboxClient(url)


def test_a_post_is_stored_with_everything_about_it(inbox):
    response = requests.post(
        f"{inbox.url}/reviewers/extra?ticket=7",
        json={"branch": "feature/x", "taskToken": "t"},
        headers={"X-Trace": "abc"},
    )
    assert response.status_code == 200
    (stored,) = inbox.requests()
    assert response.json() == {
        "id": stored.id,
        "channel": "reviewers",
        "receivedAt": stored.received_at,
    }
    assert (stored.method, stored.path, stored.channel) == ("POST", "/reviewers/extra", "reviewers")
    assert stored.query == {"ticket": ["7"]}
    assert stored.headers["X-Trace"] == "abc"
    assert stored.json == {"branch": "feature/x", "taskToken": "t"}


def test_a_put_with_a_body_that_is_not_json_is_stored_as_text(inbox):
    requests.put(f"{inbox.url}/ops", data="deploy it, please")
    (stored,) = inbox.requests(channel="ops")
    assert stored.method == "PUT" and stored.body == "deploy it, please" and stored.json is None


def test_requests_come_newest_first_and_filter_by_channel_path_and_since(inbox):
    for channel in ("git", "reviewers", "git", "ops"):
        requests.post(f"{inbox.url}/{channel}", json={"channel": channel})
    ids = [request.id for request in inbox.requests()]
    assert ids == sorted(ids, reverse=True)
    assert [r.channel for r in inbox.requests(channel="git")] == ["git", "git"]
    assert [r.path for r in inbox.requests(path="/ops")] == ["/ops"]
    assert len(inbox.requests(since=ids[2])) == 2


def test_clearing_one_channel_leaves_the_others(inbox):
    requests.post(f"{inbox.url}/git", json={})
    requests.post(f"{inbox.url}/ops", json={})
    assert inbox.clear(channel="git") == 1
    assert [r.channel for r in inbox.requests()] == ["ops"]
    assert inbox.clear() == 1
    assert inbox.requests() == []


def test_a_body_over_the_limit_gets_413_and_is_not_stored(inbox):
    response = requests.post(f"{inbox.url}/ops", data=b"x" * 2048)
    assert response.status_code == 413
    assert "over the limit" in response.json()["error"]
    assert inbox.requests() == []


def test_the_api_paths_are_not_captured(inbox):
    assert requests.post(f"{inbox.url}/api/requests", json={}).status_code == 405
    assert inbox.requests() == []


def test_one_request_by_id_and_unknown_ones(inbox):
    stored_id = requests.post(f"{inbox.url}/git", json={"a": 1}).json()["id"]
    one = requests.get(f"{inbox.url}/api/requests/{stored_id}").json()
    assert one["json"] == {"a": 1}
    assert requests.get(f"{inbox.url}/api/requests/999").status_code == 404
    assert requests.get(f"{inbox.url}/api/requests?since=abc").status_code == 400


def test_requests_outlive_the_server(tmp_path):
    database = tmp_path / "inbox.sqlite3"
    with inbox_server(database) as url:
        requests.post(f"{url}/reviewers", json={"taskToken": "keep me"})
    with inbox_server(database) as url:
        (kept,) = InboxClient(url).requests()
    assert kept.json == {"taskToken": "keep me"}


def test_page_escapes_what_it_shows_and_offers_the_token(inbox):
    branch = "<script>alert('x')</script>"
    requests.post(f"{inbox.url}/reviewers", json={"branch": branch, "taskToken": 'to"ken'})
    page = requests.get(f"{inbox.url}/")
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page.text
    assert 'value="to&quot;ken"' in page.text and "Copy token" in page.text
    assert "script-src 'nonce-" in page.headers["Content-Security-Policy"]


def test_page_fragment_and_health_drive_the_live_update(inbox):
    health = requests.get(f"{inbox.url}/api/health").json()
    assert health == {"status": "ok", "latest": 0, "marks": 0, "marksCheckedAt": None}
    requests.post(f"{inbox.url}/ops", data=json.dumps({"release": "r1"}))
    assert requests.get(f"{inbox.url}/api/health").json()["latest"] == 1
    fragment = requests.get(f"{inbox.url}/fragment?channel=ops").text
    assert 'id="request-1"' in fragment and "<html" not in fragment


def test_a_port_taken_already_is_an_address_in_use_error_and_leaves_no_threads(tmp_path):
    holder = socket.create_server(("127.0.0.1", 0))
    before = threading.active_count()
    try:
        with pytest.raises(OSError) as raised:
            InboxServer(holder.getsockname(), RequestStore(tmp_path / "inbox.sqlite3"))
        assert raised.value.errno == errno.EADDRINUSE
        assert threading.active_count() == before  # the pool's threads ended with it
    finally:
        holder.close()
