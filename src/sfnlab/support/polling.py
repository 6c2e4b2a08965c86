"""Wait for a condition by asking again, sooner at first: LocalStack is usually quick.

Every wait in the kit goes through `poll`, so none sleeps a fixed time, and none waits
longer than the moment the answer is there plus one short back-off step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

FIRST_DELAY = 0.02


def poll(
    check: Callable[[], T],
    timeout: float = 10.0,
    max_delay: float = 0.25,
    *,
    first_delay: float = FIRST_DELAY,
    pause: Callable[[float], object] = time.sleep,
) -> T:
    """Call `check` until it returns something true, or `timeout` seconds have passed.

    Returns the last result: true when the condition was met, false when time ran out.
    The pause between calls starts at `first_delay` (20 ms) and doubles up to `max_delay`.
    A `pause` other than sleeping may end early, returning something true, when something
    happened that makes the condition likely soon (a message arrived, say): the pauses
    then start again from 20 ms.
    """
    deadline = time.monotonic() + timeout
    delay = first_delay
    while True:
        result = check()
        left = deadline - time.monotonic()
        if result or left <= 0:
            return result
        woken = pause(min(delay, left))
        delay = FIRST_DELAY if woken else min(delay * 2, max_delay)
