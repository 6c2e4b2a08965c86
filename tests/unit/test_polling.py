"""Every wait in the kit: ask again sooner at first, give up at the timeout."""

from __future__ import annotations

import time

from sfnlab.support.polling import poll


def test_returns_the_first_true_answer_without_waiting_longer():
    answers = iter([None, 0, "ready"])
    started = time.monotonic()
    assert poll(lambda: next(answers), timeout=5) == "ready"
    assert time.monotonic() - started < 0.2  # 20 ms, then 40 ms: no fixed sleep


def test_returns_the_last_false_answer_when_time_runs_out():
    calls = []
    started = time.monotonic()
    assert poll(lambda: calls.append(1) or None, timeout=0.3, max_delay=0.05) is None
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 0.5
    assert len(calls) >= 5


def test_a_zero_timeout_asks_once():
    calls = []
    poll(lambda: calls.append(1), timeout=0)
    assert calls == [1]


def test_pauses_grow_from_the_first_delay_and_start_short_again_after_an_event():
    answers = iter([None] * 6 + ["ready"])
    pauses: list[float] = []

    def pause(seconds: float) -> bool:
        pauses.append(seconds)
        return len(pauses) == 4  # something happened during the fourth pause

    result = poll(lambda: next(answers), timeout=60, max_delay=0.5, first_delay=0.1, pause=pause)
    assert result == "ready"
    assert pauses == [0.1, 0.2, 0.4, 0.5, 0.02, 0.04]
