"""After a crash or `sfnlab down`/`up`, every command says what happened; none shows a
traceback. LocalStack keeps everything in memory, so a restart forgets the deployment,
the executions and their tokens, while the inbox still holds their notifications."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.deploy.remembered import remember
from sfnlab.deploy.resources import deploy
from sfnlab.inbox.service import ensure_inbox, stop_inbox
from sfnlab.lab import lifecycle
from sfnlab.testing.settings import settings_for
from sfnlab.testing.waiting import wait_for
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution


def cli(settings, *args: str):
    env = {
        "SFNLAB_ENDPOINT": settings.endpoint,
        "SFNLAB_INBOX_URL": settings.inbox_url,
        "SFNLAB_STATE_DIR": str(settings.state_dir),
    }
    result = CliRunner().invoke(main, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture(scope="module")
def crashed(tmp_path_factory, lambda_interpreter):
    """A LocalStack with SolveIssue deployed and an execution waiting, killed (-9), then
    brought back with `sfnlab up`; what `status` said in between is kept."""
    settings = settings_for(tmp_path_factory.mktemp("crash") / "state")
    try:
        first = lifecycle.up(settings)
        remember(settings, deploy(settings).request)  # as `sfnlab deploy` does
        old = execution.start(settings)
        old_review = approval.find_review(settings, old.name, wait=True)
        # What the starter tells learners to send: a token, no executionArn.
        requests.post(
            f"{settings.inbox_url}/reviewers",
            json={"taskToken": "5f0e9c1e-0000-4000-8000-000000000000", "execution": "mine-1"},
            timeout=5,
        )
        os.killpg(first.pid, signal.SIGKILL)
        assert wait_for(lambda: lifecycle.status(settings).crashed is not None)
        status_after_crash = cli(settings, "status")
        up_after_crash = cli(settings, "up")
        yield {
            "settings": settings,
            "old": old,
            "old_review": old_review,
            "status": status_after_crash,
            "up": up_after_crash,
        }
    finally:  # also when the setup was cut short (a timeout, say): nothing left running
        lifecycle.down(settings)


def test_status_tells_a_crash_from_a_clean_stop_and_points_at_the_log(crashed):
    result = crashed["status"]
    assert result.exit_code == 3
    settings = crashed["settings"]
    assert "no: it crashed or was killed (not stopped by sfnlab down)" in result.stdout
    assert str(settings.log_file) in result.stdout


def test_up_after_a_crash_says_what_is_gone_and_deploys_it_again(crashed):
    result = crashed["up"]
    assert result.exit_code == 0, result.output
    assert "stopped without `sfnlab down`: it crashed or was killed" in result.stderr
    assert "LocalStack no longer has SolveIssue" in result.stderr
    assert "every execution" in result.stderr
    assert "Deploying SolveIssue again" in result.stderr
    settings = crashed["settings"]
    assert execution.state_machine_arn(settings)  # deployed again
    again = cli(settings, "up")  # nothing lost this time: nothing to say or deploy
    assert again.exit_code == 0 and "no longer has" not in again.stderr


def test_token_of_a_forgotten_execution_exits_4_and_says_why(crashed):
    result = cli(crashed["settings"], "token", "--execution", crashed["old"].name)
    assert result.exit_code == 4
    assert result.stdout == ""  # no dead token handed out
    assert f"Execution {crashed['old'].name} does not exist" in result.stderr
    assert "LocalStack was restarted at" in result.stderr


def test_token_skips_forgotten_and_unnamed_notifications(crashed):
    settings = crashed["settings"]
    nothing = cli(settings, "token")
    assert nothing.exit_code == 1
    assert "No execution is waiting for a review" in nothing.stderr
    assert "1 execution(s) with a notification in the inbox no longer exist" in nothing.stderr
    assert "1 notification(s) name no executionArn" in nothing.stderr
    fresh = execution.start(settings)
    approval.find_review(settings, fresh.name, wait=True)
    found = cli(settings, "token")
    assert found.exit_code == 0 and f"execution {fresh.name}" in found.stderr
    decided = cli(settings, "approve")
    assert decided.exit_code == 0 and decided.stdout.startswith("Approved by")
    assert execution.wait_for_end(settings, fresh.arn).status == "SUCCEEDED"


def test_approving_with_a_token_from_before_the_crash_says_why(crashed):
    token = crashed["old_review"].token
    result = cli(crashed["settings"], "approve", "--token", token)
    assert result.exit_code == 4
    assert "does not exist" in result.stderr and "LocalStack was restarted" in result.stderr


def test_approve_by_token_works_with_the_inbox_down(crashed):
    settings = crashed["settings"]
    started = execution.start(settings)
    review = approval.find_review(settings, started.name, wait=True)
    stop_inbox(settings)
    try:
        result = cli(settings, "approve", "--token", review.token)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Approved by")
        assert "The inbox is not reachable" in result.stderr
        assert "Nothing the inbox stored is lost" in result.stderr
        moved_on = execution.wait(settings, started.arn, lambda e: e.waiting_at is None)
        assert moved_on.path[2].name == "NotifyReviewers"
        assert moved_on.path[2].outcome == "succeeded"
    finally:
        ensure_inbox(settings)


def test_a_clean_stop_is_told_apart_and_up_restores_the_deployment(tmp_path: Path):
    settings = settings_for(tmp_path / "state")
    try:
        lifecycle.up(settings)
        remember(settings, deploy(settings).request)
        assert cli(settings, "down").exit_code == 0
        stopped = cli(settings, "status")
        assert stopped.exit_code == 3
        assert "no: stopped by sfnlab down at" in stopped.stdout
        assert "crashed" not in stopped.stdout
        up = cli(settings, "up")
        assert up.exit_code == 0
        assert "crashed" not in up.stderr
        assert "LocalStack no longer has SolveIssue" in up.stderr
        assert execution.state_machine_arn(settings)
    finally:
        lifecycle.down(settings)
