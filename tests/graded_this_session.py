"""Solutions graded in this test session, by folder, so that no test grades one twice.

The grader's tests grade the whole class in one batch; `tests/grading` (one test per
requirement, for the reference unless given `--solution`) reads the reference's report
from that batch when both run, and grades only what the session has not graded yet.
"""

from __future__ import annotations

from pathlib import Path

from sfnlab.grading import SolutionReport

_reports: dict[Path, SolutionReport] = {}


def remember(folders: list[Path], reports: list[SolutionReport]) -> None:
    for folder, report in zip(folders, reports, strict=True):
        _reports[folder.resolve()] = report


def recall(folder: Path) -> SolutionReport | None:
    return _reports.get(folder.resolve())
