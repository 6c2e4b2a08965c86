"""The inbox trusts nothing it is sent: each bad request goes to a real server as raw bytes,
and afterwards the server still answers and has lost nothing it had stored."""

from __future__ import annotations

import html
import random
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest

from sfnlab.inbox.store import MAX_LIMIT
from sfnlab.testing.waiting import wait_for
from tests.unit.inbox.raw_http import exchange, parse, request, running_inbox

MAX_BODY = 1024


@pytest.fixture
def inbox(tmp_path):
    with running_inbox(
        tmp_path / "inbox.sqlite3", max_body=MAX_BODY, idle_timeout=0.5, allowed_hosts=["inbox"]
    ) as running:
        # What must survive every test: two requests stored before it.
        for n in range(2):
            answer = running.send(
                request("POST", f"/reviewers/{n}", running.host, body=b'{"taskToken": "keep"}')
            )
            assert answer.status == 200
        before = running.store.list()
        yield running
        assert running.errors == [], "the server raised while answering"
        assert [running.store.get(stored.id) for stored in before] == before


def post(inbox, headers: dict[str, str], body: bytes, path: str = "/ops", **options):
    return inbox.send(request("POST", path, inbox.host, headers, body, **options))


def stored_on(inbox, channel: str = "ops") -> list:
    return inbox.store.list(channel=channel)


# Content-Length ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "status"),
    [
        ("-1", 400),  # read "until the end": around the cap
        ("-0", 400),
        ("+5", 400),
        ("1_0", 400),  # Python's int() takes this
        ("0x10", 400),
        ("5 5", 400),
        ("five", 400),
        ("", 400),
        ("2048", 413),
        ("99999999999999999999999999999999999999999", 413),
    ],
)
def test_a_content_length_that_is_not_a_plain_number_under_the_cap_is_refused(
    inbox, length, status
):
    body = b"x" * (100 * 1024)  # well over the cap, whatever the header claims
    answer = post(inbox, {"Content-Length": length}, body)
    assert answer.status == status
    assert "error" in answer.json()
    assert stored_on(inbox) == []


def test_two_different_content_lengths_are_refused(inbox):
    data = (
        f"POST /ops HTTP/1.1\r\nHost: {inbox.host}\r\nContent-Length: 3\r\n"
        "Content-Length: 5\r\n\r\nhello"
    ).encode()
    assert inbox.send(data).status == 400
    assert stored_on(inbox) == []


def test_a_transfer_encoding_is_refused_with_or_without_a_content_length(inbox):
    chunked = b"5\r\nhello\r\n0\r\n\r\n"
    alone = post(inbox, {"Transfer-Encoding": "chunked"}, chunked, add_length=False)
    assert alone.status == 411 and "Content-Length" in alone.json()["error"]
    both = post(inbox, {"Transfer-Encoding": "chunked", "Content-Length": "5"}, chunked)
    assert both.status == 400
    assert stored_on(inbox) == []


def test_a_body_without_a_content_length_is_refused(inbox):
    data = f"POST /ops HTTP/1.1\r\nHost: {inbox.host}\r\n\r\n".encode() + b'{"sneaked": "in"}'
    answer = inbox.send(data)
    assert answer.status == 400 and "needs a Content-Length" in answer.json()["error"]
    assert stored_on(inbox) == []


def test_a_post_without_a_body_or_a_content_length_is_stored_empty(inbox):
    data = f"POST /ops HTTP/1.1\r\nHost: {inbox.host}\r\n\r\n".encode()
    assert inbox.send(data, shut_write=True).status == 200
    (stored,) = stored_on(inbox)
    assert stored.body == ""


def test_a_body_shorter_than_its_content_length_is_refused(inbox):
    answer = post(inbox, {"Content-Length": "10"}, b"short")
    # The client stops sending; the server waits no longer than its idle timeout.
    assert answer.status in (400, 408)
    assert stored_on(inbox) == []


def test_a_client_still_sending_a_refused_body_reads_the_refusal(inbox):
    # As a Lambda sends it: headers, then a body of 2 MiB it is still writing when the
    # inbox has decided. Closing on it unread would reset the connection instead.
    for _ in range(5):
        refused = urllib.request.Request(f"{inbox.url}/ops", data=b"z" * 2**21, method="POST")
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(refused, timeout=5)
        assert answer.value.code == 413
    assert stored_on(inbox) == []


