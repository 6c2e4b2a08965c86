"""What `sfnlab autograder` writes for each platform, checked with the platforms' own
schemas and linters: the Gradescope zip's layout, the PrairieLearn Dockerfile (hadolint)
and question (its info.json), every shell script (ShellCheck), the CI files (the GitHub
workflow and GitLab CI schemas check-jsonschema ships, offline)."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from sfnlab import cli
from sfnlab.cli import main
from sfnlab.grading.platforms import gradescope
from sfnlab.grading.platforms.packages import TemplateError, kit_files, template
from sfnlab.grading.platforms.results import PLATFORM_FORMATS
from sfnlab.settings import PROJECT_ROOT

KIT_URL = "https://git.example.org/course/sfn-approval-lab.git"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is a development dependency of the kit (uv sync installs it)")
    return found


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def written(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["autograder", *args])
    assert result.exit_code == 0, result.output


def test_the_command_line_spells_the_platforms_as_they_do():
    assert cli.VISIBILITIES == gradescope.VISIBILITIES
    assert cli.PLATFORM_FORMATS == PLATFORM_FORMATS


def test_the_gradescope_zip_has_its_scripts_at_the_top_and_the_kit_inside(tmp_path):
    written(
        ["gradescope", "-o", str(tmp_path / "autograder.zip"), "--visibility", "after_due_date"]
    )
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        infos = {info.filename: info for info in archive.infolist()}
        archive.extractall(tmp_path / "unpacked")
    for script in ("setup.sh", "run_autograder", "install-kit.sh"):
        assert stat.S_IMODE(infos[script].external_attr >> 16) == 0o755
        assert stat.S_ISREG(infos[script].external_attr >> 16)
    kit = {name.removeprefix("kit/") for name in infos if name.startswith("kit/")}
    assert kit == {path.as_posix() for path in kit_files()}
    assert {"uv.lock", "requirements/localstack-runtime.txt", "scripts/kit-env.sh"} <= kit
    assert not [name for name in kit if "__pycache__" in name or ".sfnlab" in name]
    run_autograder = (tmp_path / "unpacked" / "run_autograder").read_text()
    assert "--visibility after_due_date --time-budget 300" in run_autograder
    shellcheck = tool("shellcheck")
    for script in ("setup.sh", "run_autograder", "install-kit.sh"):
        result = run(shellcheck, str(tmp_path / "unpacked" / script))
        assert result.returncode == 0, result.stdout


def test_the_prairielearn_folder_lints_and_its_question_follows_the_spec(tmp_path):
    written(["prairielearn", "-o", str(tmp_path / "pl"), "--image", "course/sfnlab-grader:1"])
    image = tmp_path / "pl" / "image"
    result = run(tool("hadolint"), "--failure-threshold", "info", str(image / "Dockerfile"))
    assert result.returncode == 0, result.stdout
    for script in ("grade", "install-kit.sh"):
        assert (image / script).stat().st_mode & 0o111
        assert run(tool("shellcheck"), str(image / script)).returncode == 0
    info = json.loads((tmp_path / "pl" / "questions" / "SolveIssue" / "info.json").read_text())
    schema = json.loads(
        (PROJECT_ROOT / "schemas" / "prairielearn-question-info.schema.json").read_text()
    )
    jsonschema.validate(info, schema)
    assert info["externalGradingOptions"] == {
        "enabled": True,
        "image": "course/sfnlab-grader:1",
        "entrypoint": "/opt/sfnlab/grade",
        "timeout": 150,
    }
    assert "--time-budget 120" in (image / "grade").read_text()  # 30 s inside the timeout
    assert (image / "kit" / "uv.lock").read_bytes() == (PROJECT_ROOT / "uv.lock").read_bytes()


def test_writing_the_prairielearn_folder_again_keeps_the_questions_uuid(tmp_path):
    written(["prairielearn", "-o", str(tmp_path / "pl")])
    info = tmp_path / "pl" / "questions" / "SolveIssue" / "info.json"
    first = json.loads(info.read_text())["uuid"]
    written(["prairielearn", "-o", str(tmp_path / "pl"), "--timeout", "200"])
    again = json.loads(info.read_text())
    assert again["uuid"] == first and again["externalGradingOptions"]["timeout"] == 200


def test_the_ci_files_follow_github_and_gitlab_schemas(tmp_path):
    written(["ci", "-o", str(tmp_path), "--kit-repository", KIT_URL, "--min-score", "70"])
    workflow = tmp_path / ".github" / "workflows" / "sfnlab-grade.yml"
    gitlab = tmp_path / ".gitlab-ci.yml"
    check = tool("check-jsonschema")
    result = run(check, "--builtin-schema", "vendor.github-workflows", str(workflow))
    assert result.returncode == 0, result.stdout + result.stderr
    result = run(
        check, "--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci", str(gitlab)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    steps = yaml.safe_load(workflow.read_text())["jobs"]["grade"]
    assert steps["env"] == {
        "SFNLAB_KIT_REPOSITORY": KIT_URL,
        "SFNLAB_KIT_REF": "main",
        "SFNLAB_MIN_SCORE": "70",
    }
    job = yaml.safe_load(gitlab.read_text())["grade"]
    assert job["artifacts"]["reports"]["junit"] == "sfnlab-reports/junit.xml"
    shellcheck = tool("shellcheck")
    for number, step in enumerate(s for s in steps["steps"] if "run" in s):
        script = tmp_path / f"step-{number}.sh"
        script.write_text("#!/usr/bin/env bash\nset -e\n" + step["run"])
        result = run(shellcheck, "--exclude", "SC1091", str(script))  # sources the kit's
        assert result.returncode == 0, result.stdout


def test_without_a_git_remote_the_kit_repository_must_be_given(tmp_path):
    from sfnlab.grading.platforms.packages import origin_url

    with pytest.raises(Exception, match="--kit-repository"):
        origin_url(tmp_path)  # not a git clone


def test_a_template_mark_without_a_value_fails():
    with pytest.raises(TemplateError):
        template("run_autograder", kit_version="1", visibility="visible")
    with pytest.raises(TemplateError):
        template("setup.sh", kit_version="1", surplus="x")


def test_the_kit_files_an_image_installs_from_are_all_there():
    files = kit_files()
    assert Path("src/sfnlab/grading/platforms/templates/install-kit.sh") in files
    assert all((PROJECT_ROOT / path).is_file() for path in files)
