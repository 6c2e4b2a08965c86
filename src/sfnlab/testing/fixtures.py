"""The fixtures the whole suite shares, the plugins' tests included: a pytest plugin,
loaded by the `-p` option in pyproject.toml.

The `localstack` fixture starts one embedded LocalStack for the test process (the
session, or one worker of a parallel run), on a free port with its own state folder,
exactly as `sfnlab up` does; tests that do not ask for it never start LocalStack.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from localstack_process_executor.interpreters import Interpreter
from sfnlab.deploy.functions import wait_until_ready
from sfnlab.deploy.resources import deploy
from sfnlab.lab import lifecycle
from sfnlab.localstack.install import ensure_runtime_env, recorded_install
from sfnlab.settings import PROJECT_ROOT, Settings, load_settings
from sfnlab.support.aws import client
from sfnlab.testing.functions import zip_files
from sfnlab.testing.settings import settings_for

LAMBDA_ROLE = "arn:aws:iam::000000000000:role/sfnlab-test-lambda"


@pytest.fixture(scope="session")
def lambda_interpreter() -> Interpreter:
    """The interpreter of the embedded LocalStack (its virtualenv is made on first use).

    It is also the one Python the session's LocalStack offers to Lambda functions.
    """
    settings = load_settings()
    ensure_runtime_env(settings)
    record = recorded_install(settings.runtime_venv)
    assert record is not None, "the embedded LocalStack's virtualenv records its interpreter"
    return record[0]


@pytest.fixture(scope="session")
def lambda_python_version(lambda_interpreter: Interpreter) -> tuple[int, int]:
    return lambda_interpreter.version


@pytest.fixture(scope="session")
def localstack(tmp_path_factory: pytest.TempPathFactory, lambda_interpreter) -> Iterator[Settings]:
    """One embedded LocalStack for the session, on a free port with its own state folder.

    Its Lambda executor may use one folder of interpreters only: the bin folder of the
    embedded LocalStack's virtualenv. So the tests know which `pythonX.Y` runtimes exist
    here, and that interpreter has `requests` and more in its site-packages: a function
    must not see them.
    """
    settings = settings_for(tmp_path_factory.mktemp("localstack-state"))
    try:
        with pytest.MonkeyPatch.context() as environment:  # `sfnlab up` hands it on
            environment.setenv("PROCESS_EXECUTOR_PYTHON_DIRS", str(settings.runtime_venv / "bin"))
            lifecycle.up(settings)
        yield settings
    finally:  # also when the start was cut short (a timeout, say): nothing left running
        lifecycle.down(settings)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where a test run leaves what a person may want to look at: screenshots, notebooks."""
    folder = Path(os.environ.get("SFNLAB_TEST_OUTPUT") or PROJECT_ROOT / "test-output")
    for sub in ("notebooks", "screenshots"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def deployment(localstack: Settings):
    """The kit's own SolveIssue, deployed once into the session's LocalStack."""
    return deploy(localstack)


@pytest.fixture(scope="session")
def lambda_client(localstack: Settings):
    return client("lambda", localstack)


@pytest.fixture(scope="session")
def sfn_client(localstack: Settings):
    return client("stepfunctions", localstack)


@pytest.fixture(scope="session")
def logs_client(localstack: Settings):
    return client("logs", localstack)


@pytest.fixture
def create_function(lambda_client, lambda_python_version) -> Iterator[Callable[..., str]]:
    """Factory: create a Lambda from source text, wait until it is ready, delete it after.

    `create_function(source)` puts `source` in `lambda_function.py` with handler
    `lambda_function.handler`; pass `files=` for several files. The runtime defaults
    to the Python version the session's LocalStack offers.
    """
    created: list[str] = []

    def factory(
        source: str | None = None,
        *,
        files: dict[str, str] | None = None,
        handler: str = "lambda_function.handler",
        runtime: str | None = None,
        timeout: int = 10,
        environment: dict[str, str] | None = None,
        wait: bool = True,
    ) -> str:
        name = f"test-{uuid.uuid4().hex[:10]}"
        code = zip_files(files or {"lambda_function.py": source or ""})
        lambda_client.create_function(
            FunctionName=name,
            Runtime=runtime or "python{}.{}".format(*lambda_python_version),
            Role=LAMBDA_ROLE,
            Handler=handler,
            Code={"ZipFile": code},
            Timeout=timeout,
            Environment={"Variables": environment or {}},
        )
        created.append(name)
        if wait:
            wait_until_ready(lambda_client, name)
        return name

    yield factory
    for name in created:
        # A test may have deleted its function already; the session's LocalStack is
        # thrown away anyway.
        with contextlib.suppress(ClientError):
            lambda_client.delete_function(FunctionName=name)
