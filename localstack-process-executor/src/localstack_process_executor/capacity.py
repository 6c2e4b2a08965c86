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

Warm first. A cold start (a process, its interpreter, the handler's imports) costs tens of
times the CPU of a short invocation, so under load the order of the queue matters more
than its length. A turn that frees up goes to the longest-waiting invocation of a function
that has an idle process, then to one of a function that has no process at all (it must
start one), then to the longest-waiting; but an invocation that has waited half its queue
time (PROCESS_EXECUTOR_QUEUE_SECONDS / 2) goes next, whatever it needs. And LocalStack is
given a function's environments with a live idle process first
(`WarmFirstEnvironments`), so that it never starts a process in an environment that has
none while another environment of the function has one waiting.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from localstack.aws.api.lambda_ import TooManyRequestsException
from localstack.services.lambda_.invocation.assignment import AssignmentService
from localstack.services.lambda_.invocation.counting_service import CountingService

from localstack_process_executor import config

LOG = logging.getLogger(__name__)


def throttled(why: str) -> TooManyRequestsException:
    LOG.info("Throttled an invocation: %s", why)
    return TooManyRequestsException(
        "Rate Exceeded.", Reason="ConcurrentInvocationLimitExceeded", Type="User"
    )


@dataclass(eq=False)
class Waiter:
    function: str
    since: float = field(default_factory=time.monotonic)
    granted: threading.Event = field(default_factory=threading.Event)


class Turns:
    """At most `limit` invocations at once; the others wait up to `wait_seconds`, warm
    ones first (see the module's docstring)."""

    def __init__(
        self,
        limit: int,
        wait_seconds: float,
        functions: Callable[[], tuple[set[str], set[str]]],
    ) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        # How long an invocation may be passed over; it is never throttled for it.
        self.patience = wait_seconds / 2
        self._functions = functions  # those with an idle process, those with any
        self._free = limit
        self._waiting: list[Waiter] = []  # oldest first
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def turn(self, function: str) -> Iterator[None]:
        self._take(function)
        try:
            yield
        finally:
            self._hand_on()

    def _take(self, function: str) -> None:
        with self._lock:
            if self._free:  # nobody waits while a turn is free
                self._free -= 1
                return
            waiter = Waiter(function)
            self._waiting.append(waiter)
        if waiter.granted.wait(self.wait_seconds):
            return
        with self._lock:
            if waiter.granted.is_set():  # handed a turn just as the wait ended
                return
            self._waiting.remove(waiter)
        raise throttled(
            f"all {self.limit} execution environments stayed busy for "
            f"{self.wait_seconds:g} s (PROCESS_EXECUTOR_MAX_ENVIRONMENTS)"
        )

    def _hand_on(self) -> None:
        """Give the turn just ended to the waiter that should have it, or free it."""
        with self._lock:
            if not self._waiting:
                self._free += 1
                return
            waiter = self._next()
            self._waiting.remove(waiter)
            waiter.granted.set()

    def _next(self) -> Waiter:
        oldest = self._waiting[0]
        if time.monotonic() - oldest.since >= self.patience:
            return oldest
        warm, live = self._functions()
        return next(
            (w for w in self._waiting if w.function in warm),
            # A function without any process must start one: the others can wait for theirs.
            next((w for w in self._waiting if w.function not in live), oldest),
        )


class Slot:
    """One live environment's place under the cap: busy, idle, or given up."""

    def __init__(self, give_up: Callable[[], None], function: str) -> None:
        self.give_up = give_up  # ends the environment's process
        self.function = function  # the function version's qualified ARN
        self.state = "busy"


class Slots:
    """At most `limit` live processes; idle ones give theirs up, least recently used first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._live: set[Slot] = set()
        self._idle: OrderedDict[Slot, None] = OrderedDict()  # least recently used first
        self._changed = threading.Condition()

    @property
    def live(self) -> int:
        return len(self._live)

    def functions(self) -> tuple[set[str], set[str]]:
        """The functions that have an idle process, and those that have any."""
        with self._changed:
            return {s.function for s in self._idle}, {s.function for s in self._live}

    def acquire(self, give_up: Callable[[], None], function: str, wait_seconds: float) -> Slot:
        """A busy slot; an idle environment gives up its process if none is free."""
        deadline = time.monotonic() + wait_seconds
        while True:
            with self._changed:
                victim = None
                if len(self._live) < self.limit:
                    slot = Slot(give_up, function)
                    self._live.add(slot)
                    return slot
                if self._idle:
                    victim, _ = self._idle.popitem(last=False)
                    victim.state = "released"
                    self._live.discard(victim)
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
            self._live.discard(slot)
            self._changed.notify()


SLOTS = Slots(config.PROCESS_EXECUTOR_MAX_ENVIRONMENTS)
TURNS = Turns(
    config.PROCESS_EXECUTOR_MAX_ENVIRONMENTS, config.PROCESS_EXECUTOR_QUEUE_SECONDS, SLOTS.functions
)


class WarmFirstEnvironments(dict):
    """One function version's environments, as LocalStack's AssignmentService keeps them
    (id -> environment). LocalStack reserves the first ready one its iteration meets; this
    iteration meets those whose process is alive and idle first. It also works on a
    snapshot, so an environment added or removed meanwhile by another thread does not
    break it."""

    def values(self):  # type: ignore[override]
        return sorted(super().values(), key=lambda environment: not is_warm(environment))


def is_warm(environment) -> bool:
    warm = getattr(environment.runtime_executor, "warm", None)
    return bool(warm and warm())


_installed = threading.Lock()


def install() -> None:
    """Make every Lambda invocation take a turn, after LocalStack's own concurrency checks
    (reserved concurrency and the account's limit still throttle at once, as on AWS), and
    LocalStack pick a function's warm environments first."""
    with _installed:
        original = CountingService.get_invocation_lease
        if getattr(original, "takes_a_turn", False):
            return

        @contextlib.contextmanager
        def get_invocation_lease(self, function, function_version, provisioned_state=None):
            with (
                original(self, function, function_version, provisioned_state) as lease,
                TURNS.turn(function_version.qualified_arn),
            ):
                yield lease

        get_invocation_lease.takes_a_turn = True
        CountingService.get_invocation_lease = get_invocation_lease

        get_environment = AssignmentService.get_environment

        def warm_first_get_environment(self, *args, **kwargs):
            use_warm_first_map(self)
            return get_environment(self, *args, **kwargs)

        AssignmentService.get_environment = warm_first_get_environment


_converting = threading.Lock()


def use_warm_first_map(service: AssignmentService) -> None:
    """The service predates this plugin (LocalStack creates it with the Lambda provider):
    its map is converted on its first assignment, before any environment of ours exists."""
    if service.environments.default_factory is WarmFirstEnvironments:
        return
    with _converting:
        if service.environments.default_factory is not WarmFirstEnvironments:
            converted = defaultdict(WarmFirstEnvironments)
            for version_manager_id, environments in service.environments.items():
                converted[version_manager_id] = WarmFirstEnvironments(environments)
            service.environments = converted
