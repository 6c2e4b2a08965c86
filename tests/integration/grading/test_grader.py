"""The grader on the reference solution, the starter, and deliberately broken solutions."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ElementTree
from dataclasses import replace

import pytest
from click.testing import CliRunner

from sfnlab.aws import client
from sfnlab.cli import main
from sfnlab.config import PROJECT_ROOT
from sfnlab.grading import REQUIREMENTS, grade, grade_solution
from sfnlab.grading.reports import junit_xml, summary_csv, summary_markdown, write_reports
from sfnlab.inbox import InboxClient
from tests.integration.grading.broken_solutions import BREAKS, make


@pytest.fixture(scope="session")
def reports(localstack, tmp_path_factory):
    """Every broken solution, the starter and the reference, graded in one run."""
    root = tmp_path_factory.mktemp("solutions")
    folders = [make(breaking, root) for breaking in BREAKS]
    folders += [PROJECT_ROOT / "starter", PROJECT_ROOT]
    started = time.monotonic()
    graded = grade(folders, localstack, jobs=3)
    print(f"graded {len(folders)} solutions in {time.monotonic() - started:.1f} s")
    return {report.solution: report for report in graded}


def test_reference_solution_scores_full_marks(reports):
    reference = reports[PROJECT_ROOT.name]
    failed = {v.requirement.id: v.feedback for v in reference.verdicts if not v.passed}
    assert failed == {}
    assert reference.score == reference.total == 100


def test_starter_scores_zero_with_a_helpful_message_on_every_requirement(reports):
    starter = reports["starter"]
    assert starter.score == 0
    for verdict in starter.verdicts:
        assert verdict.feedback.startswith("Expected: "), verdict.feedback
        assert "Seen: " in verdict.feedback
    definition = starter.verdict("definition_valid").feedback
    assert "'TODO_CreateBranch', which is not a state" in definition


@pytest.mark.parametrize("breaking", BREAKS, ids=[b.name for b in BREAKS])
def test_broken_solution_fails_exactly_what_it_breaks(reports, breaking):
    report = reports[breaking.name]
    failed = {v.requirement.id for v in report.verdicts if not v.passed}
    feedback = {v.requirement.id: v.feedback for v in report.verdicts}
    assert failed == breaking.fails, feedback


def test_failures_name_their_cause(reports):
    assert "not valid JSON" in reports["invalid-json"].verdict("definition_valid").feedback
    assert (
        "Runtime.ImportModuleError" in reports["missing-lambda"].verdict("release_created").feedback
    )
    assert (
        "Runtime.UserCodeSyntaxError"
        in reports["syntax-error"].verdict("approve_succeeds").feedback
    )
    assert (
        "No module named 'requests'" in reports["import-error"].verdict("reaches_review").feedback
    )
    assert "Sandbox.Timedout" in reports["never-returns"].verdict("merge_uses_branch").feedback
    assert "no branches today" in reports["raises"].verdict("reaches_review").feedback
    assert (
        "waitForTaskToken" in reports["never-waits-for-review"].verdict("reaches_review").feedback
    )
    assert "SUCCEEDED" in reports["reject-succeeds"].verdict("reject_fails").feedback
    assert "CreateRelease dropped" in reports["drops-payload"].verdict("returns_payload").feedback


def test_a_solution_gets_its_time_limit(localstack, tmp_path):
    slow = make(next(b for b in BREAKS if b.name == "never-returns"), tmp_path)
    started = time.monotonic()
    report = grade_solution(slow, localstack, time_limit=4)
    assert time.monotonic() - started < 20
    assert "time limit of 4 s" in report.verdict("reject_fails").feedback


def test_reports_have_a_row_per_learner_and_a_column_per_requirement(reports, tmp_path):
    chosen = [reports["starter"], reports[PROJECT_ROOT.name]]
    csv_lines = summary_csv(chosen).splitlines()
    assert csv_lines[0].split(",") == ["solution", *(r.id for r in REQUIREMENTS), "score", "total"]
    assert csv_lines[1].startswith("starter,0,0,")
    assert csv_lines[2].endswith(",100,100")
    assert summary_markdown(chosen).count("\n") == 4
    suites = ElementTree.fromstring(junit_xml(chosen).split("\n", 1)[1])
    assert suites.get("tests") == str(2 * len(REQUIREMENTS)) and suites.get("failures") == "9"
    written = write_reports(chosen, tmp_path)
    assert {p.name for p in written} == {
        "starter.json",
        f"{PROJECT_ROOT.name}.json",
        "junit.xml",
        "summary.csv",
        "summary.md",
    }


def test_grade_command_writes_every_report_and_fails_when_points_are_missing(
    localstack, tmp_path, monkeypatch
):
    monkeypatch.setenv("SFNLAB_ENDPOINT", localstack.endpoint)
    monkeypatch.setenv("SFNLAB_INBOX_URL", localstack.inbox_url)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(localstack.state_dir))
    reports = tmp_path / "reports"
    result = CliRunner().invoke(
        main, ["grade", str(PROJECT_ROOT / "starter"), "--report-dir", str(reports)]
    )
    assert result.exit_code == 1, result.output
    assert "starter: 0/100" in result.output
    assert "Traceback" not in result.output
    assert {p.name for p in reports.iterdir()} == {
        "starter.json",
        "junit.xml",
        "summary.csv",
        "summary.md",
    }


def test_a_graded_solution_leaves_nothing_behind(localstack):
    report = grade_solution(PROJECT_ROOT, localstack)
    assert report.score == report.total
    account = replace(localstack, account_id=report.account)
    assert client("lambda", account).list_functions()["Functions"] == []
    assert client("stepfunctions", account).list_state_machines()["stateMachines"] == []
    roles = client("iam", account).list_roles()["Roles"]
    assert not [role["RoleName"] for role in roles if role["RoleName"].startswith("sfnlab-")]
    left = [
        (r.path, r.received_at)
        for r in InboxClient(localstack.inbox_url).requests(limit=1000)
        if r.channel.startswith("grading-")
    ]
    assert not left
