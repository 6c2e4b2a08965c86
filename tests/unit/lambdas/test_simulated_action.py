"""The steps tell a passing inbox outage (worth a retry) from a failure that would repeat,
and the definitions retry exactly the first."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from sfnlab.deploy.definition import load_template
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.network import free_port
from sfnlab.testing.waiting import wait_for
from tests.unit.inbox.raw_http import running_inbox

DEFINITIONS = ["SolveIssueStepFunction.json", "TwoReviewersStepFunction.json"]


@contextmanager
def listener(answer) -> Iterator[str]:
    """A loopback socket server that hands each connection to `answer`; yields its URL."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)  # so that the thread sees `stop` soon
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                answer(connection)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        server.close()  # once its thread no longer uses it


def reset(connection: socket.socket) -> None:
    connection.recv(65536)
    # Linger 0: closing sends a reset instead of an orderly end.
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def silence(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.recv(65536)  # returns when the client gives up


def not_json(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")


def send_to(handlers, monkeypatch, url: str, timeout: float = 5.0):
    monkeypatch.setattr(handlers.simulated_action, "INBOX_URL", url)
    monkeypatch.setattr(handlers.simulated_action, "INBOX_TIMEOUT_SECONDS", timeout)
    return handlers.simulated_action.send("ops", {"release": "r1"})


def test_nothing_listening_is_transient(handlers, monkeypatch):
    with pytest.raises(handlers.simulated_action.InboxUnreachable, match="Is it running"):
        send_to(handlers, monkeypatch, f"http://127.0.0.1:{free_port()}")


def test_a_reset_connection_is_transient(handlers, monkeypatch):
    with listener(reset) as url, pytest.raises(handlers.simulated_action.InboxUnreachable):
        send_to(handlers, monkeypatch, url)


def test_an_inbox_that_does_not_answer_in_time_is_transient(handlers, monkeypatch):
    with listener(silence) as url, pytest.raises(handlers.simulated_action.InboxUnreachable):
        send_to(handlers, monkeypatch, url, timeout=0.3)


def test_a_busy_inbox_is_transient(handlers, monkeypatch, tmp_path):
    busy = running_inbox(tmp_path / "busy.sqlite3", workers=1, waiting=0, idle_timeout=5)
    with busy as inbox, socket.create_connection(("127.0.0.1", inbox.port)):
        assert wait_for(lambda: inbox.server.pool.held == 1)  # its one worker waits on us
        with pytest.raises(handlers.simulated_action.InboxUnreachable, match="HTTP 503"):
            send_to(handlers, monkeypatch, inbox.url)


def test_a_refused_message_is_permanent(handlers, monkeypatch, tmp_path):
    with running_inbox(tmp_path / "small.sqlite3", max_body=10) as inbox:
        with pytest.raises(handlers.simulated_action.ActionFailed, match="HTTP 413") as raised:
            send_to(handlers, monkeypatch, inbox.url)
        with pytest.raises(handlers.simulated_action.ActionFailed, match="HTTP 405"):
            handlers.simulated_action.send("api/requests", {})  # the inbox's own paths
    assert not isinstance(raised.value, handlers.simulated_action.InboxUnreachable)


def test_something_that_is_not_the_inbox_is_permanent(handlers, monkeypatch):
    failure = pytest.raises(handlers.simulated_action.ActionFailed, match="not the inbox")
    with listener(not_json) as url, failure as raised:
        send_to(handlers, monkeypatch, url)
    assert type(raised.value) is handlers.simulated_action.ActionFailed


@pytest.mark.parametrize(
    ("cause", "transient"),
    [
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), True),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), False),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (ConnectionAbortedError(103, "Software caused connection abort"), True),
        (TimeoutError("timed out"), True),
        (ValueError("unknown url type"), False),
    ],
)
def test_which_causes_may_pass(handlers, cause, transient):
    assert handlers.simulated_action.is_transient(cause) is transient


def test_the_reachable_inbox_still_gets_the_message(handlers, inbox):
    receipt = handlers.simulated_action.send("ops", {"release": "r1"})
    (stored,) = inbox.requests(channel="ops")
    assert receipt["id"] == stored.id and stored.json == {"release": "r1"}


def tasks(states: dict) -> Iterator[tuple[str, dict]]:
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from tasks(branch["States"])


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_every_step_retries_an_unreachable_inbox_for_over_ten_seconds(handlers, definition):
    states = load_template(PROJECT_ROOT / "definitions" / definition)["States"]
    error = handlers.simulated_action.InboxUnreachable.__name__
    checked = 0
    for name, state in tasks(states):
        retriers = state.get("Retry", [])
        assert any("Lambda.ServiceException" in r["ErrorEquals"] for r in retriers), name
        (retrier,) = [r for r in retriers if error in r["ErrorEquals"]]
        # Exactly the transient error: a message the inbox refused must fail at once.
        assert retrier["ErrorEquals"] == [error], name
        waits = [
            retrier["IntervalSeconds"] * retrier["BackoffRate"] ** n
            for n in range(retrier["MaxAttempts"])
        ]
        assert sum(waits) >= 10 and retrier["BackoffRate"] > 1, name
        assert all(r["ErrorEquals"] != ["States.ALL"] for r in retriers), name
        checked += 1
    assert checked >= 6
