"""Run LocalStack's own AWS-validated tests against the kit's embedded LocalStack.

LocalStack records what AWS answered for each test marked `aws.validated` (the
`*.snapshot.json` beside it); run against the embedded LocalStack, whose Lambdas run as
local processes, those tests say where the process executor behaves as AWS does. The
selections:

- `nodejs`: the AWS-validated tests of `tests/aws/services/lambda_/` that run Node.js
  code (a `nodejs*` runtime in the test's id or in its source), on every Node.js runtime;
- `bytes`: Step Functions' `test_invoke_bytes_payload` (Lambda task and Lambda service
  integration: a Python handler returning bytes).

Give it a checkout of LocalStack at the release the kit embeds (this script downloads no
code of LocalStack's); its tests' own tools are installed on first use into
`.sfnlab/localstack-tests-venv` from `requirements/` (as the embedded LocalStack's
virtualenv is):

    git clone --depth 1 --branch v4.14.0 https://github.com/localstack/localstack /tmp/localstack
    .sfnlab/venv/bin/python benchmarks/localstack_aws_tests.py /tmp/localstack --select nodejs

It starts an embedded LocalStack of its own (its own port and state folder, all services
the tests need), runs pytest in the checkout against it with
TEST_SKIP_LOCALSTACK_START=1, prints each test's outcome and the tally, and stops it.
Arguments after `--` go to pytest (`-- -k echo -x`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sfnlab.lab import lifecycle
from sfnlab.localstack.install import (
    ensure_runtime_env,
    recorded_install,
    uv_command,
    uv_environment,
)
from sfnlab.settings import PROJECT_ROOT, load_settings
from sfnlab.testing.settings import settings_for

REQUIREMENTS = PROJECT_ROOT / "requirements"
SELECTION_PLUGIN = "localstack_aws_tests_selection"
SELECTIONS = {
    "nodejs": [
        "tests/aws/services/lambda_/",
        # These build their resources with the AWS CDK (aws-cdk-lib, not installed); none
        # of their tests runs Node.js code.
        "--ignore=tests/aws/services/lambda_/test_lambda_destinations.py",
        "--ignore=tests/aws/services/lambda_/event_source_mapping",
    ],
    "bytes": [
        "tests/aws/services/stepfunctions/v2/services/test_lambda_task.py"
        "::TestTaskLambda::test_invoke_bytes_payload",
        "tests/aws/services/stepfunctions/v2/services/test_lambda_task_service.py"
        "::TestTaskServiceLambda::test_invoke_bytes_payload",
    ],
}
# What the Lambda tests use besides the services the kit starts by default.
SERVICES = "cloudformation,cloudwatch,events,iam,lambda,logs,s3,sqs,sns,ssm,stepfunctions,sts,kms"


def tests_venv() -> Path:
    """The tests' virtualenv (LocalStack and its test tools), made on first use."""
    settings = load_settings()
    ensure_runtime_env(settings)
    interpreter, _ = recorded_install(settings.runtime_venv)
    venv = settings.home / "localstack-tests-venv"
    stamp = venv / ".requirements"
    wanted = "".join(
        (REQUIREMENTS / name).read_text()
        for name in ("localstack-runtime.txt", "localstack-tests.txt")
    )
    if stamp.is_file() and stamp.read_text() == wanted:
        return venv
    environment = uv_environment(settings)
    subprocess.run(
        [*uv_command(), "venv", "--clear", "--quiet", "--python", interpreter.path, str(venv)],
        check=True,
        env=environment,
    )
    subprocess.run(
        [
            *uv_command(),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "-r",
            str(REQUIREMENTS / "localstack-runtime.txt"),
            "-r",
            str(REQUIREMENTS / "localstack-tests.txt"),
        ],
        check=True,
        env=environment,
    )
    stamp.write_text(wanted)
    return venv


def run(checkout: Path, selection: str, pytest_arguments: list[str]) -> int:
    venv = tests_venv()
    with tempfile.TemporaryDirectory() as state:
        settings = settings_for(Path(state))
        previous = os.environ.get("SERVICES")
        os.environ["SERVICES"] = SERVICES
        try:
            lifecycle.up(settings)
        finally:
            os.environ.pop("SERVICES")
            if previous is not None:
                os.environ["SERVICES"] = previous
        try:
            host = settings.endpoint.removeprefix("http://")
            environment = {
                **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SFNLAB"))},
                "TEST_SKIP_LOCALSTACK_START": "1",
                "TEST_AWS_ENDPOINT_URL": settings.endpoint,
                "LOCALSTACK_HOST": host,
                "GATEWAY_LISTEN": host,
                "PYTHONPATH": str(Path(__file__).resolve().parent),
                "LOCALSTACK_AWS_TESTS_SELECTION": selection,
            }
            command = [
                str(venv / "bin" / "python"),
                "-m",
                "pytest",
                "-p",
                SELECTION_PLUGIN,
                "-p",
                "no:cacheprovider",
                "-o",
                "log_level=WARNING",
                "-rA",
                "--tb=short",
                "--show-capture=no",
                *SELECTIONS[selection],
                *pytest_arguments,
            ]
            print("$", " ".join(command), flush=True)
            return subprocess.run(command, cwd=checkout, env=environment).returncode
        finally:
            lifecycle.down(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a checkout of localstack/localstack")
    parser.add_argument("--select", choices=sorted(SELECTIONS), default="nodejs")
    arguments, pytest_arguments = parser.parse_known_args()
    if pytest_arguments[:1] == ["--"]:
        pytest_arguments = pytest_arguments[1:]
    if not (arguments.checkout / "tests" / "aws" / "services" / "lambda_").is_dir():
        parser.error(f"{arguments.checkout} is not a checkout of localstack/localstack")
    sys.exit(run(arguments.checkout.resolve(), arguments.select, pytest_arguments))


if __name__ == "__main__":
    main()
