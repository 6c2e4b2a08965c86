"""What the grader takes in: folders, zips, a folder of zips (a platform's "download all
submissions"), and a platform's container folder, each found where it was put."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from sfnlab.grading.intake import gather, locate, take
from sfnlab.grading.submission import submit
from tests.unit.grading.test_archives import make_zip


def zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    """`folder` zipped as a file manager would: every file, under `prefix`."""
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def test_a_solution_folder_is_taken_as_it_is(solution, tmp_path):
    handed = take(solution, tmp_path / "work")
    assert handed.folder == solution and handed.refused is None
    assert handed.findings.problems == []


def test_a_submission_zip_is_unpacked_and_its_manifest_checked(solution, tmp_path):
    archive = submit(solution, tmp_path / "alice.zip").zip_path
    (tmp_path / "work").mkdir()
    handed = take(archive, tmp_path / "work")
    assert handed.name == "alice" and handed.manifest["format"] == "sfnlab-submission/1"
    assert handed.findings.problems == [] and handed.findings.warnings == []


def test_a_zip_of_the_folder_itself_is_found_one_level_down(solution, tmp_path):
    archive = zip_folder(solution, tmp_path / "bob.zip", prefix="my-solution/")
    (tmp_path / "work").mkdir()
    handed = take(archive, tmp_path / "work")
    assert handed.folder.name == "my-solution" and handed.findings.problems == []


def test_flat_files_are_put_back_in_their_folders(solution, tmp_path):
    flat = tmp_path / "student"
    flat.mkdir()
    shutil.copy(solution / "definitions" / "SolveIssueStepFunction.json", flat)
    for path in (solution / "lambdas").glob("*.py"):
        shutil.copy(path, flat)
    (tmp_path / "work").mkdir()
    found = locate(flat, tmp_path / "work")
    assert (found / "definitions" / "SolveIssueStepFunction.json").is_file()
    assert len(list((found / "lambdas").glob("*.py"))) == len(list(flat.glob("*.py")))
    assert sorted(p.name for p in flat.iterdir())[0] == "SolveIssueStepFunction.json"  # untouched


def test_one_zip_in_a_platforms_folder_is_unpacked(solution, tmp_path):
    platform = tmp_path / "submission"
    platform.mkdir()
    submit(solution, platform / "submission.zip")
    (tmp_path / "work").mkdir()
    handed = take(platform, tmp_path / "work", name="submission")
    assert handed.folder != platform and handed.findings.problems == []


def test_a_folder_of_zips_is_a_class_and_a_bomb_costs_only_its_learner(solution, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    submit(solution, downloads / "alice_1234_submission.zip")
    zip_folder(solution, downloads / "bob_5678_submission.zip", prefix="work/")
    make_zip(downloads / "mallory_666.zip", [("lambdas/create_code.py", b"\0" * 5_000_000)])
    make_zip(downloads / "eve_7.zip", [("../../escaped.py", b"owned")])
    (downloads / ".DS_Store").write_text("junk")
    (tmp_path / "work").mkdir()
    handed = gather([downloads], tmp_path / "work")
    assert [h.name for h in handed] == [
        "alice_1234_submission",
        "bob_5678_submission",
        "eve_7",
        "mallory_666",
    ]
    assert [h.refused is None for h in handed] == [True, True, False, False]
    assert "points outside its folder" in handed[2].refused
    assert "a zip bomb?" in handed[3].refused
    assert not (tmp_path / "escaped.py").exists()


def test_names_are_told_apart(solution, tmp_path):
    for who in ("a", "b"):
        shutil.copytree(solution, tmp_path / who / "my-solution")
    (tmp_path / "work").mkdir()
    handed = gather(
        [
            tmp_path / "a" / "my-solution",
            tmp_path / "b" / "my-solution",
            tmp_path / "a" / "my-solution",
        ],
        tmp_path / "work",
    )
    assert [h.name for h in handed] == ["a/my-solution", "b/my-solution", "a/my-solution (2)"]


def test_an_empty_folder_is_taken_and_found_wanting(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "work").mkdir()
    handed = take(tmp_path / "empty", tmp_path / "work")
    assert handed.refused is None and len(handed.findings.problems) == 8


def test_a_file_that_is_no_zip_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "work").mkdir()
    assert take(tmp_path / "notes.txt", tmp_path / "work").refused == (
        "notes.txt is neither a solution folder nor a zip"
    )
