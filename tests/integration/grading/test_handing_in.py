"""From `sfnlab submit` to `sfnlab grade`: a correct solution's zip scores 100 in every
format; in a folder of zips (a platform's "download all submissions"), a zip bomb and a
zip that reaches out of its folder are refused for their learners, and the class goes on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.grading.submission import submit
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.submissions import assemble
from tests.unit.grading.test_archives import make_zip
from tests.unit.grading.test_result_formats import element_as_dict, schema

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    """A platform's "download all submissions": one correct zip, a bomb, an escape."""
    root = tmp_path_factory.mktemp("hand-in")
    folder = root / "downloads"
    folder.mkdir()
    submit(assemble(None, root, {}, name="alice"), folder / "alice_1001_submission.zip")
    make_zip(folder / "mallory_1002_submission.zip", [("lambdas/x.py", b"\0" * 5_000_000)])
    make_zip(folder / "eve_1003_submission.zip", [("../../../escaped.py", b"owned")])
    return folder


@pytest.fixture(scope="module", params=["gradescope", "prairielearn"])
def graded(request, downloads, tmp_path_factory):
    reports = tmp_path_factory.mktemp(f"reports-{request.param}")
    result = CliRunner().invoke(
        main,
        ["grade", str(downloads), "--report-dir", str(reports), "--format", request.param],
    )
    return request.param, result, reports


def test_the_class_goes_on_past_a_bomb_and_an_escape(graded, downloads):
    _, result, reports = graded
    assert result.exit_code == 1, result.output  # points are missing: not a kit error
    assert "Traceback" not in result.output
    alice = json.loads((reports / "alice_1001_submission.json").read_text())
    assert alice["score"] == 100 and alice["graded"] and alice["refused"] is None
    mallory = json.loads((reports / "mallory_1002_submission.json").read_text())
    assert "a zip bomb?" in mallory["refused"] and mallory["score"] == 0
    eve = json.loads((reports / "eve_1003_submission.json").read_text())
    assert "points outside its folder" in eve["refused"]
    assert not (downloads.parent / "escaped.py").exists()
    for report in (alice, mallory, eve):
        jsonschema.validate(report, schema("sfnlab-report"))


def test_every_format_scores_the_correct_zip_100(graded):
    platform, _, reports = graded
    results = json.loads((reports / f"alice_1001_submission.{platform}.json").read_text())
    jsonschema.validate(results, schema(f"{platform}-results"))
    if platform == "gradescope":
        assert results["score"] == 100.0
    else:
        assert results["gradable"] is True and results["score"] == 1.0
    refused = json.loads((reports / f"mallory_1002_submission.{platform}.json").read_text())
    if platform == "prairielearn":
        assert refused["gradable"] is False  # costs the learner no attempt
    else:
        assert refused["score"] == 0.0 and refused["output"].startswith("Not graded: ")
    root = ElementTree.parse(reports / "junit.xml").getroot()
    jsonschema.validate(element_as_dict(root), schema("junit-report"))
    alice = root.find("testsuite[@name='alice_1001_submission']")
    assert alice.get("failures") == "0" and len(alice.findall("testcase")) == 9
    csv_rows = (reports / "summary.csv").read_text().splitlines()
    assert csv_rows[1].startswith("alice_1001_submission,") and csv_rows[1].endswith(",100,100,yes")
    assert "| alice_1001_submission |" in (reports / "summary.md").read_text()


def test_one_zip_graded_in_a_container_writes_its_platform_file(tmp_path):
    archive = submit(
        assemble(None, tmp_path, {}, name="solution"), tmp_path / "submission.zip"
    ).zip_path
    out = tmp_path / "results.json"
    summary = tmp_path / "summary.md"
    result = CliRunner().invoke(
        main,
        [
            "grade",
            str(archive),
            "--container",
            "--format",
            "gradescope",
            "-o",
            str(out),
            "--report-dir",
            str(tmp_path / "reports"),
            "--step-summary",
            str(summary),
            "--min-score",
            "90",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "sfnlab score: 100% (100/100 points)" in result.stdout
    assert json.loads(out.read_text())["score"] == 100.0
    assert summary.read_text().startswith("## submission: 100/100")
    shutil.rmtree(tmp_path / "reports")


def test_the_kits_schemas_are_in_the_repository():
    assert {p.name for p in (PROJECT_ROOT / "schemas").glob("*.json")} >= {
        "gradescope-results.schema.json",
        "prairielearn-results.schema.json",
        "junit-report.schema.json",
        "sfnlab-report.schema.json",
        "submission-manifest.schema.json",
    }
