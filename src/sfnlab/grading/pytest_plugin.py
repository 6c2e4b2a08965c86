"""`pytest tests/grading --solution DIR [--solution DIR ...]`: one test per requirement.

The instructors' pytest front end, a pytest plugin of the kit (entry point `pytest11` in
pyproject.toml, so every pytest of the kit's environment has `--solution`). A test that
asks for `solution` and `requirement` (`tests/grading/test_requirements.py`) runs once per
solution and requirement, and reads the verdict from `graded`: each solution is graded
once, on a sandboxed grading LocalStack of its own (as `sfnlab grade` does), so that a
requirement's failure message is the learner's feedback. Without bubblewrap, the kit's
own solution is skipped and a learner's refused. `--junitxml` gives the CI or LMS
report (each case carries its solution's folder and score as properties); the summary at
the end gives each solution's points.

A test run that has graded a solution already hands the report over with `remember`
(the kit's suite grades the reference with the whole class, then judges it here).
Importing this module stays cheap: pytest loads it on every start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sfnlab.grading import SolutionReport

# Reports of the solutions graded in this test run (this process), by resolved folder.
_GRADED = pytest.StashKey[dict[Path, "SolutionReport"]]()
SOLUTION_PROPERTY = "solution"
SCORE_PROPERTY = "solution score"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("sfnlab grading").addoption(
        "--solution",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a learner's solution for tests/grading to grade (repeat for several); "
        "by default the kit's own, which meets every requirement.",
    )


def solutions(config: pytest.Config) -> list[Path]:
    """The folders to judge: those given with --solution, else the kit's own."""
    from sfnlab.settings import PROJECT_ROOT

    return [path.resolve() for path in config.getoption("solution")] or [PROJECT_ROOT]


def remember(config: pytest.Config, folder: Path, report: SolutionReport) -> None:
    """Hand over a solution graded elsewhere in this test run: `graded` will not grade
    it again."""
    config.stash.setdefault(_GRADED, {})[folder.resolve()] = report


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if {"solution", "requirement"} <= set(metafunc.fixturenames):
        from sfnlab.grading import REQUIREMENTS

        # The grader holds each solution to its own time limit, and the first test waits
        # for the whole class: a per-test timeout (pytest-timeout's) would cut it short.
        marks = (
            [pytest.mark.timeout(0)] if metafunc.config.pluginmanager.hasplugin("timeout") else []
        )
        cases = [
            pytest.param(folder, requirement, id=f"{folder.name}-{requirement.id}", marks=marks)
            for folder in solutions(metafunc.config)
            for requirement in REQUIREMENTS
        ]
        metafunc.parametrize(("solution", "requirement"), cases)


@pytest.fixture(scope="session")
def graded(request: pytest.FixtureRequest) -> dict[Path, SolutionReport]:
    """Each solution's report, grading in one batch those this run has not graded yet."""
    from localstack_process_executor.sandbox import find_bwrap
    from sfnlab.grading import grade
    from sfnlab.grading.grading_stack import INSTALL_HINT, grading_stack
    from sfnlab.settings import load_settings

    config = request.config
    folders = solutions(config)
    known = config.stash.setdefault(_GRADED, {})
    to_grade = [folder for folder in folders if folder not in known]
    if to_grade and find_bwrap() is None:
        message = f"Learners' code runs inside bubblewrap, which is missing. {INSTALL_HINT}"
        if config.getoption("solution"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    if to_grade:
        with grading_stack(load_settings()) as settings:
            known.update(zip(to_grade, grade(to_grade, settings), strict=True))
    return {folder: known[folder] for folder in folders}


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Scores(), "sfnlab-grading-scores")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A requirement's test names its solution and the solution's score (as user
    properties): the summary and a JUnit report then have them, from a parallel run's
    workers too."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    reports = getattr(item, "funcargs", {}).get("graded")
    if call.when == "call" and "requirement" in params and reports:
        solution = reports[params["solution"]]
        item.user_properties.append((SOLUTION_PROPERTY, solution.path))
        item.user_properties.append((SCORE_PROPERTY, f"{solution.score}/{solution.total}"))
    return (yield)


class Scores:
    """Each judged solution's points, read from the requirements' test reports."""

    def __init__(self) -> None:
        self.scores: dict[str, str] = {}  # solution folder -> "score/total"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        if report.when == "call" and SCORE_PROPERTY in properties:
            self.scores[properties[SOLUTION_PROPERTY]] = properties[SCORE_PROPERTY]

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for folder, score in self.scores.items():
            terminalreporter.write_line(f"{Path(folder).name}: {score} points")
