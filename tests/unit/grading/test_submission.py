"""`sfnlab submit`: checked as the grader will, one zip with a manifest, or nothing at all."""

from __future__ import annotations

import json
import threading
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.grading.submission import (
    MANIFEST_NAME,
    SubmissionIncomplete,
    differences,
    sha256,
    submit,
)
from sfnlab.settings import PROJECT_ROOT

MANIFEST_SCHEMA = json.loads(
    (PROJECT_ROOT / "schemas" / "submission-manifest.schema.json").read_text()
)


def test_a_correct_solution_is_zipped_with_its_manifest(solution, tmp_path):
    (solution / "notes.txt").write_text("mine")
    submitted = submit(solution, tmp_path / "out" / "submission.zip")
    with zipfile.ZipFile(submitted.zip_path) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read(MANIFEST_NAME))
        assert all(
            archive.read(entry["path"]) == (solution / entry["path"]).read_bytes()
            for entry in manifest["files"]
        )
    assert names[0] == MANIFEST_NAME and "notes.txt" not in names
    assert sorted(names[1:]) == sorted(entry["path"] for entry in manifest["files"])
    jsonschema.validate(manifest, MANIFEST_SCHEMA)
    assert manifest["files"][0]["sha256"] == sha256(
        solution / "definitions" / "SolveIssueStepFunction.json"
    )
    assert Path("notes.txt") in submitted.findings.left_out


def test_the_starter_is_not_handed_in_and_an_earlier_zip_stays(starter, tmp_path):
    earlier = tmp_path / "submission.zip"
    earlier.write_bytes(b"the zip handed in yesterday")
    with pytest.raises(SubmissionIncomplete) as refused:
        submit(starter, earlier)
    assert "cannot be handed in yet" in str(refused.value)
    assert "'TODO_CreateBranch', which is not a state" in str(refused.value)
    assert "invokes the Notify Ops Lambda" in str(refused.value)
    assert earlier.read_bytes() == b"the zip handed in yesterday"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_two_submits_at_once_leave_one_whole_zip(solution, tmp_path):
    output = tmp_path / "submission.zip"
    errors: list[BaseException] = []

    def hand_in() -> None:
        try:
            for _ in range(5):
                submit(solution, output)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=hand_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with zipfile.ZipFile(output) as archive:
        assert archive.testzip() is None and MANIFEST_NAME in archive.namelist()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-solution", "submission.zip"]


def test_the_manifest_tells_a_changed_file(solution, tmp_path):
    submitted = submit(solution, tmp_path / "s.zip")
    (solution / "lambdas" / "notify_ops.py").write_text("# changed\n")
    (solution / "lambdas" / "create_code.py").unlink()
    assert differences(solution, submitted.manifest) == [
        "lambdas/create_code.py is listed in the manifest but missing",
        "lambdas/notify_ops.py was changed after `sfnlab submit` made the zip",
    ]
    hostile = {"files": [{"path": "../../etc/passwd", "sha256": "0" * 64}]}
    assert differences(solution, hostile) == [
        "the manifest lists '../../etc/passwd', outside the submission"
    ]


def test_the_command_says_where_the_zip_is_and_what_to_do(solution, tmp_path):
    result = CliRunner().invoke(main, ["submit", str(solution), "-o", str(tmp_path / "h.zip")])
    assert result.exit_code == 0, result.output
    files = 1 + len(list((solution / "lambdas").glob("*.py")))  # the definition, lambdas/*.py
    assert f"Wrote {tmp_path / 'h.zip'} ({files} files and a manifest" in result.stdout
    assert "Hand in that one file where your instructor collects the exercise" in result.stdout


def test_the_command_on_the_starter_lists_what_is_missing_and_exits_1(tmp_path):
    result = CliRunner().invoke(
        main, ["submit", str(PROJECT_ROOT / "starter"), "-o", str(tmp_path / "s.zip")]
    )
    assert result.exit_code == 1
    assert "Error: " in result.stderr and "Traceback" not in result.output
    assert "invokes the Create Branch Lambda" in result.stderr
    assert not (tmp_path / "s.zip").exists()


def test_the_command_defaults_to_my_solution_and_the_kits_folder(solution, monkeypatch, tmp_path):
    monkeypatch.chdir(solution.parent)
    monkeypatch.setenv("SFNLAB_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(main, ["submit"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "home" / "submission.zip").is_file()


def test_an_output_that_is_a_folder_is_refused(solution, tmp_path):
    with pytest.raises(Exception, match="is a folder"):
        submit(solution, tmp_path)
