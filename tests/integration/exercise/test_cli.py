"""The exercise step by step from the command line, as the README shows it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sfnlab.aws import client
from sfnlab.cli import main
from sfnlab.config import PROJECT_ROOT
from sfnlab.deploy import deploy_state_machine


@pytest.fixture
def sfnlab(localstack, deployment, monkeypatch):
    """Run `sfnlab ...` against the session's LocalStack and inbox."""
    monkeypatch.setenv("SFNLAB_ENDPOINT", localstack.endpoint)
    monkeypatch.setenv("SFNLAB_INBOX_URL", localstack.inbox_url)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(localstack.state_dir))

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    return run


def started_name(output: str) -> str:
    return output.split("Started ", 1)[1].split()[0]


def test_start_token_approve_status_graph(sfnlab, tmp_path):
    name = started_name(sfnlab("start"))
    token = sfnlab("token", "--wait", "--execution", name).strip().splitlines()[-1]
    assert len(token) >= 16 and " " not in token
    assert sfnlab("approve", "--token", token).strip() == "Approved by bob: Looks good to me"
    status = sfnlab("status", name)
    assert status.startswith(f"{name}: ")  # SUCCEEDED, or still on its way
    picture = tmp_path / "picture.svg"
    graph = sfnlab("graph", name, "--output", str(picture))
    assert "CreateCode" in graph and picture.read_text().startswith("<svg")


def test_reject_names_the_reviewer(sfnlab):
    name = started_name(sfnlab("start"))
    sfnlab("token", "--wait", "--execution", name)
    decided = sfnlab("reject", "--execution", name, "--reviewer", "carol", "--comment", "no")
    assert decided.strip() == "Rejected by carol: no"


def test_deploy_reports_what_it_left_alone(sfnlab):
    output = sfnlab("deploy")
    assert "0 changed." in output and "unchanged" in output


def test_smoke_runs_a_lambda(sfnlab):
    output = sfnlab("smoke")
    assert '"message": "Hello from Lambda"' in output and "REPORT RequestId" in output


def test_graph_finds_an_execution_of_another_machine_by_name(sfnlab, localstack):
    machine = "SolveIssueTwoReviewersCli"
    arn = deploy_state_machine(
        localstack, machine, PROJECT_ROOT / "definitions" / "TwoReviewersStepFunction.json"
    )
    execution = client("stepfunctions", localstack).start_execution(stateMachineArn=arn)
    name = execution["executionArn"].rsplit(":", 1)[1]
    output = sfnlab("graph", name, "--machine", machine)
    assert output.startswith(f"{machine}: {name}") and "AskBothReviewers" in output
    client("stepfunctions", localstack).stop_execution(executionArn=execution["executionArn"])
