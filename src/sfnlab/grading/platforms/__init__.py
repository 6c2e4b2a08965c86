"""Grading where instructors already grade: Gradescope, PrairieLearn, CI.

Each platform runs one container (or CI job) per submission. For each, the kit writes
what the platform asks for (`gradescope.py`, `prairielearn.py`, `ci.py`, from the
templates in `templates/`) and reports in its format; `container.py` grades the one
submission a platform's container holds.
"""
