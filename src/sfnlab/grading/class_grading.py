"""`sfnlab grade`: what a class handed in, taken in and graded on a LocalStack of its own.

The library side of the command: folders, zips and folders of zips are gathered
(`intake.py`), unpacked into a folder that is removed afterwards, and graded on a
grading LocalStack started for the purpose (`grading_stack.py`), several at a time. With
`container=True` there is one hand-in, graded as in a platform's container (the
container is the sandbox where bubblewrap cannot run; see `platforms/container.py`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sfnlab.errors import LearnerError
from sfnlab.grading.grader import SolutionReport
from sfnlab.grading.intake import HandedIn, gather, grade_handed_in
from sfnlab.settings import DEFAULT_GRADING_JOBS, Settings

CONTAINER_BUDGET = 600.0  # seconds: a CI job's own limit is the one that counts there


def grade_paths(
    paths: list[Path],
    settings: Settings,
    *,
    jobs: int = DEFAULT_GRADING_JOBS,
    time_limit: float = 90.0,
    sandbox: bool = True,
    container: bool = False,
    on_gathered: Callable[[list[HandedIn]], None] | None = None,
) -> list[SolutionReport]:
    """Grade every hand-in among `paths` (folders, zips, folders of them); a report each,
    in the order found. No LocalStack is started when nothing could be taken in."""
    from sfnlab.grading.grading_stack import grading_stack

    with tempfile.TemporaryDirectory(prefix="sfnlab-handed-in-") as workdir:
        handed = gather(paths, Path(workdir))
        if not handed:
            raise LearnerError(
                f"Found nothing to grade in {', '.join(str(p) for p in paths)}.",
                hint="Give solution folders, submission zips, or a folder of them.",
            )
        if on_gathered:
            on_gathered(handed)
        if container:
            if len(handed) != 1:
                raise LearnerError(
                    f"--container grades one submission; found {len(handed)}.",
                    hint="Name the one folder or zip to grade.",
                )
            from sfnlab.grading.platforms.container import grade_alone

            timings: dict[str, float] = {}
            report, _ = grade_alone(
                handed[0], settings, time.monotonic() + CONTAINER_BUDGET, timings
            )
            return [report]
        if all(h.folder is None for h in handed):
            return grade_handed_in(handed, settings, jobs=jobs, time_limit=time_limit)
        with grading_stack(sandbox=sandbox, jobs=jobs, base=settings) as stack:
            return grade_handed_in(handed, stack, jobs=jobs, time_limit=time_limit)
