"""The Gradescope autograder, end to end in a folder laid out as Gradescope's container:
the zip unpacked into source/, setup.sh run as the image build runs it, run_autograder
run for each submission; every results.json checked against Gradescope's format."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.settings import PROJECT_ROOT
from tests.integration.platforms.conftest import (
    container_folder,
    failing_bwrap,
    fill_submission,
    install_environment,
    run_install,
)

SCHEMA = json.loads((PROJECT_ROOT / "schemas" / "gradescope-results.schema.json").read_text())
pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    """/autograder, after Gradescope built the image from the kit's zip."""
    root = container_folder("sfnlab-gradescope-")
    made = tmp_path_factory.mktemp("made") / "autograder.zip"
    result = CliRunner().invoke(main, ["autograder", "gradescope", "-o", str(made)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(made) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder", "install-kit.sh"):
        (root / "source" / script).chmod(0o755)
    run_install(
        ["bash", str(root / "source" / "setup.sh")], install_environment(), root / "setup.log"
    )
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope does
    yield root
    shutil.rmtree(root, ignore_errors=True)


def own_processes() -> list[str]:
    """A process namespace of the run's own, as a container has: where bubblewrap cannot
    run, the container is the sandbox, and the hostile code (which kills every LocalStack
    it can see) must not see this suite's LocalStack."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to give the run processes of its own")
    return ["unshare", "--pid", "--fork", "--mount-proc"]


def run_autograder(root: Path, kind: str, extra_path: Path | None = None) -> dict:
    fill_submission(kind, root / "submission", root / "results" / "results.json")
    shutil.rmtree(root / "results", ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFNLAB_", "VIRTUAL_ENV"))}
    env["SFNLAB_PLATFORM_ROOT"] = str(root)
    if extra_path is not None:
        env["PATH"] = f"{extra_path}{os.pathsep}{env['PATH']}"
    command = [str(root / "run_autograder")]
    if extra_path is not None:
        command = [*own_processes(), *command]
    done = subprocess.run(
        command,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    results["stdout"] = done.stdout
    return results


def test_a_correct_submission_scores_100(autograder):
    results = run_autograder(autograder, "correct")
    assert results["score"] == 100.0, results["output"]
    assert [t["status"] for t in results["tests"]] == ["passed"] * 9
    assert "Sandbox: each Lambda runs in bubblewrap" in results["stdout"]


def test_a_broken_submission_scores_what_it_earned_with_feedback(autograder):
    results = run_autograder(autograder, "broken")
    failed = {t["tags"][0]: t["output"] for t in results["tests"] if t["status"] == "failed"}
    assert set(failed) == {"returns_payload", "ops_message"} or "returns_payload" in failed
    assert 0 < results["score"] < 100 and results["extra_data"]["sfnlab"]["graded"]


def test_an_empty_submission_scores_0_and_says_what_is_missing(autograder):
    results = run_autograder(autograder, "empty")
    assert results["score"] == 0.0 and results["extra_data"]["sfnlab"]["graded"]
    assert "definitions/SolveIssueStepFunction.json is missing" in results["output"]
    assert {t["visibility"] for t in results["tests"]} == {"visible"}


def test_a_hostile_submission_scores_what_it_earned_as_its_own_doing(autograder):
    results = run_autograder(autograder, "hostile")
    assert results["output"] != "hacked" and results["extra_data"]["sfnlab"]["graded"]
    stopped = "Your solution's code stopped the grading LocalStack" in results["output"]
    # It stops LocalStack where LocalStack still obeys /_localstack/health; then only the
    # definition was judged. Where it cannot, it is graded as it stands: a correct solution.
    assert results["score"] == (10.0 if stopped else 100.0), results["output"]


def test_where_bubblewrap_cannot_run_the_container_is_the_sandbox(autograder, tmp_path):
    results = run_autograder(autograder, "hostile", extra_path=failing_bwrap(tmp_path / "bin"))
    assert "Sandbox: bubblewrap cannot build" in results["stdout"] or (
        "Sandbox: no sandbox" in results["stdout"]
    )
    assert results["extra_data"]["sfnlab"]["graded"], results["output"]
    assert results["output"] != "hacked"  # the grader writes last
    if "stopped the grading LocalStack" in results["output"] or "was killed" in results["output"]:
        assert results["score"] == 10.0
    else:
        assert results["score"] == 100.0
