"""`sfnlab deploy --stack`, then the exercise step by step from the command line.

On a LocalStack of its own: the commands use LocalStack's default account, where the
rest of the suite keeps the kit's own deployment.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.lab import lifecycle
from sfnlab.testing.settings import settings_for
from sfnlab.testing.waiting import wait_for


@pytest.fixture(scope="module")
def own_localstack(tmp_path_factory, lambda_interpreter):
    settings = settings_for(tmp_path_factory.mktemp("stack-cli-state"))
    lifecycle.up(settings)
    yield settings
    lifecycle.down(settings)


@pytest.fixture
def sfnlab(own_localstack, monkeypatch, tmp_path):
    """Run `sfnlab ...` against that LocalStack and its inbox; returns (exit code, output)."""
    monkeypatch.setenv("SFNLAB_ENDPOINT", own_localstack.endpoint)
    monkeypatch.setenv("SFNLAB_INBOX_URL", own_localstack.inbox_url)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(own_localstack.state_dir))
    monkeypatch.setenv("SFNLAB_HOME", str(tmp_path / "home"))  # where the build goes
    monkeypatch.delenv("SFNLAB_LAMBDA_INBOX_URL", raising=False)

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args))
        return result.exit_code, result.output

    return run


def test_deploy_stack_then_start_token_approve_status(sfnlab):
    code, first = sfnlab("deploy", "--stack")
    assert code == 0, first
    assert "Stack sfnlab-solve-issue created" in first
    assert "stateMachine:SolveIssue" in first and "sfnlab-approve-step-with-token" in first
    code, again = sfnlab("deploy", "--stack")
    assert code == 0 and "Stack sfnlab-solve-issue unchanged, 0 changed." in again

    code, started = sfnlab("start")
    assert code == 0, started
    name = started.split("Started ", 1)[1].split()[0]
    code, token = sfnlab("token", "--wait", "--execution", name)
    assert code == 0, token
    code, approved = sfnlab("approve", "--token", token.strip().splitlines()[-1])
    assert (code, approved.strip()) == (0, "Approved by bob: Looks good to me")
    assert wait_for(lambda: sfnlab("status", name)[1].startswith(f"{name}: SUCCEEDED"))

    code, refused = sfnlab("deploy")
    assert code == 1
    assert "made by a CloudFormation stack" in refused and "Traceback" not in refused
