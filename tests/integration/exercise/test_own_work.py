"""A learner checks their own solution anywhere: no bubblewrap needed for their own code,
while `sfnlab grade` keeps the sandbox for other people's."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.grading import grading_stack
from sfnlab.grading.own_work import NO_SANDBOX
from sfnlab.settings import PROJECT_ROOT


@pytest.fixture
def no_bubblewrap(monkeypatch):
    """A machine without bubblewrap (macOS, Windows, most laptops)."""
    monkeypatch.setattr(grading_stack, "find_bwrap", lambda: None)


@pytest.fixture
def sfnlab(localstack, deployment, monkeypatch):
    monkeypatch.setenv("SFNLAB_ENDPOINT", localstack.endpoint)
    monkeypatch.setenv("SFNLAB_INBOX_URL", localstack.inbox_url)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(localstack.state_dir))

    def run(*args: str):
        return CliRunner().invoke(main, list(args))

    return run


def solution(tmp_path, lambdas_from) -> str:
    folder = tmp_path / "my-solution"
    shutil.copytree(PROJECT_ROOT / "definitions", folder / "definitions")
    shutil.copytree(lambdas_from / "lambdas", folder / "lambdas")
    return str(folder)


def test_a_learner_checks_a_finished_solution_without_bubblewrap(no_bubblewrap, sfnlab, tmp_path):
    checked = sfnlab("check", solution(tmp_path, PROJECT_ROOT))
    assert checked.exit_code == 0, checked.output
    assert "my-solution: 100/100" in checked.stdout
    assert checked.stderr.startswith(NO_SANDBOX)


def test_points_missing_exit_1_with_the_feedback(no_bubblewrap, sfnlab, tmp_path):
    checked = sfnlab("check", solution(tmp_path, PROJECT_ROOT / "starter"))
    assert checked.exit_code == 1, checked.output
    assert "my-solution: 10/100" in checked.stdout
    assert "NotifyReviewers failed (NotImplementedError" in checked.stdout


def test_grading_others_still_needs_the_sandbox_and_says_where_to_check_your_own(
    no_bubblewrap, sfnlab, tmp_path
):
    graded = sfnlab("grade", solution(tmp_path, PROJECT_ROOT))
    assert graded.exit_code == 1
    assert "bubblewrap (bwrap), which is not installed" in graded.stderr
    assert "`sfnlab check` needs no sandbox" in graded.stderr


def test_a_missing_folder_says_how_to_make_it(sfnlab, tmp_path):
    checked = sfnlab("check", str(tmp_path / "nowhere"))
    assert checked.exit_code == 1 and "cp -r starter my-solution" in checked.stderr