def test_a_body_exactly_at_the_cap_is_stored(inbox):
    assert post(inbox, {}, b"y" * MAX_BODY).status == 200
    (stored,) = stored_on(inbox)
    assert len(stored.body) == MAX_BODY


def test_a_client_that_asks_before_sending_its_body_is_answered_first(inbox):
    with socket.create_connection(("127.0.0.1", inbox.port), timeout=5) as connection:
        connection.sendall(
            request("POST", "/ops", inbox.host, {"Content-Length": "5", "Expect": "100-continue"})
        )
        assert connection.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        connection.sendall(b"hello")
        assert parse(connection.recv(65536)).status == 200
    # Over the cap, it is told so before it sends anything.
    answer = post(inbox, {"Content-Length": "4096", "Expect": "100-continue"}, b"")
    assert answer.status == 413
    assert [r.body for r in stored_on(inbox)] == ["hello"]


# limit, since, ids ---------------------------------------------------------------------


def test_limit_is_kept_to_a_sane_range(inbox):
    for n in range(MAX_LIMIT + 5):
        inbox.store.add("POST", "/many", {}, {}, str(n))
    cases = [("-1", 1), ("0", 1), ("3", 3), ("5000", MAX_LIMIT), ("1" + "0" * 40, MAX_LIMIT)]
    for limit, count in [*cases, (None, 100)]:
        query = "?channel=many" + (f"&limit={limit}" if limit is not None else "")
        answer = inbox.send(request("GET", f"/api/requests{query}", inbox.host))
        assert answer.status == 200
        assert len(answer.json()["requests"]) == count, limit


@pytest.mark.parametrize("query", ["limit=abc", "limit=1.5", "since=abc", "since=0x1"])
def test_limit_and_since_that_are_not_numbers_are_refused(inbox, query):
    answer = inbox.send(request("GET", f"/api/requests?{query}", inbox.host))
    assert answer.status == 400 and "whole number" in answer.json()["error"]


def test_ids_and_since_beyond_any_stored_are_answered_plainly(inbox):
    huge = "9" * 40
    assert inbox.send(request("GET", f"/api/requests/{huge}", inbox.host)).status == 404
    assert inbox.send(request("GET", f"/api/requests/{2**63}", inbox.host)).status == 404
    answer = inbox.send(request("GET", f"/api/requests?since={huge}", inbox.host))
    assert answer.status == 200 and answer.json() == {"requests": []}
    negative = inbox.send(request("GET", "/api/requests?since=-5", inbox.host))
    assert len(negative.json()["requests"]) == 2


def test_an_empty_channel_never_clears_everything(inbox):
    answer = inbox.send(request("DELETE", "/api/requests?channel=", inbox.host))
    assert answer.status == 400
    assert len(inbox.store.list()) == 2


# Host: DNS rebinding -------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.1:{port}", "localhost:{port}", "LocalHost", "127.5.6.7:{port}",
     "[::1]:{port}", "[0:0:0:0:0:0:0:1]", "inbox:4567"],
)  # fmt: skip
def test_loopback_and_configured_host_names_are_served(inbox, host):
    answer = inbox.send(request("GET", "/api/requests", host.format(port=inbox.port)))
    assert answer.status == 200
    assert len(answer.json()["requests"]) == 2


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example", "localhost.evil.example",
     "sub.localhost.evil.example:{port}", "2130706433", "0.0.0.0:{port}", "[::]:{port}",
     "inbox.evil.example", "10.0.0.5:{port}"],
)  # fmt: skip
def test_requests_for_any_other_host_name_are_refused(inbox, host):
    host = host.format(port=inbox.port)
    read = inbox.send(request("GET", "/api/requests", host))
    assert read.status == 421 and b"keep" not in read.body
    assert inbox.send(request("GET", "/", host)).status == 421
    cleared = inbox.send(request("DELETE", "/api/requests", host))
    assert cleared.status == 421
    written = inbox.send(request("POST", "/reviewers", host, body=b'{"taskToken": "fake"}'))
    assert written.status == 421
    assert len(inbox.store.list()) == 2


