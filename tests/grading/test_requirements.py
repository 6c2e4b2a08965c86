"""Each requirement of the exercise, judged on a solution by running it."""

from __future__ import annotations


def test_requirement(graded, solution, requirement):
    verdict = graded[solution].verdict(requirement.id)
    assert verdict.passed, f"{requirement.title} (0/{requirement.points}): {verdict.feedback}"
