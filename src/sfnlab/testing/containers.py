"""A grading platform's container, made on this machine for tests: a mount namespace of
its own in which the home folder (root's, which other users cannot enter) is replaced by
an empty one readable by all, holding only the folders of the given Pythons, as a grading
image holds its Pythons where every user can run them."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path


def as_in_a_container(scratch: Path, pythons: Iterable[str | Path]) -> list[str]:
    """The command prefix that runs a command in such a container (needs root and util-linux's
    `unshare`); `scratch` is a folder of the test's own, outside the home folder."""
    home = Path.home()
    kept = sorted(
        {
            Path(python).resolve().relative_to(home).parts[0]
            for python in pythons
            if Path(python).resolve().is_relative_to(home)
        }
    )
    real = scratch / "real-home"
    steps = [
        f"mkdir -p {shlex.quote(str(real))}",
        f"mount --bind {shlex.quote(str(home))} {shlex.quote(str(real))}",
        f"mount -t tmpfs -o mode=0755 tmpfs {shlex.quote(str(home))}",
    ]
    for name in kept:
        inside, outside = shlex.quote(str(home / name)), shlex.quote(str(real / name))
        steps += [f"mkdir {inside}", f"mount --bind {outside} {inside}"]
    script = " && ".join(steps) + ' && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "container"]
