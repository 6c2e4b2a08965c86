"""The relay of a solution's runs: when each may start and be decided, and whose message
is whose while they overlap."""

from __future__ import annotations

import threading
import time

import pytest

from sfnlab.grading.mailbox import Mailbox, Message, within
from sfnlab.grading.relay import UP_TO_REVIEW, Abandoned, Relay
from sfnlab.grading.scenarios import OutOfTime

APPROVE, REJECT, OWN = 0, 1, 2


class Arrivals(Mailbox):
    """Messages numbered as they arrive, as the grader's mailbox numbers them."""

    def __init__(self) -> None:
        self.arrived: list[Message] = []

    def send(self, key: str) -> int:
        self.arrived.append(Message(len(self.arrived) + 1, key, "{}"))
        return len(self.arrived)

    def mark(self) -> int:
        return len(self.arrived)

    def messages(self, key: str, since: int = 0, until: int | None = None) -> list[Message]:
        return [m for m in self.arrived if m.channel == key and within(m.sequence, since, until)]


def relay_of(mailbox: Mailbox | None = None, seconds: float = 30.0) -> Relay:
    deadline = time.monotonic() + seconds

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise OutOfTime
        return left

    return Relay(mailbox or Arrivals(), 3, remaining, threading.Event())


def in_thread(call) -> tuple[threading.Thread, threading.Event, list[BaseException]]:
    done, errors = threading.Event(), []

    def run() -> None:
        try:
            call()
        except BaseException as e:
            errors.append(e)
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done, errors


def test_the_steps_up_to_the_review_are_create_code_create_branch_and_notify_reviewers():
    assert sorted(UP_TO_REVIEW) == ["CreateBranch", "CreateCode", "NotifyReviewers"]


def test_a_run_starts_only_once_the_one_before_waits_at_its_review():
    relay = relay_of()
    relay.start(APPROVE)
    _, started, _ = in_thread(lambda: relay.start(REJECT))
    assert not started.wait(0.3)
    relay.at_review(APPROVE, decidable=True)
    assert started.wait(5)


def test_a_run_is_decided_only_once_the_one_before_has_ended():
    relay = relay_of()
    relay.start(APPROVE)
    relay.at_review(APPROVE, decidable=True)
    relay.start(REJECT)
    relay.at_review(REJECT, decidable=True)
    _, decided, _ = in_thread(lambda: relay.decide(REJECT))
    assert not decided.wait(0.3)
    relay.end(APPROVE)
    assert decided.wait(5)


def test_a_run_with_nothing_to_decide_ends_its_turn_before_the_next_may_start():
    mailbox = Arrivals()
    relay = relay_of(mailbox)
    relay.start(APPROVE)
    mailbox.send("NotifyReviewers")
    relay.at_review(APPROVE, decidable=False)  # no token: nobody will let it go on
    assert relay.legs[APPROVE].done.is_set()
    relay.start(REJECT)
    assert relay.legs[APPROVE].ended == relay.legs[REJECT].started == 1


def test_while_runs_overlap_each_message_counts_for_the_run_that_sent_it():
    """A correct solution's three runs, in the order the relay lets them happen: the
    reject run's early steps while the approve run merges, the steps' own run while the
    reject run fails; and a wrong solution's merge on rejection."""
    mailbox = Arrivals()
    relay = relay_of(mailbox)
    sent: dict[tuple[int, str], list[int]] = {}

    def send(run: int, key: str) -> None:
        sent.setdefault((run, key), []).append(mailbox.send(key))

    relay.start(APPROVE)
    send(APPROVE, "CreateBranch")
    send(APPROVE, "NotifyReviewers")
    relay.at_review(APPROVE, decidable=True)
    relay.start(REJECT)
    relay.decide(APPROVE)
    send(APPROVE, "MergeToMaster")
    send(REJECT, "CreateBranch")
    send(APPROVE, "NotifyOps")
    send(REJECT, "NotifyReviewers")
    relay.end(APPROVE)
    relay.at_review(REJECT, decidable=True)
    relay.start(OWN)
    send(OWN, "CreateBranch")
    relay.decide(REJECT)
    send(REJECT, "MergeToMaster")  # the wrong solution merges a rejected branch
    send(OWN, "NotifyReviewers")
    relay.end(REJECT)
    relay.at_review(OWN, decidable=True)
    relay.decide(OWN)
    send(OWN, "MergeToMaster")
    send(OWN, "NotifyOps")
    relay.end(OWN)

    keys = ["CreateBranch", "NotifyReviewers", "MergeToMaster", "NotifyOps"]
    for run in (APPROVE, REJECT, OWN):
        for key in keys:
            since, until = relay.window(run, key)
            got = [m.sequence for m in mailbox.messages(key, since, until)]
            assert got == sent.get((run, key), []), (run, key)


def test_a_run_that_fails_stops_the_runs_waiting_for_their_turn():
    relay = relay_of()
    relay.start(APPROVE)
    _, stopped, errors = in_thread(lambda: relay.start(REJECT))
    relay.give_up(APPROVE)
    assert stopped.wait(5)
    assert len(errors) == 1 and isinstance(errors[0], Abandoned)
    assert relay.abandoned.is_set()


def test_waiting_for_a_turn_is_bounded_by_the_solutions_time():
    relay = relay_of(seconds=0.3)
    relay.start(APPROVE)
    with pytest.raises(OutOfTime):
        relay.start(REJECT)  # the approve run never reaches its review
