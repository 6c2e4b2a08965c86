"""Progress for long waits: a spinner while it lasts, one line with the time when done."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

console = Console(stderr=True, highlight=False)


@contextmanager
def step(description: str, done: str | None = None) -> Iterator[None]:
    """Show `description` with a spinner; then `done` (or the description) with its duration."""
    started = time.perf_counter()
    with console.status(f"{description} ..."):
        yield
    console.print(f"[green]✓[/green] {done or description} ({time.perf_counter() - started:.1f} s)")
