"""The grading report in a terminal: whatever its width, no feedback is cut short."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from sfnlab.grading.checks import met, not_met
from sfnlab.grading.grader import SolutionReport
from sfnlab.grading.reports import print_report
from sfnlab.grading.requirements import REQUIREMENTS

KEY_FEEDBACK = (
    "Step Functions rejects definitions/SolveIssueStepFunction.json: Workflow has no terminal "
    "state; CreateCode: Next names 'TODO_CreateBranch', which is not a state. Fix the "
    "definition, then deploy again."
)


def starter_report() -> SolutionReport:
    verdicts = [not_met(REQUIREMENTS[0], KEY_FEEDBACK)]
    verdicts += [met(requirement, "it did.") for requirement in REQUIREMENTS[1:]]
    return SolutionReport("my-solution", "my-solution", verdicts)


def printed(report: SolutionReport, width: int) -> str:
    out = io.StringIO()
    print_report(report, Console(file=out, width=width, force_terminal=False))
    return out.getvalue()


@pytest.mark.parametrize("width", [60, 80, 100, 120, 200])
def test_no_word_of_the_feedback_is_cut_at_any_terminal_width(width):
    text = printed(starter_report(), width)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    for verdict in starter_report().verdicts:
        for word in verdict.feedback.split():
            assert word in text, (width, word)
    assert "definitions/SolveIssueStepFunction.json:" in text
    assert "my-solution: 90/100" in text
