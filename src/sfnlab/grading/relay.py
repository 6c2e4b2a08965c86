"""A solution's three runs, overlapped, with every message still counted for its own run.

The runs share the solution's Lambdas, so their messages arrive at the same addresses:
which run sent a message is told by when it arrived. Run after run, like a relay:

- a run starts once the one before it waits at its review (or has ended), so its steps
  up to the review run while the one before goes on past its own;
- a run is decided (let past its review) only once the one before it has ended.

So at any time at most one run is at the steps up to the review, and at most one past
it. A message to one of the steps up to the review (Create Code, Create Branch, Notify
Reviewers) belongs to the run that had started last when it came; a message to a later
step, or from the approve Lambda, to the run that had been decided last. A run with
nothing to decide (no token, or ended) ends its turn before the next one may start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sfnlab.exercise import STEPS
from sfnlab.grading.mailbox import Mailbox

_REVIEW = next(number for number, step in enumerate(STEPS) if step.key == "NotifyReviewers")
UP_TO_REVIEW = frozenset(step.key for step in STEPS[: _REVIEW + 1])
GATE_LOOK = 0.5  # seconds between looks at the solution's clock while a run waits its turn


class Abandoned(Exception):
    """Another run of the same solution failed: this one stops as well."""


@dataclass
class Leg:
    """One run's place in the relay: mailbox marks of its start and end, and its signals."""

    started: int | None = None
    ended: int | None = None
    at_review: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class Relay:
    def __init__(
        self,
        mailbox: Mailbox,
        runs: int,
        remaining: Callable[[], float],
        abandoned: threading.Event,
    ) -> None:
        """`remaining()`: the seconds the solution has left (raises once there are none);
        `abandoned`: set once a run fails, for every wait of the solution to see."""
        self._mailbox = mailbox
        self._remaining = remaining
        self.legs = [Leg() for _ in range(runs)]
        self.abandoned = abandoned

    def start(self, number: int) -> None:
        """Wait until run `number` may start, and mark when it does."""
        if number:
            self._wait(self.legs[number - 1].at_review)
        self.legs[number].started = self._mailbox.mark()

    def at_review(self, number: int, decidable: bool) -> None:
        """Run `number` waits at its review (or never will): the next may start."""
        if not decidable:
            self.end(number)
        self.legs[number].at_review.set()

    def decide(self, number: int) -> None:
        """Wait until run `number` may be let past its review."""
        if number:
            self._wait(self.legs[number - 1].done)

    def end(self, number: int) -> None:
        leg = self.legs[number]
        if leg.ended is None:
            leg.ended = self._mailbox.mark()
        leg.done.set()

    def give_up(self, number: int) -> None:
        """Run `number` failed: every other run stops at its next wait."""
        self.abandoned.set()
        self.legs[number].at_review.set()
        self.legs[number].done.set()

    def window(self, number: int, key: str) -> tuple[int, int | None]:
        """The marks between which a message to `key`'s address is run `number`'s."""
        leg = self.legs[number]
        started = leg.started or 0
        last = number == len(self.legs) - 1
        if key in UP_TO_REVIEW:
            return started, None if last else self.legs[number + 1].started
        before = (self.legs[number - 1].ended or 0) if number else 0
        return max(started, before), None if last else leg.ended

    def _wait(self, signal: threading.Event) -> None:
        while not signal.wait(min(GATE_LOOK, self._remaining())):
            pass
        if self.abandoned.is_set():
            raise Abandoned