@pytest.mark.parametrize(
    "head",
    [
        "GET /api/requests HTTP/1.1\r\n",  # no Host
        "GET /api/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n",
        "GET /api/requests HTTP/1.1\r\nHost: 127.0.0.1:port\r\n",
        "GET /api/requests HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n",
        "GET /api/requests HTTP/1.1\r\nHost: user@127.0.0.1\r\n",
        "GET /api/requests HTTP/1.1\r\nHost: \r\n",
        "GET /api/requests HTTP/1.0\r\n",
        "GET /api/requests\r\n",
    ],
)
def test_a_missing_doubled_or_malformed_host_is_refused(inbox, head):
    answer = inbox.send(head.encode() + b"\r\n")
    assert answer.status == 400
    assert b"keep" not in answer.body


# Origin: cross-origin browser writes ---------------------------------------------------


FOREIGN = [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},  # a sandboxed frame, a file:// page, a redirect
    {"Origin": "http://127.0.0.1:8888"},  # another program's page on this machine
    {"Origin": "https://127.0.0.1:{port}"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Referer": "http://evil.example/form.html"},
    {"Origin": "http://127.0.0.1:{port}", "Sec-Fetch-Site": "cross-site"},
]


@pytest.mark.parametrize("headers", FOREIGN)
def test_a_browser_write_from_another_origin_is_refused(inbox, headers):
    headers = {k: v.format(port=inbox.port) for k, v in headers.items()}
    # A form POST with enctype=text/plain needs no preflight, and can carry JSON.
    form = post(inbox, {**headers, "Content-Type": "text/plain"}, b'{"taskToken": "fake", "x":"="}')
    assert form.status == 403
    put = inbox.send(request("PUT", "/reviewers", inbox.host, headers, b"{}"))
    assert put.status == 403
    cleared = inbox.send(request("DELETE", "/api/requests", inbox.host, headers))
    assert cleared.status == 403
    assert len(inbox.store.list()) == 2


def test_the_inboxs_own_page_and_programs_may_write(inbox):
    own = {"Origin": f"http://{inbox.host}", "Sec-Fetch-Site": "same-origin"}
    assert post(inbox, own, b'{"from": "the page"}').status == 200
    # What the Lambdas, curl and the kit send: no Origin, no Sec-Fetch-*.
    assert post(inbox, {"Content-Type": "application/json"}, b'{"from": "a Lambda"}').status == 200
    by_name = {"Origin": f"http://localhost:{inbox.port}"}
    answer = inbox.send(request("POST", "/ops", f"localhost:{inbox.port}", by_name, b"{}"))
    assert answer.status == 200
    assert len(stored_on(inbox)) == 3
    deleted = inbox.send(request("DELETE", "/api/requests?channel=ops", inbox.host, own))
    assert deleted.status == 200 and deleted.json() == {"deleted": 3}


def test_reads_from_another_origin_stay_unreadable_to_its_page(inbox):
    answer = inbox.send(
        request("GET", "/api/requests", inbox.host, {"Origin": "http://evil.example"})
    )
    # Answered, but without CORS headers: the browser keeps the answer from the page.
    assert answer.status == 200
    assert not any(name.startswith("access-control-") for name in answer.headers)
    assert answer.headers["cross-origin-resource-policy"] == "same-origin"


# Sockets and threads -------------------------------------------------------------------


def test_an_idle_connection_is_closed(inbox):
    with socket.create_connection(("127.0.0.1", inbox.port), timeout=5) as silent:
        started = time.monotonic()
        assert silent.recv(1024) == b""  # closed by the server, not by our timeout
        assert time.monotonic() - started < 4
    with socket.create_connection(("127.0.0.1", inbox.port), timeout=5) as slow:
        slow.sendall(request("POST", "/ops", inbox.host, {"Content-Length": "100"}, b"partial"))
        answer = parse(slow.recv(65536))
        assert answer.status == 408
    assert stored_on(inbox) == []


