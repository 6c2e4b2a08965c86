"""PrairieLearn: its external grader's `results.json`, and what a course needs to use it.

The format is PrairieLearn's published external-grading specification
(https://prairielearn.readthedocs.io/en/latest/externalGrading/; the tests check it against
`schemas/prairielearn-results.schema.json`): `score` from 0 to 1, one test per
requirement with its points, the feedback as its message. A submission the grader could
not run as it stands (a file missing, a zip refused) is `gradable: false` with what is
wrong as `format_errors`: it costs the learner no attempt. So is one the kit failed to
grade: that failure is never the learner's. The file stays within PrairieLearn's 1 MB.
"""

from __future__ import annotations

import json
from typing import Any

from sfnlab.grading.grader import SolutionReport
from sfnlab.grading.reports import learner_summary

MAX_BYTES = 1_000_000  # PrairieLearn's limit on results.json
ROOT = "/grade"  # where PrairieLearn puts everything in its container
SUBMISSION = "student"
RESULTS = "results/results.json"


def results(report: SolutionReport) -> dict[str, Any]:
    """PrairieLearn's results.json for one graded (or refused, or failed) submission."""
    summary = learner_summary(report)
    if report.refused or report.problems or not report.graded:
        errors = (
            [report.refused] if report.refused else report.problems or [summary.split("\n", 1)[0]]
        )
        return fit(
            {
                "gradable": False,
                "format_errors": errors,
                "message": summary.split("\n", 1)[0] if report.graded else summary,
                "output": summary,
            }
        )
    tests = [
        {
            "name": verdict.requirement.title,
            "description": verdict.requirement.hint,
            "points": verdict.points,
            "max_points": verdict.requirement.points,
            "message": "Met." if verdict.passed else "Not met.",
            "output": verdict.feedback,
        }
        for verdict in report.verdicts
    ]
    return fit(
        {
            "gradable": True,
            "score": report.score / report.total,
            "message": summary.split("\n", 1)[0],
            "output": summary,
            "tests": tests,
        }
    )


def size(results: dict[str, Any]) -> int:
    return len(json.dumps(results).encode())


def fit(results: dict[str, Any], limit: int = MAX_BYTES) -> dict[str, Any]:
    """`results` cut down to `limit` bytes of JSON: the longest texts are shortened first
    (a long LocalStack log, a huge message quoted back), never the score or the points."""
    holders = [results, *results.get("tests", [])]
    texts = [
        (h, key) for h in holders for key in ("output", "message") if isinstance(h.get(key), str)
    ]
    while texts and size(results) > limit:
        index = max(range(len(texts)), key=lambda i: len(texts[i][0][texts[i][1]]))
        holder, key = texts[index]
        text = holder[key]
        keep = len(text) - (size(results) - limit) - 100
        if keep < 200:
            holder[key] = text[:200] + " [cut: too long]"
            texts.pop(index)
        else:
            holder[key] = text[:keep] + " [cut: too long]"
    return results
