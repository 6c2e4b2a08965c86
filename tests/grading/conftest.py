"""`pytest tests/grading --solution DIR [--solution DIR ...]`: one test per requirement.

Each solution is graded once, on a sandboxed grading LocalStack of its own (as `sfnlab
grade` does); every requirement is then a test whose failure message is the learner's
feedback. In the kit's own test suite, the reference comes graded with the grader's test
class (`tests/graded_this_session.py`), not a second time. Without bubblewrap, the kit's
own solution is skipped and a learner's refused. `--junitxml` gives the CI or LMS
report; the summary at the end gives each solution's points.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from localstack_process_executor.sandbox import find_bwrap
from sfnlab.grading import REQUIREMENTS, SolutionReport, grade
from sfnlab.grading.grading_stack import INSTALL_HINT, grading_stack
from sfnlab.settings import PROJECT_ROOT, load_settings
from tests import graded_this_session


def solutions(config: pytest.Config) -> list[Path]:
    return [path.resolve() for path in config.getoption("solution")] or [PROJECT_ROOT]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if {"solution", "requirement"} <= set(metafunc.fixturenames):
        folders = solutions(metafunc.config)
        cases = [(folder, requirement) for folder in folders for requirement in REQUIREMENTS]
        metafunc.parametrize(
            ("solution", "requirement"),
            cases,
            ids=[f"{folder.name}-{requirement.id}" for folder, requirement in cases],
        )


@pytest.fixture(scope="session")
def graded(request: pytest.FixtureRequest) -> dict[Path, SolutionReport]:
    folders = solutions(request.config)
    if find_bwrap() is None:
        message = f"Learners' code runs inside bubblewrap, which is missing. {INSTALL_HINT}"
        if request.config.getoption("solution"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    to_grade = [folder for folder in folders if graded_this_session.recall(folder) is None]
    if to_grade:
        with grading_stack(load_settings()) as settings:
            graded_this_session.remember(to_grade, grade(to_grade, settings))
    reports = [graded_this_session.recall(folder) for folder in folders]
    request.config.stash[GRADED] = reports
    return dict(zip(folders, reports, strict=True))


GRADED = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    for report in config.stash.get(GRADED, []):
        terminalreporter.write_line(f"{report.solution}: {report.score}/{report.total} points")