def test_threads_are_bounded_and_a_full_inbox_says_busy(tmp_path):
    with running_inbox(tmp_path / "inbox.sqlite3", workers=2, waiting=3, idle_timeout=2) as inbox:
        threads_before = threading.active_count()
        silent = [socket.create_connection(("127.0.0.1", inbox.port)) for _ in range(5)]
        try:
            assert wait_for(lambda: inbox.server.pool.held == 5, timeout=5)
            health = request("GET", "/api/health", inbox.host)
            busy = [exchange(inbox.port, health, timeout=5) for _ in range(20)]
            assert {answer.status for answer in busy} == {503}
            assert busy[0].json() == {"error": "the inbox is busy: try again in a moment"}
            assert busy[0].headers["retry-after"] == "1"
            assert threading.active_count() == threads_before
        finally:
            for connection in silent:
                connection.close()
        # The held connections end (closed here, or timed out): it answers again.
        assert wait_for(lambda: inbox.server.pool.held == 0, timeout=5)
        answer = inbox.send(request("POST", "/ops", inbox.host, body=b"{}"))
        assert answer.status == 200
        assert threading.active_count() == threads_before
        assert inbox.errors == []


def test_the_listen_backlog_is_sized_for_a_class(inbox):
    assert inbox.server.request_queue_size >= 512


# Fuzzing -------------------------------------------------------------------------------


def mutations(rng: random.Random, host: str):
    """Malformed requests: a valid one cut, spliced, repeated and salted at random."""
    valid = request("POST", "/fuzz", host, {"Content-Type": "application/json"}, b'{"a": 1}')
    pieces = [
        b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"\x00", b"\xff\xfe", b" ",
        b"\r\n", b"\n", b"\r\n\r\n", b"Host: evil.example", b"Content-Length: -1",
        b"Content-Length: 99999999999", b"Transfer-Encoding: chunked", b"/api/requests",
        b"/api/requests/-1", b"?limit=-1&since=x", b"HTTP/1.1", b"HTTP/9.9", b"%00%ff",
        b"Origin: null", b"X" * 70000, b"A: " + b"b" * 100, b":",
    ]  # fmt: skip
    while True:
        kind = rng.randrange(5)
        if kind == 0:
            yield valid[: rng.randrange(len(valid))]
        elif kind == 1:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        elif kind == 2:
            yield b"".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
        elif kind == 3:
            cut = rng.randrange(len(valid))
            yield valid[:cut] + rng.choice(pieces) + valid[cut:]
        else:
            yield valid.replace(b"\r\n", rng.choice([b"\n", b"\r", b"\r\n\r\n", b""]), 1)


def test_a_bounded_fuzz_of_malformed_requests_breaks_nothing(inbox):
    rng = random.Random(20261125)  # the same requests every run
    deadline = time.monotonic() + 10
    sent = 0
    for data in mutations(rng, inbox.host):
        if sent >= 2000 or time.monotonic() > deadline:
            break
        answer = inbox.send(data, shut_write=True, timeout=5)
        assert answer.status is None or 100 <= answer.status < 600
        assert answer.status != 500, data
        sent += 1
    assert sent >= 200
    health = inbox.send(request("GET", "/api/health", inbox.host))
    assert health.status == 200 and health.json()["status"] == "ok"
    # Whatever got through was stored whole (the fixture checks the rest is still there).
    for stored in inbox.store.list(limit=MAX_LIMIT):
        assert len(stored.body.encode()) <= MAX_BODY * 3  # at most 3 bytes per bad byte


# The page --------------------------------------------------------------------------------


def test_channel_links_are_url_encoded_and_lead_to_their_own_channel(inbox):
    # A channel is the first segment of any path: here one that breaks a naive link.
    weird = 'a&channel=ops"><b>x'
    assert inbox.send(request("POST", f"/{weird}/1", inbox.host, body=b"{}")).status == 200
    assert inbox.send(request("POST", "/ops", inbox.host, body=b"{}")).status == 200
    page = inbox.send(request("GET", "/", inbox.host)).body.decode()
    assert "<b>x" not in page
    nav = page[page.index("<nav>") : page.index("</nav>")]
    hrefs = [html.unescape(href) for href in re.findall(r'href="([^"]*)"', nav)]
    link = "/?channel=" + quote(weird, safe="")
    assert link in hrefs
    filtered = inbox.send(request("GET", link, inbox.host)).body.decode()
    assert filtered.count('<article class="request"') == 1
    assert 'data-channel="a&amp;channel=ops&quot;&gt;&lt;b&gt;x"' in filtered


def test_the_page_may_not_be_framed_or_loaded_by_other_sites(inbox):
    answer = inbox.send(request("GET", "/", inbox.host))
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'nonce-" in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cross-origin-resource-policy"] == "same-origin"
