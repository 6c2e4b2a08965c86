"""On a machine without Node.js: the JavaScript track says what to install, and the Python
one runs as ever. A LocalStack of its own, started with a PATH that has no `node`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.deploy.resources import deploy
from sfnlab.errors import LearnerError
from sfnlab.lab import lifecycle
from sfnlab.lab.run_exercise import run_exercise
from sfnlab.settings import Settings
from sfnlab.testing.settings import settings_for


@pytest.fixture(scope="module")
def without_node(tmp_path_factory, lambda_interpreter) -> Iterator[Settings]:
    settings = settings_for(tmp_path_factory.mktemp("no-node-state"))
    bare = tmp_path_factory.mktemp("path-without-node")
    saved = {name: os.environ.get(name) for name in ("PATH", "PROCESS_EXECUTOR_PYTHON_DIRS")}
    os.environ["PATH"] = str(bare)  # what LocalStack searches for `node`
    os.environ["PROCESS_EXECUTOR_PYTHON_DIRS"] = str(settings.runtime_venv / "bin")
    try:
        assert shutil.which("node") is None
        lifecycle.up(settings)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    yield settings
    lifecycle.down(settings)


def test_the_javascript_exercise_says_what_to_install(without_node, monkeypatch):
    monkeypatch.setenv("SFNLAB_ENDPOINT", without_node.endpoint)
    monkeypatch.setenv("SFNLAB_INBOX_URL", without_node.inbox_url)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(without_node.state_dir))
    result = CliRunner().invoke(main, ["exercise", "--language", "javascript"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    said = " ".join(result.output.split())
    assert "Runtime nodejs20.x needs Node.js, and no `node` was found." in said
    assert "Install Node.js 20 or newer (https://nodejs.org" in said


def test_the_python_path_runs_as_ever_beside_it(without_node):
    for _ in range(2):  # again over the functions whose creation failed: still said
        with pytest.raises(LearnerError, match=r"Install Node\.js 20 or newer"):
            deploy(without_node, language="javascript")
    ran = run_exercise(without_node)  # deploys the Python Lambdas over the failed ones
    assert ran.as_expected and ran.execution.status == "SUCCEEDED"
    rejected = run_exercise(without_node, approve=False)
    assert rejected.as_expected
