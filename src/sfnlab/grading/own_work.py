"""Checking your own solution on your own machine: the grader's runs, requirements, points
and feedback, on the LocalStack you work with, and no sandbox.

The sandbox (bubblewrap, which `sfnlab grade` runs each learner's Lambdas in) keeps code
you have not read away from the grader's files and processes. Your own code needs no
sandbox from you: it runs as you, as `sfnlab deploy` runs it. So a check of your own work
runs wherever the kit runs, macOS and Windows included (bubblewrap is Linux only), and
`sfnlab grade`, which grades other people's code, keeps the sandbox by default.
"""

from __future__ import annotations

from pathlib import Path

from sfnlab.grading.grader import DEFAULT_TIME_LIMIT, SolutionReport, grade
from sfnlab.settings import Settings

# One line, said alike by `sfnlab check`, notebook 5 and starter/README.md.
NO_SANDBOX = (
    "Your own code runs as you, as `sfnlab deploy` runs it: no sandbox. The sandbox is "
    "for grading other people's code (`sfnlab grade`), to keep it away from your files."
)


def check_solution(
    settings: Settings, folder: Path, *, time_limit: float = DEFAULT_TIME_LIMIT
) -> SolutionReport:
    """Grade your solution `folder` on the LocalStack of `settings` (yours): what
    `sfnlab grade` would say of it, in accounts of their own, removed again after."""
    [report] = grade([Path(folder)], settings, jobs=1, time_limit=time_limit)
    return report
