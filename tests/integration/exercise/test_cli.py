"""The exercise step by step from the command line, as the tutorial (docs/tutorial.md) shows it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.deploy.resources import deploy_state_machine
from sfnlab.settings import PROJECT_ROOT, load_settings
from sfnlab.support.aws import client
from sfnlab.workflow import executions as execution


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


def run_cli(*args: str):
    """`sfnlab ...` with both streams kept apart, whatever the exit status."""
    return CliRunner().invoke(main, list(args))


def test_a_long_reject_comment_is_shortened_for_display(sfnlab):
    name = started_name(sfnlab("start"))
    sfnlab("token", "--wait", "--execution", name)
    comment = "x" * 100_000
    decided = sfnlab("reject", "--execution", name, "--reviewer", "carol", "--comment", comment)
    assert decided.startswith("Rejected by carol: xxx") and len(decided) < 1000
    assert "more characters" in decided
    execution.wait_for_end(load_settings(), name)
    shown = run_cli("status", name)
    assert shown.exit_code == 0 and len(shown.stdout) < 2000
    assert "error: ReviewRejected: Rejected by carol: xxx" in shown.stdout
    assert "add --cause" in shown.stdout
    whole = run_cli("status", name, "--cause")
    assert comment in whole.stdout


def test_logs_show_a_rejection_as_the_expected_end_not_an_error(sfnlab):
    name = started_name(sfnlab("start"))
    sfnlab("token", "--wait", "--execution", name)
    sfnlab("reject", "--execution", name, "--comment", f"rejected-{name}")
    execution.wait_for_end(load_settings(), name)
    shown = sfnlab("logs", "-n", "100000")
    mine = [line for line in shown.splitlines() if f"rejected-{name}" in line]
    assert len(mine) == 1, mine
    assert " INFO " in mine[0] and " ERROR " not in mine[0]
    assert "reached its Fail state (expected by the workflow): Error=ReviewRejected" in mine[0]
    assert len(mine[0]) < 600  # not LocalStack's 2 KB dump of the state
    raw = sfnlab("logs", "-n", "100000", "--raw")
    assert any(" ERROR " in line and f"rejected-{name}" in line for line in raw.splitlines())


@pytest.fixture
def failing_machine(localstack, create_function, sfn_client):
    """A state machine whose only task raises: a real failure, not a chosen Fail state."""
    name = create_function("def handler(event, context):\n    raise RuntimeError('boom-cli')\n")
    arn = client("lambda", localstack).get_function(FunctionName=name)["Configuration"][
        "FunctionArn"
    ]
    definition = {
        "StartAt": "Boom",
        "States": {
            "Boom": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": arn, "Payload.$": "$"},
                "End": True,
            }
        },
    }
    machine = sfn_client.create_state_machine(
        name=f"Boom-{name}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::000000000000:role/sfnlab-test-states",
    )["stateMachineArn"]
    started = sfn_client.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    return execution.wait_for_end(localstack, started)


def test_status_of_a_failed_execution_shows_the_message_not_the_stack_trace(
    sfnlab, failing_machine
):
    assert failing_machine.status == "FAILED"
    shown = run_cli("status", failing_machine.arn)
    assert shown.exit_code == 0
    assert "error: RuntimeError: boom-cli" in shown.stdout
    assert "stackTrace" not in shown.stdout and "Traceback" not in shown.stdout
    whole = run_cli("status", failing_machine.arn, "--cause")
    assert "stackTrace" in whole.stdout


def test_logs_keep_a_real_failure_an_error(sfnlab, failing_machine):
    shown = sfnlab("logs", "-n", "100000")
    errors = [line for line in shown.splitlines() if "boom-cli" in line]
    assert errors and all(" ERROR " in line for line in errors)
    assert any("Error=RuntimeError" in line for line in errors)


def test_a_name_aws_refuses_is_explained_and_nothing_starts(sfnlab):
    refused = run_cli("start", "--name", "my first run")
    assert refused.exit_code != 0 and "Traceback" not in refused.output
    assert "refuses the execution name 'my first run'" in refused.output
    assert "1 to 80 characters" in refused.output
    started = client("stepfunctions", load_settings()).list_executions(
        stateMachineArn=execution.state_machine_arn(load_settings())
    )["executions"]
    assert "my first run" not in [e["name"] for e in started]
    assert started_name(sfnlab("start", "--name", "my-first-run")) == "my-first-run"


@pytest.mark.parametrize(
    ("stop", "shown"),
    [
        ({"cause": "withdrawn"}, "cause: withdrawn"),
        ({"error": "Withdrawn", "cause": "the change was dropped"}, "error: Withdrawn: the change"),
        ({}, None),
    ],
    ids=["cause-only", "error-and-cause", "neither"],
)
def test_status_of_a_stopped_execution_says_stopped_and_nothing_that_is_not_there(
    sfnlab, localstack, stop, shown
):
    name = started_name(sfnlab("start"))
    sfnlab("token", "--wait", "--execution", name)
    arn = execution.execution_arn(localstack, name)
    client("stepfunctions", localstack).stop_execution(executionArn=arn, **stop)
    execution.wait_for_end(localstack, arn)
    status = sfnlab("status", name)
    lines = status.splitlines()
    assert lines[0] == f"{name}: stopped (ABORTED)"
    review = next(line for line in lines if "NotifyReviewers" in line)
    assert review.split()[-1] == "stopped"
    assert "failed" not in status and "None" not in status
    if shown:
        assert lines[-1].startswith(shown)
    else:
        assert lines[-1] == review  # no error line at all
