"""Grade learners' solutions by running them: a verdict, points and feedback per requirement."""

from sfnlab.grading.grader import SolutionReport, Verdict, grade, grade_solution
from sfnlab.grading.requirements import REQUIREMENTS, TOTAL_POINTS, Requirement

__all__ = [
    "REQUIREMENTS",
    "TOTAL_POINTS",
    "Requirement",
    "SolutionReport",
    "Verdict",
    "grade",
    "grade_solution",
]
