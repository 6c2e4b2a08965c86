"""Progress on standard error: a spinner while a step lasts, one line with its time when done.

Standard output is for results (a token, a table, JSON) that a script may read; every
progress line and note goes to standard error. `rich` draws the spinner, and is imported
only when standard error is a terminal: elsewhere a spinner is noise and the import
costs time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


@dataclass
class Stopwatch:
    seconds: float = 0.0


@cache
def terminal() -> Any:
    """A rich console on standard error when it is a terminal; else None."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def note(text: str) -> None:
    """A line for the person watching (not for a script reading standard output)."""
    print(text, file=sys.stderr, flush=True)


@contextmanager
def step(description: str, done: str | None = None) -> Iterator[Stopwatch]:
    """Show `description` with a spinner; then `done` (or the description) with its duration.

    The stopwatch it yields holds the duration once the step is over.
    """
    watch = Stopwatch()
    started = time.perf_counter()
    console = terminal()
    with console.status(f"{description} ...") if console else nullcontext():
        yield watch
    watch.seconds = time.perf_counter() - started
    note(f"✓ {done or description} ({watch.seconds:.1f} s)")


def shown_path(path: Path) -> Path:
    """`path` relative to the current folder when it is inside it: shorter to read."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
