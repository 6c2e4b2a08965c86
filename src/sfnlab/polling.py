"""Wait for a condition by asking again, sooner at first: LocalStack is usually quick.

Every wait in the kit goes through `poll`, so none sleeps a fixed time, and none waits
longer than the moment the answer is there plus one short back-off step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(check: Callable[[], T], timeout: float = 10.0, max_delay: float = 0.25) -> T:
    """Call `check` until it returns something true, or `timeout` seconds have passed.

    Returns the last result: true when the condition was met, false when time ran out.
    The pause between calls starts at 20 ms and doubles up to `max_delay`.
    """
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        result = check()
        left = deadline - time.monotonic()
        if result or left <= 0:
            return result
        time.sleep(min(delay, left))
        delay = min(delay * 2, max_delay)
