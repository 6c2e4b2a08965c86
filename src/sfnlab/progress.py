"""Progress for long waits: a spinner while it lasts, one line with the time when done."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console

console = Console(stderr=True, highlight=False)


@dataclass
class Stopwatch:
    seconds: float = 0.0


@contextmanager
def step(description: str, done: str | None = None) -> Iterator[Stopwatch]:
    """Show `description` with a spinner; then `done` (or the description) with its duration.

    The stopwatch it yields holds the duration once the step is over.
    """
    watch = Stopwatch()
    started = time.perf_counter()
    with console.status(f"{description} ..."):
        yield watch
    watch.seconds = time.perf_counter() - started
    console.print(f"[green]✓[/green] {done or description} ({watch.seconds:.1f} s)")
