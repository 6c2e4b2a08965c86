"""Gradescope: its autograder `results.json`, and the autograder zip it builds an image from.

The format is Gradescope's published autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/; the schema the tests
check it against is `schemas/gradescope-results.schema.json`): one test per requirement,
its feedback line as the test's output, the whole submission's outcome as the top-level
output. A submission the kit could not grade has no way to say so in that format but a
score: it gets 0 with its tests hidden (so the learner sees no score, only the top-level
output saying the kit failed), and `extra_data.sfnlab.graded` false for the instructor.
"""

from __future__ import annotations

from typing import Any

from sfnlab.grading.grader import SolutionReport
from sfnlab.grading.reports import learner_summary

VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
DEFAULT_VISIBILITY = "visible"
ROOT = "/autograder"  # where Gradescope puts everything in its container
SUBMISSION = "submission"
RESULTS = "results/results.json"


def results(report: SolutionReport, visibility: str = DEFAULT_VISIBILITY) -> dict[str, Any]:
    """Gradescope's results.json for one graded (or refused, or failed) submission."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility is one of {', '.join(VISIBILITIES)}, not {visibility!r}")
    kit_failed = not report.graded
    shown = "hidden" if kit_failed else visibility
    tests = [
        {
            "name": verdict.requirement.title,
            "number": str(number),
            "score": float(verdict.points),
            "max_score": float(verdict.requirement.points),
            "status": "passed" if verdict.passed else "failed",
            "output": verdict.feedback,
            "output_format": "text",
            "tags": [verdict.requirement.id],
            "visibility": shown,
        }
        for number, verdict in enumerate(report.verdicts, 1)
    ]
    return {
        "score": float(report.score),
        "execution_time": round(report.seconds),
        "output": learner_summary(report),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": shown,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "sfnlab": {
                "graded": report.graded and not report.refused,
                "refused": report.refused,
                "kit_error": report.explained,
                "notes": report.notes,
            }
        },
    }
