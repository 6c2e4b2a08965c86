"""Grade learners' solutions by running them: a verdict, points and feedback per requirement.

The modules, by concern: `requirements` (what is judged, each defined once), `contract`
(what a solution's steps add and send), `workflow` (the solution's definition, read),
`evidence` (what an execution's history shows), `mailbox` (each Lambda's own address),
`scenarios` (the runs), `checks` (one per requirement), `grader` (accounts, retries,
clean-up), `stack` (the sandboxed LocalStack a class is graded on) and `reports`;
`pytest_plugin` is the instructors' `pytest tests/grading --solution DIR`.
"""

from sfnlab.grading.checks import Verdict
from sfnlab.grading.grader import SolutionReport, grade, grade_solution
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
