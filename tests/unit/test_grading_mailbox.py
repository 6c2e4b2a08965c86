"""The grader's mailbox: a wait ends when the step it waits for reports, and only then."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from sfnlab.grading.mailbox import CapturedMailbox, CaptureServer


@pytest.fixture
def server() -> Iterator[CaptureServer]:
    server = CaptureServer()
    yield server
    server.close()


def post_later(url: str, body: bytes = b'{"ok": true}', after: float = 0.2) -> threading.Thread:
    def post() -> None:
        time.sleep(after)
        urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST")).read()

    thread = threading.Thread(target=post)
    thread.start()
    return thread


def test_a_wait_ends_as_soon_as_its_step_sends_a_message(server):
    mailbox = server.mailbox()
    since = mailbox.mark()
    poster = post_later(mailbox.address("NotifyReviewers") + "/reviewers")
    started = time.monotonic()
    newest = mailbox.wait("NotifyReviewers", since, timeout=30)
    poster.join()
    assert time.monotonic() - started < 10  # not the 30 s timeout
    [message] = mailbox.messages("NotifyReviewers", since=since)
    assert newest == message.sequence > since and message.channel == "reviewers"


def test_a_message_to_another_step_or_solution_does_not_end_the_wait(server):
    mailbox, classmate = server.mailbox(), server.mailbox()
    mailbox.address("NotifyReviewers")
    since = mailbox.mark()
    posters = [
        post_later(mailbox.address("CreateBranch") + "/git", after=0),
        post_later(classmate.address("NotifyReviewers") + "/reviewers", after=0),
    ]
    for poster in posters:
        poster.join()
    assert mailbox.wait("NotifyReviewers", since, timeout=0.3) == since
    assert mailbox.messages("NotifyReviewers", since=since) == []


def test_a_message_that_came_before_the_wait_ends_it_at_once(server):
    mailbox = server.mailbox()
    since = mailbox.mark()
    post_later(mailbox.address("NotifyOps") + "/ops", after=0).join()
    started = time.monotonic()
    assert mailbox.wait("NotifyOps", since, timeout=30) > since
    assert time.monotonic() - started < 10


def test_a_step_without_an_address_is_waited_for_by_sleeping(server):
    mailbox: CapturedMailbox = server.mailbox()
    assert mailbox.wait("NotifyOps", 7, timeout=0.05) == 7


def test_messages_are_read_between_two_marks(server):
    """A run's messages are those after its first mark and up to its last (relay.py)."""
    mailbox = server.mailbox()
    address = mailbox.address("MergeToMaster") + "/git"
    before = mailbox.mark()
    post_later(address, b'{"n": 1}', after=0).join()
    between = mailbox.mark()
    post_later(address, b'{"n": 2}', after=0).join()
    after = mailbox.mark()
    post_later(address, b'{"n": 3}', after=0).join()

    def read(since: int, until: int | None) -> list:
        return [m.json["n"] for m in mailbox.messages("MergeToMaster", since, until)]

    assert read(before, between) == [1]
    assert read(between, after) == [2]
    assert read(before, after) == [1, 2]
    assert read(after, None) == [3]
