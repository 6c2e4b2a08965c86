"""template.yaml deploys as it is, with the plain AWS CLI: `cloudformation package` and
`cloudformation deploy` (through `scripts/awslocal`), no build step, no kit code in
between. The stack it makes runs both paths with the test events.

The stack lives beside the kit's own deployment in LocalStack's default account, under
names of its own (prefix `cli-`).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from sfnlab.deploy.definition import load_template
from sfnlab.deploy.resources import lambda_inbox_url
from sfnlab.exercise import APPROVE_EVENT, DEFINITION_FILE, INITIAL_EVENT, REJECT_EVENT
from sfnlab.settings import PROJECT_ROOT
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution

STACK = "sfnlab-cli-as-is"
BUCKET = "sfnlab-cli-artifacts"
PREFIX = "cli-"
MACHINE = "CliSolveIssue"


def awslocal(settings, *args: str, cwd: Path = PROJECT_ROOT) -> str:
    env = {**os.environ, "SFNLAB_ENDPOINT": settings.endpoint, "DISABLE_DEPRECATION_NOTICE": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "awslocal"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def cli_stack(localstack, tmp_path_factory):
    """The top-level template.yaml, packaged and deployed as an AWS user would."""
    packaged = tmp_path_factory.mktemp("cli-stack") / "packaged.yaml"
    awslocal(localstack, "s3", "mb", f"s3://{BUCKET}")
    awslocal(
        localstack,
        "cloudformation",
        "package",
        "--template-file",
        "template.yaml",
        "--s3-bucket",
        BUCKET,
        "--output-template-file",
        str(packaged),
    )
    awslocal(
        localstack,
        "cloudformation",
        "deploy",
        "--template-file",
        str(packaged),
        "--stack-name",
        STACK,
        "--capabilities",
        "CAPABILITY_IAM",
        "CAPABILITY_AUTO_EXPAND",
        "--parameter-overrides",
        f"RequestCatcherUrl={lambda_inbox_url(localstack)}",
        f"NamePrefix={PREFIX}",
        f"StateMachineName={MACHINE}",
        "ReviewTimeoutSeconds=600",
        "ReviewHeartbeatSeconds=60",
        f"LocalStackEndpoint={localstack.endpoint}",
    )
    outputs = json.loads(
        awslocal(
            localstack,
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            STACK,
            "--query",
            "Stacks[0].Outputs",
        )
    )
    yield {"packaged": packaged, **{o["OutputKey"]: o["OutputValue"] for o in outputs}}
    awslocal(localstack, "cloudformation", "delete-stack", "--stack-name", STACK)
    awslocal(localstack, "cloudformation", "wait", "stack-delete-complete", "--stack-name", STACK)


def test_cloudformation_got_the_definition_file_itself(localstack, cli_stack, tmp_path):
    packaged = cli_stack["packaged"].read_text()
    key = next(
        line.split(":", 1)[1].strip()
        for line in packaged.splitlines()[packaged.splitlines().index("      DefinitionUri:") :]
        if line.strip().startswith("Key:")
    )
    awslocal(localstack, "s3", "cp", f"s3://{BUCKET}/{key}", str(tmp_path / "definition.json"))
    assert (tmp_path / "definition.json").read_bytes() == (
        PROJECT_ROOT / DEFINITION_FILE
    ).read_bytes()


def test_the_review_times_are_the_parameters_given_as_numbers(localstack, cli_stack):
    definition = json.loads(
        awslocal(
            localstack,
            "stepfunctions",
            "describe-state-machine",
            "--state-machine-arn",
            cli_stack["StateMachineArn"],
            "--query",
            "definition",
            "--output",
            "text",
        )
    )
    review = definition["States"]["NotifyReviewers"]
    assert (review["TimeoutSeconds"], review["HeartbeatSeconds"]) == (600, 60)
    # Everything else is what the kit's own renderer makes of the same file.
    template = load_template(PROJECT_ROOT / DEFINITION_FILE)
    assert definition.keys() == template.keys()
    assert definition["States"].keys() == template["States"].keys()


def run_with_the_cli(localstack, cli_stack, approve: bool, tmp_path) -> execution.Execution:
    started = json.loads(
        awslocal(
            localstack,
            "stepfunctions",
            "start-execution",
            "--state-machine-arn",
            cli_stack["StateMachineArn"],
            "--input",
            INITIAL_EVENT.read_text(),
        )
    )
    name = started["executionArn"].rsplit(":", 1)[1]
    review = approval.find_review(localstack, name, wait=True, timeout=60)
    event = json.loads((APPROVE_EVENT if approve else REJECT_EVENT).read_text())
    event["token"] = review.token
    answer = tmp_path / "answer.json"
    awslocal(
        localstack,
        "lambda",
        "invoke",
        "--function-name",
        cli_stack["ApproveFunctionName"],
        "--payload",
        json.dumps(event),
        str(answer),
    )
    assert json.loads(answer.read_text())["decision"]["approved"] is approve
    return execution.wait_for_end(localstack, started["executionArn"])


def test_approving_runs_the_stack_to_the_end(localstack, cli_stack, tmp_path):
    ended = run_with_the_cli(localstack, cli_stack, True, tmp_path)
    assert ended.status == "SUCCEEDED", ended.failure()


def test_rejecting_ends_in_the_fail_state(localstack, cli_stack, tmp_path):
    ended = run_with_the_cli(localstack, cli_stack, False, tmp_path)
    assert (ended.status, ended.error) == ("FAILED", "ReviewRejected")
