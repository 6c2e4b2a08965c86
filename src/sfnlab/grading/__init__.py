"""Grade learners' solutions by running them: a verdict, points and feedback per requirement.

The modules, by concern: `requirements` (what is judged, each defined once), `contract`
(what a solution's steps add and send), `workflow` (the solution's definition, read),
`mailbox` (each Lambda's own address), `scenarios` (the runs, each read as a
`sfnlab.workflow.history.History`), `checks` (one per requirement), `grader` (accounts,
retries, clean-up), `grading_stack` (the sandboxed LocalStack a class is graded on),
`network` (its network of its own, and `network_keeper`, the process that keeps it) and
`reports`; `pytest_plugin` is the instructors' `pytest tests/grading --solution DIR`.

Handing in: `solution_files` (the checks before anything runs, shared with `submit`),
`submission` (`sfnlab submit`'s zip and manifest), `archives` (zips unpacked safely),
`intake` (folders, zips and folders of them, taken in), `class_grading` (`sfnlab
grade`); `platforms/` grades where instructors already grade (Gradescope, PrairieLearn,
CI).
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
