"""Waiting in tests for something to happen: the kit's own poll, checking often."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sfnlab.settings import Settings
from sfnlab.support.polling import poll
from sfnlab.workflow import approval, executions

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 10.0) -> T:
    """Poll `condition` until it is true or `timeout` seconds pass; its last result."""
    return poll(condition, timeout, max_delay=0.1)


def review_waiting(
    settings: Settings, started: executions.Execution, timeout: float = 30.0
) -> approval.ReviewRequest:
    """The reviewers' notification of the execution `started`, once its review waits for
    the token as its history tells: the notify Lambda posts the message before it returns,
    and on a busy machine the message comes before Step Functions records the return."""
    review = approval.find_review(settings, started.name, wait=True, timeout=timeout)
    executions.wait_for_reviews(settings, started.arn, timeout=timeout)
    return review
