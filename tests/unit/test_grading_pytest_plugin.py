"""The instructors' pytest front end (`sfnlab.grading.pytest_plugin`), loaded by every
pytest of the kit's environment: `--solution` gives a test per solution and requirement,
a requirement's failure is the learner's feedback, and the summary gives each solution's
points, from a parallel run too. The solutions here were graded earlier in the run
(`remember`), as the kit's suite hands the reference over, so nothing is graded again."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from sfnlab.settings import PROJECT_ROOT

PYTEST = (sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--junitxml=report.xml")
# alice's merge names no branch; bob meets every requirement.
CONFTEST = """
from pathlib import Path

from sfnlab.grading import REQUIREMENTS, SolutionReport, Verdict
from sfnlab.grading.pytest_plugin import remember


def pytest_configure(config):
    for name, failing in (("alice", "merge_uses_branch"), ("bob", None)):
        folder = Path(name).resolve()
        verdicts = [
            Verdict(r, False, "Expected: the branch. Seen: no branch in the message")
            if r.id == failing
            else Verdict(r, True, "Met")
            for r in REQUIREMENTS
        ]
        remember(config, folder, SolutionReport(name, str(folder), verdicts))
"""


def grade_with_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`pytest --solution alice --solution bob` as an instructor types it, in a folder with
    the kit's requirement test (the kit's own settings stay out of it)."""
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "conftest.py").write_text(CONFTEST)
    test = PROJECT_ROOT / "tests" / "grading" / "test_requirements.py"
    (folder / "test_requirements.py").write_text(test.read_text())
    return subprocess.run(
        [*PYTEST, "--solution", "alice", "--solution", "bob", *args],
        cwd=folder,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "two-workers"])
def test_each_requirement_is_a_test_and_the_summary_gives_the_points(tmp_path, workers):
    result = grade_with_pytest(tmp_path / "class", *workers)
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    assert "1 failed, 17 passed" in result.stdout
    assert "FAILED test_requirements.py::test_requirement[alice-merge_uses_branch]" in result.stdout
    assert (
        "AssertionError: Merge to master used the branch name (0/10): "
        "Expected: the branch. Seen: no branch in the message"
    ) in result.stdout
    assert "alice: 90/100 points\n" in result.stdout
    assert "bob: 100/100 points\n" in result.stdout
    # The JUnit report says whose each case is, and that solution's score.
    report = (tmp_path / "class" / "report.xml").read_text()
    assert f'<property name="solution" value="{tmp_path / "class" / "alice"}" />' in report
    assert '<property name="solution score" value="90/100" />' in report


def test_every_pytest_of_the_kits_environment_loads_it(pytestconfig):
    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "sfnlab-grading"]
    assert plugin.value == "sfnlab.grading.pytest_plugin"
    assert pytestconfig.pluginmanager.has_plugin("sfnlab-grading")
    assert pytestconfig.getoption("solution") == []  # this run's: no solution given
