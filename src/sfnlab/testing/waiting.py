"""Waiting in tests for something to happen: the kit's own poll, checking often."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sfnlab.support.polling import poll

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 10.0) -> T:
    """Poll `condition` until it is true or `timeout` seconds pass; its last result."""
    return poll(condition, timeout, max_delay=0.1)
