"""How many environments may live at once, and what happens beyond that.

Every environment is a process, and each costs memory, descriptors and threads in
LocalStack; a laptop has room for a few dozen at most. Two limits of the same size
(PROCESS_EXECUTOR_MAX_ENVIRONMENTS) keep them bounded:

- *Turns*: at most that many invocations run at once, all functions and accounts
  together. An invocation beyond it waits for a turn (up to PROCESS_EXECUTOR_QUEUE_SECONDS)
  before LocalStack looks for an environment, so that it can take a warm one freed in the
  meantime; after that it is throttled as Lambda throttles beyond its concurrency limit
  (`TooManyRequestsException`, which callers such as Step Functions' Retry expect).
- *Slots*: at most that many live processes. When a new environment needs a process and
  none is free, the least recently used idle environment gives its process up (the next
  invocation it gets starts a fresh one). Since busy environments never outnumber turns,
  there is always one to give up.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator

from localstack.aws.api.lambda_ import TooManyRequestsException
from localstack.services.lambda_.invocation.counting_service import CountingService

from localstack_process_executor import config

LOG = logging.getLogger(__name__)


def throttled(why: str) -> TooManyRequestsException:
    LOG.info("Throttled an invocation: %s", why)
    return TooManyRequestsException(
        "Rate Exceeded.", Reason="ConcurrentInvocationLimitExceeded", Type="User"
    )


class Turns:
    """At most `limit` invocations at once; the others wait up to `wait_seconds`."""

    def __init__(self, limit: int, wait_seconds: float) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._semaphore = threading.BoundedSemaphore(limit)

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        if not self._semaphore.acquire(timeout=self.wait_seconds):
            raise throttled(
                f"all {self.limit} execution environments stayed busy for "
                f"{self.wait_seconds:g} s (PROCESS_EXECUTOR_MAX_ENVIRONMENTS)"
            )
        try:
            yield
        finally:
            self._semaphore.release()


class Slot:
    """One live environment's place under the cap: busy, idle, or given up."""

    def __init__(self, give_up: Callable[[], None]) -> None:
        self.give_up = give_up  # ends the environment's process
        self.state = "busy"


class Slots:
    """At most `limit` live processes; idle ones give theirs up, least recently used first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._live = 0
        self._idle: OrderedDict[Slot, None] = OrderedDict()
        self._changed = threading.Condition()

    @property
    def live(self) -> int:
        return self._live

    def acquire(self, give_up: Callable[[], None], wait_seconds: float) -> Slot:
        """A busy slot; an idle environment gives up its process if none is free."""
        deadline = time.monotonic() + wait_seconds
        while True:
            with self._changed:
                victim = None
                if self._live < self.limit:
                    self._live += 1
                    return Slot(give_up)
                if self._idle:
                    victim, _ = self._idle.popitem(last=False)
                    victim.state = "released"
                    self._live -= 1
                else:
                    # Only while a stopped environment's process is on its way out.
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise throttled(f"all {self.limit} execution environments are busy")
                    self._changed.wait(remaining)
            if victim is not None:
                LOG.debug("Stopping an idle environment's process to make room")
                victim.give_up()

    def claim(self, slot: Slot) -> bool:
        """Mark an idle slot busy again; False if it was given up meanwhile."""
        with self._changed:
            if slot.state == "idle":
                del self._idle[slot]
                slot.state = "busy"
            return slot.state == "busy"

    def idle(self, slot: Slot) -> None:
        with self._changed:
            if slot.state == "busy":
                slot.state = "idle"
                self._idle[slot] = None
                self._changed.notify()

    def release(self, slot: Slot) -> None:
        with self._changed:
            if slot.state == "released":
                return
            if slot.state == "idle":
                del self._idle[slot]
            slot.state = "released"
            self._live -= 1
            self._changed.notify()


TURNS = Turns(config.PROCESS_EXECUTOR_MAX_ENVIRONMENTS, config.PROCESS_EXECUTOR_QUEUE_SECONDS)
SLOTS = Slots(config.PROCESS_EXECUTOR_MAX_ENVIRONMENTS)

_installed = threading.Lock()


def install_turns() -> None:
    """Make every Lambda invocation take a turn, after LocalStack's own concurrency checks
    (reserved concurrency and the account's limit still throttle at once, as on AWS)."""
    with _installed:
        original = CountingService.get_invocation_lease
        if getattr(original, "takes_a_turn", False):
            return

        @contextlib.contextmanager
        def get_invocation_lease(self, function, function_version, provisioned_state=None):
            with (
                original(self, function, function_version, provisioned_state) as lease,
                TURNS.turn(),
            ):
                yield lease

        get_invocation_lease.takes_a_turn = True
        CountingService.get_invocation_lease = get_invocation_lease
