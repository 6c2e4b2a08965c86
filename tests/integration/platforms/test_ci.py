"""The CI workflows' own steps, run as the runner runs them, in a folder laid out as its
workspace: the learner's repository checked out, the kit cloned from its repository (a
local one here), installed, and the solution graded; the job fails below the score the
instructor set, and the GitHub job summary gets the score and the feedback."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.grading.platforms.packages import kit_files
from sfnlab.settings import PROJECT_ROOT
from tests.integration.platforms.conftest import (
    container_folder,
    fill_submission,
    install_environment,
)

pytestmark = pytest.mark.localstack


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=kit", "-c", "user.email=kit@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def workspace() -> Path:
    """The kit's repository (its source, committed on `main`), and a runner's workspace
    with the learner's repository checked out in solution/ and a sudo that runs as is."""
    root = container_folder("sfnlab-ci-")
    kit = root / "kit-repository"
    for relative in kit_files():
        (kit / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / relative, kit / relative)
    git("init", "--quiet", "--initial-branch=main", cwd=kit)
    git("add", ".", cwd=kit)
    git("commit", "--quiet", "-m", "kit", cwd=kit)
    (root / "bin").mkdir()
    (root / "bin" / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    (root / "bin" / "sudo").chmod(0o755)
    (root / "workspace").mkdir()
    yield root
    shutil.rmtree(root, ignore_errors=True)


def steps(workspace: Path, min_score: int) -> list[dict]:
    result = CliRunner().invoke(
        main,
        [
            "autograder",
            "ci",
            "-o",
            str(workspace / "template"),
            "--kit-repository",
            f"file://{workspace / 'kit-repository'}",
            "--min-score",
            str(min_score),
        ],
    )
    assert result.exit_code == 0, result.output
    workflow = workspace / "template" / ".github" / "workflows" / "sfnlab-grade.yml"
    job = yaml.safe_load(workflow.read_text())["jobs"]["grade"]
    return [dict(step, env=job["env"]) for step in job["steps"] if "run" in step]


def run_step(step: dict, workspace: Path, summary: Path) -> subprocess.CompletedProcess:
    env = install_environment({**step["env"], "GITHUB_STEP_SUMMARY": str(summary)})
    env["PATH"] = f"{workspace / 'bin'}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=workspace / "workspace",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_github_workflow_installs_grades_and_fails_below_the_threshold(workspace):
    install, grade = steps(workspace, min_score=100)
    summary = workspace / "summary.md"
    done = run_step(install, workspace, summary)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    solution = workspace / "workspace" / "solution"
    fill_submission("correct", solution, workspace / "unused")
    done = run_step(grade, workspace, summary)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert summary.read_text().startswith("## solution: 100/100")
    assert (workspace / "workspace" / "sfnlab-reports" / "junit.xml").is_file()

    fill_submission("broken", solution, workspace / "unused")
    done = run_step(grade, workspace, summary)
    assert done.returncode == 1, done.stdout[-3000:]  # below 100: the job fails
    assert "\n## solution: " in summary.read_text()  # both runs' summaries are there

    _, lenient = steps(workspace, min_score=50)
    done = run_step(lenient, workspace, summary)
    assert done.returncode == 0, done.stdout[-3000:]  # the broken one scores above 50
