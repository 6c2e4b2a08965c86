"""A process and all its descendants: find them, and kill them so that none escapes.

Killing a process group misses a child that called `setsid()`, and killing a parent first
lets its children be re-parented away. So the tree is frozen first (SIGSTOP: a stopped
process can neither fork nor exit and be re-parented), searched again until no new process
appears, and only then killed. On Linux the tree is read from /proc; elsewhere only the
root's process group can be found.

Standard library only: the runtime side (`bootstrap.py`) imports it too.
"""

from __future__ import annotations

import contextlib
import os
import signal

_HAS_PROC = os.path.isdir("/proc/self/task")


def children(pid: int) -> list[int]:
    """The direct children of `pid` (all its threads' children), [] if it is gone."""
    found: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as listing:
                found.extend(int(child) for child in listing.read().split())
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents before their children."""
    if not _HAS_PROC:
        return []
    found: list[int] = []
    queue = [pid]
    while queue:
        below = children(queue.pop(0))
        found.extend(below)
        queue.extend(below)
    return found


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def kill_tree(root: int, *, include_root: bool = True) -> None:
    """Freeze `root`'s whole tree, then SIGKILL it. The caller must know `root` is not
    yet reaped (its pid cannot have been reused)."""
    frozen: list[int] = []
    if include_root:
        _signal(root, signal.SIGSTOP)
        frozen.append(root)
    seen = set(frozen)
    while True:
        new = [pid for pid in descendants(root) if pid not in seen]
        if not new:
            break
        for pid in new:
            _signal(pid, signal.SIGSTOP)
        seen.update(new)
        frozen.extend(new)
    for pid in frozen:
        _signal(pid, signal.SIGKILL)
    if include_root and not _HAS_PROC:
        # No /proc (macOS): the root's process group is all that can be found.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(root, signal.SIGKILL)
