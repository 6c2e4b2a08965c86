"""Each requirement of the exercise, judged on a solution by running it.

`pytest tests/grading --solution DIR [--solution DIR ...]` judges learners' solutions;
without `--solution`, the kit's own. `solution`, `requirement` and `graded` come from the
kit's pytest plugin, `sfnlab.grading.pytest_plugin`.
"""

from __future__ import annotations


def test_requirement(graded, solution, requirement):
    verdict = graded[solution].verdict(requirement.id)
    assert verdict.passed, f"{requirement.title} (0/{requirement.points}): {verdict.feedback}"
