"""`sam deploy` takes template.yaml at the kit's root as it is (AWS SAM CLI from PyPI, in a
virtualenv of its own, pinned by requirements/sam-cli.txt), pointed at the embedded
LocalStack with AWS_ENDPOINT_URL; the stack it makes approves through the page behind
the reviewers' link."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sfnlab.deploy.resources import lambda_inbox_url
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client
from sfnlab.workflow import approval_links
from sfnlab.workflow import executions as execution
from tests.integration.exercise.test_approval_link import waiting_message
from tests.integration.stack.test_template_as_is import awslocal

STACK = "sfnlab-sam-as-is"
BUCKET = "sfnlab-sam-artifacts"
MACHINE = "SamSolveIssue"
LOCK = PROJECT_ROOT / "requirements" / "sam-cli.txt"


@pytest.fixture(scope="session")
def sam() -> Path:
    """The `sam` command, installed once into .sfnlab/sam-venv from the lock."""
    venv = PROJECT_ROOT / ".sfnlab" / "sam-venv"
    marker = venv / "installed-from.txt"
    if not marker.exists() or marker.read_text() != LOCK.read_text():
        uv = Path(sys.executable).parent / "uv"
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        subprocess.run(
            [str(uv), "venv", "-q", "--clear", "-p", sys.executable, str(venv)], check=True, env=env
        )
        subprocess.run(
            [str(uv), "pip", "install", "-q", "-p", str(venv / "bin" / "python"), "-r", str(LOCK)],
            check=True,
            env=env,
        )
        marker.write_text(LOCK.read_text())
    return venv / "bin" / "sam"


@pytest.fixture(scope="module")
def sam_stack(localstack, sam):
    awslocal(localstack, "s3", "mb", f"s3://{BUCKET}")
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": localstack.endpoint,
        "AWS_ACCESS_KEY_ID": "000000000000",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": localstack.region,
        "SAM_CLI_TELEMETRY": "0",
    }
    env.pop("AWS_PROFILE", None)
    done = subprocess.run(
        [
            str(sam),
            "deploy",
            "--stack-name",
            STACK,
            "--s3-bucket",
            BUCKET,
            "--capabilities",
            "CAPABILITY_IAM",
            "CAPABILITY_AUTO_EXPAND",
            "--no-confirm-changeset",
            "--parameter-overrides",
            f"RequestCatcherUrl={lambda_inbox_url(localstack)}",
            "NamePrefix=sam-",
            f"StateMachineName={MACHINE}",
            f"LocalStackEndpoint={localstack.endpoint}",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    stack = client("cloudformation", localstack).describe_stacks(StackName=STACK)["Stacks"][0]
    yield {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    awslocal(localstack, "cloudformation", "delete-stack", "--stack-name", STACK)
    awslocal(localstack, "cloudformation", "wait", "stack-delete-complete", "--stack-name", STACK)


def test_sam_deploys_the_template_and_its_link_approves(localstack, sam_stack):
    assert sam_stack["ApprovalLinkUrl"].startswith(f"{localstack.endpoint}/restapis/")
    started = execution.start(localstack, machine=MACHINE)
    message = waiting_message(localstack, started)
    assert message["links"]["approve"].startswith(sam_stack["ApprovalLinkUrl"] + "?")
    approval_links.preview_links(message)
    assert execution.describe(localstack, started.arn).waiting_at == "NotifyReviewers"
    page = approval_links.press_the_button(message["links"]["approve"], reviewer="sam")
    assert page.title == "Approved: the execution goes on"
    ended = execution.wait_for_end(localstack, started.arn)
    assert ended.status == "SUCCEEDED"
    described = client("stepfunctions", localstack).describe_state_machine(
        stateMachineArn=sam_stack["StateMachineArn"]
    )
    review = json.loads(described["definition"])["States"]["NotifyReviewers"]
    assert (review["TimeoutSeconds"], review["HeartbeatSeconds"]) == (86400, 3600)
