"""The PrairieLearn external grader, end to end in a folder laid out as its container: the
Dockerfile's instructions run as a script (no image can be built here), then the grader
script for each submission, /grade/student and /grade/data as PrairieLearn fills them;
every results.json checked against PrairieLearn's format."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.grading.submission import submit
from sfnlab.settings import PROJECT_ROOT
from tests.integration.platforms.conftest import (
    container_folder,
    fill_submission,
    install_environment,
    run_install,
)

SCHEMA = json.loads((PROJECT_ROOT / "schemas" / "prairielearn-results.schema.json").read_text())
pytestmark = pytest.mark.localstack


def run_dockerfile(context: Path, env: dict[str, str], log: Path) -> None:
    """The Dockerfile's instructions as a script: ENV sets (unless the test set it), COPY
    copies from the build context, RUN runs in bash. Any other instruction fails."""
    for line in context.joinpath("Dockerfile").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction == "FROM":
            continue
        if instruction == "ENV":
            name, _, value = rest.partition("=")
            env.setdefault(name, value)
        elif instruction == "COPY":
            *sources, target = (
                re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], word)
                for word in shlex.split(rest)
            )
            for source in sources:
                destination = Path(target) / source if target.endswith("/") else Path(target)
                destination.parent.mkdir(parents=True, exist_ok=True)
                if (context / source).is_dir():
                    shutil.copytree(context / source, destination)
                else:
                    shutil.copy2(context / source, destination)
        elif instruction == "RUN":
            run_install(["bash", "-c", rest], env, log)
        else:
            raise AssertionError(f"the test does not run {instruction} instructions")


@pytest.fixture(scope="module")
def grader(tmp_path_factory) -> Path:
    """The container's root: /opt/sfnlab as the image holds it, /grade as a job fills it."""
    root = container_folder("sfnlab-prairielearn-")
    made = tmp_path_factory.mktemp("made")
    result = CliRunner().invoke(main, ["autograder", "prairielearn", "-o", str(made)])
    assert result.exit_code == 0, result.output
    env = install_environment({"SFNLAB_INSTALL": str(root / "opt" / "sfnlab")})
    run_dockerfile(made / "image", env, root / "build.log")
    yield root
    shutil.rmtree(root, ignore_errors=True)


# In a new network namespace: loopback up, nothing else, then the grader script.
NO_NETWORK = 'ip link set lo up 2>/dev/null || ifconfig lo up; exec "$0"'


def grade(root: Path, kind: str, *, as_data: bool = False, wrapper: list[str] = ()) -> dict:
    grade_dir = root / "grade"
    shutil.rmtree(grade_dir, ignore_errors=True)
    student = grade_dir / "student"
    scratch = root / "scratch"
    fill_submission(kind, scratch, grade_dir / "results" / "results.json")
    student.mkdir(parents=True)
    (grade_dir / "data").mkdir()
    data = {"params": {}, "submitted_answers": {}}
    if kind != "empty":
        archive = submit(scratch, root / "submission.zip").zip_path
        if as_data:  # the file as the element posts it, in data.json only
            content = base64.b64encode(archive.read_bytes()).decode()
            data["submitted_answers"]["_files"] = [{"name": "submission.zip", "contents": content}]
        else:
            shutil.copy(archive, student / "submission.zip")
    (grade_dir / "data" / "data.json").write_text(json.dumps(data))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFNLAB_", "VIRTUAL_ENV"))}
    env.update(SFNLAB_PLATFORM_ROOT=str(grade_dir), SFNLAB_INSTALL=str(root / "opt" / "sfnlab"))
    done = subprocess.run(
        [str(root / "opt" / "sfnlab" / "grade")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results_file = grade_dir / "results" / "results.json"
    assert results_file.stat().st_size <= 1_000_000
    results = json.loads(results_file.read_text())
    jsonschema.validate(results, SCHEMA)
    return results


def test_a_correct_submission_scores_full_marks(grader):
    results = grade(grader, "correct")
    assert results["gradable"] is True and results["score"] == 1.0, results.get("output")
    assert [t["points"] for t in results["tests"]] == [t["max_points"] for t in results["tests"]]


def test_a_broken_submission_scores_what_it_earned(grader):
    results = grade(grader, "broken")
    assert results["gradable"] is True and 0 < results["score"] < 1
    missed = [t["name"] for t in results["tests"] if t["points"] < t["max_points"]]
    assert "Every Lambda returns at least the payload it received" in missed


def test_an_empty_submission_is_not_gradable_and_costs_no_attempt(grader):
    results = grade(grader, "empty")
    assert results["gradable"] is False and "score" not in results
    assert "definitions/SolveIssueStepFunction.json is missing" in results["format_errors"]


def test_a_hostile_submission_scores_what_it_earned_as_its_own_doing(grader):
    results = grade(grader, "hostile")
    assert results.get("output") != "hacked" and results["gradable"] is True
    stopped = "Your solution's code stopped the grading LocalStack" in results["output"]
    assert results["score"] == (0.1 if stopped else 1.0), results["output"]


def test_files_given_only_in_data_json_are_graded(grader):
    results = grade(grader, "correct", as_data=True)
    assert results["gradable"] is True and results["score"] == 1.0, results.get("output")


def test_the_grader_needs_no_network(grader):
    """Graded in a network namespace holding only its own loopback, as PrairieLearn runs
    external graders (no network): the correct submission still scores full marks."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare to take the network away")
    results = grade(grader, "correct", wrapper=["unshare", "--net", "sh", "-c", NO_NETWORK])
    assert results["gradable"] is True and results["score"] == 1.0, results.get("output")
