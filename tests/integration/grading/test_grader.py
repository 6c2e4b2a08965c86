"""The grader on the reference and the starter (each in Python and in JavaScript) and on 49
submissions: correct, wrong and hostile, some in JavaScript or in both languages; and the
grader's own failures (a fault of the kit, a crash, a time limit), in the same batch."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import replace

import psutil
import pytest
import requests
from click.testing import CliRunner
from rich.console import Console

from sfnlab.cli import main
from sfnlab.grading import REQUIREMENTS, grade_solution
from sfnlab.grading import grader as grader_module
from sfnlab.grading.grading_stack import SERVICES_USED, grading_stack
from sfnlab.grading.reports import (
    as_dict,
    junit_xml,
    print_report,
    summary_csv,
    summary_markdown,
    write_reports,
)
from sfnlab.localstack import embedded
from sfnlab.localstack.probe import probe
from sfnlab.settings import PROJECT_ROOT, load_settings
from sfnlab.support.aws import client
from sfnlab.testing.submissions import CLASSMATE, REFERENCE_JS, STARTER_JS, assemble, load_all
from tests.integration.grading.conftest import (
    CRASHED,
    RETRIED,
    SECRET,
    SHORT,
    SHORT_LIMIT,
    digest,
    left_behind,
    server_error,
)

SUBMISSIONS = load_all()
IDS = {requirement.id for requirement in REQUIREMENTS}
# The first test to ask for `graded_class` waits for the whole class (45 solutions, 4 at a
# time, each allowed 90 s): far past the suite's default timeout on a busy machine.
pytestmark = pytest.mark.timeout(900)


def failed(report) -> dict[str, str]:
    return {v.requirement.id: v.feedback for v in report.verdicts if not v.passed}


def test_the_class_is_big_and_varied_enough():
    correct = [s for s in SUBMISSIONS if not s.fails]
    assert len(SUBMISSIONS) >= 30 and len(correct) >= 8
    for submission in SUBMISSIONS:
        assert submission.fails <= IDS, submission.name
        assert set(submission.feedback) <= submission.fails | IDS, submission.name


def test_reference_solution_scores_full_marks(graded_class):
    reference = graded_class.reports[PROJECT_ROOT.name]
    assert failed(reference) == {}
    assert reference.score == reference.total == 100 and reference.graded


def test_starter_scores_zero_with_a_helpful_message_on_every_requirement(graded_class):
    starter = graded_class.reports["starter"]
    assert starter.score == 0 and starter.graded
    for verdict in starter.verdicts:
        assert verdict.feedback.startswith("Expected: ") and "Seen: " in verdict.feedback
    assert (
        "'TODO_CreateBranch', which is not a state" in starter.verdict("definition_valid").feedback
    )


def test_the_javascript_reference_scores_full_marks(graded_class):
    reference = graded_class.reports[REFERENCE_JS]
    assert failed(reference) == {}
    assert reference.score == reference.total == 100 and reference.graded


def test_the_javascript_starter_scores_zero_as_the_python_one_does(graded_class):
    starter = graded_class.reports[STARTER_JS]
    assert starter.score == 0 and starter.graded
    python = graded_class.reports["starter"]
    assert [v.feedback for v in starter.verdicts] == [v.feedback for v in python.verdicts]


@pytest.mark.parametrize("submission", SUBMISSIONS, ids=[s.name for s in SUBMISSIONS])
def test_submission_fails_exactly_what_it_breaks(graded_class, submission):
    report = graded_class.reports[submission.name]
    feedback = failed(report)
    assert report.graded, report.explained
    assert set(feedback) == submission.fails, json.dumps(feedback, indent=1)
    for requirement_id, text in submission.feedback.items():
        assert text in report.verdict(requirement_id).feedback, report.verdict(requirement_id)


def test_hostile_submissions_cost_only_their_own_points(graded_class):
    reports = graded_class.reports
    assert reports[CLASSMATE].score == 100
    everything = json.dumps([[v.feedback for v in r.verdicts] for r in reports.values()])
    assert SECRET.split(" = ")[1] not in everything
    for path, before in graded_class.digests_before.items():
        assert digest(path) == before, f"{path} was changed"
    assert left_behind() == []


def test_a_submission_that_tries_to_stop_localstack_is_graded_as_it_stands(
    graded_class, grading_localstack
):
    """kills-localstack's Create Code posts {"action": "kill"} (and restart, config, other
    accounts' data, a forged report) to the grading LocalStack on every run, then does its
    job. LocalStack refused each and stayed up for the whole class: the submission earns
    what its workflow earns, its report says what it tried, and nobody else's does."""
    report = graded_class.reports["kills-localstack"]
    assert report.graded and report.score == 100
    tried = set(report.blocked)
    assert {
        "Create Code tried POST /_localstack/health",
        "Create Code tried PUT /_localstack/health",
        "Create Code tried POST /_localstack/config",
        "Create Code tried GET /_localstack/diagnose",
        "Create Code tried GET /_aws/cloudwatch/metrics/raw",
        "Create Code tried GET /_aws/sqs/messages/us-east-1/000000000000/anything",
        "Create Code tried ListObjectsV2 of bucket awslambda-us-east-1-tasks",
    } <= tried, report.blocked
    assert any(line.startswith("Create Code tried POST /_localstack_lambda/") for line in tried)
    assert {name for name, r in graded_class.reports.items() if r.blocked} == {"kills-localstack"}
    assert graded_class.reports[CLASSMATE].score == 100
    assert probe(grading_localstack.endpoint) is not None  # the same LocalStack, still up
    printed = Console(record=True, width=200)
    print_report(report, printed)
    assert "Blocked by LocalStack" in printed.export_text()
    assert as_dict(report)["blocked"] == report.blocked


def test_every_solution_ran_in_an_account_of_its_own_left_empty(graded_class, grading_localstack):
    accounts = [r.account for r in graded_class.reports.values() if r.account]
    assert len(accounts) == len(set(accounts)) and all(len(a) == 12 for a in accounts)
    assert not {"000000000000", "900000000001"} & set(accounts)
    assert all(r.clean_up is None for r in graded_class.reports.values())
    reference = replace(
        grading_localstack, account_id=graded_class.reports["never-returns"].account
    )
    assert client("lambda", reference).list_functions()["Functions"] == []
    assert client("stepfunctions", reference).list_state_machines()["stateMachines"] == []


def test_the_grading_localstack_is_sized_for_the_solutions_graded_at_once(grading_localstack):
    """Four solutions' seven functions each, so that none gives its process up to another's;
    LocalStack's own calls between its services stay in memory."""
    environment = psutil.Process(embedded.running_embedded(grading_localstack).pid).environ()
    assert environment["PROCESS_EXECUTOR_MAX_ENVIRONMENTS"] == "32"
    assert environment["IN_MEMORY_CLIENT"] == "1"


def test_the_grading_localstack_has_loaded_what_grading_uses_before_the_first_solution():
    """LocalStack loads a service on its first request; the grading LocalStack has done that
    for every service grading uses by the time it is handed over, so no solution's clock
    pays for it. A service grading does not use is left unloaded."""
    with grading_stack(load_settings()) as settings:
        services = requests.get(f"{settings.endpoint}/_localstack/health", timeout=10).json()
    states = services["services"]
    assert {name: states.get(name) for name in SERVICES_USED} == dict.fromkeys(
        SERVICES_USED, "running"
    )
    assert states.get("cloudformation") == "available"  # the kit's, not grading's


def test_a_solution_gets_its_time_limit_from_deploy_to_clean_up(graded_class):
    report = graded_class.reports[SHORT]  # never-returns, with a limit of 15 s
    assert report.seconds < SHORT_LIMIT + 5  # from its start to the end of its clean-up
    assert "time limit of 15 s" in report.verdict("reject_fails").feedback
    assert report.verdict("definition_valid").passed and report.clean_up is None


def test_a_kit_fault_is_retried_once_in_a_fresh_account(graded_class):
    report = graded_class.reports[RETRIED]  # its first deploy met the fault
    assert report.graded and report.score == 100 and report.attempts == 2
    first, second = graded_class.deploys[RETRIED]
    assert first != second == report.account  # the second try ran in another account


def test_a_persistent_kit_fault_is_reported_as_the_kits_never_the_learners(
    grading_localstack, monkeypatch
):
    def broken(*args, **kwargs):
        raise server_error()

    monkeypatch.setattr(grader_module, "deploy_into_empty_account", broken)
    report = grade_solution(PROJECT_ROOT, grading_localstack)
    assert not report.graded and report.attempts == 2
    assert report.explained.startswith("could not grade (kit error): ")
    assert "Errno 9" in report.explained
    for verdict in report.verdicts:
        assert not verdict.checked and "could not grade (kit error)" in verdict.feedback


def test_a_crash_inside_the_grader_marks_only_what_it_could_not_check(graded_class):
    report = graded_class.reports[CRASHED]  # the reference, its merge check crashing
    merge = report.verdict("merge_uses_branch")
    assert not merge.checked and "a bug of the grader" in merge.feedback
    assert report.score == 90 and not report.graded
    assert report.explained.startswith("could not grade (kit error): the grader failed")


def test_reports_have_a_row_per_learner_and_unique_file_names(graded_class, tmp_path):
    chosen = [graded_class.reports["starter"], graded_class.reports[PROJECT_ROOT.name]]
    csv_lines = summary_csv(chosen).splitlines()
    assert csv_lines[0].split(",")[: len(REQUIREMENTS) + 1] == [
        "solution",
        *sorted(IDS, key=[r.id for r in REQUIREMENTS].index),
    ]
    assert csv_lines[1].startswith("starter,0,0,") and csv_lines[2].endswith(",100,100,yes")
    assert summary_markdown(chosen).count("\n") == 4
    suites = ElementTree.fromstring(junit_xml(chosen).split("\n", 1)[1])
    assert suites.get("tests") == str(2 * len(REQUIREMENTS)) and suites.get("failures") == "9"
    twins = [replace(chosen[0], solution="Alice"), replace(chosen[0], solution="alice")]
    written = write_reports(twins, tmp_path)
    assert {p.name for p in written if p.suffix == ".json"} == {"Alice.json", "alice-2.json"}


def test_the_grade_command_grades_on_a_sandboxed_localstack_of_its_own(
    grading_localstack, graded_class, tmp_path
):
    reports = tmp_path / "reports"
    result = CliRunner().invoke(
        main,
        [
            "grade",
            str(PROJECT_ROOT / "starter"),
            str(graded_class.folders["utf16-definition"]),
            "--report-dir",
            str(reports),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "starter: 0/100" in result.output and "Traceback" not in result.output
    assert {p.name for p in reports.iterdir()} == {
        "starter.json",
        "utf16-definition.json",
        "junit.xml",
        "summary.csv",
        "summary.md",
    }


def test_the_grade_command_refuses_to_run_unsandboxed_without_bubblewrap(monkeypatch, tmp_path):
    monkeypatch.setattr("sfnlab.grading.grading_stack.find_bwrap", lambda: None)
    result = CliRunner().invoke(main, ["grade", str(PROJECT_ROOT / "starter")])
    assert result.exit_code == 1
    assert "bubblewrap" in result.output and "--no-sandbox" in result.output


def test_a_folder_name_shared_by_two_learners_gets_two_reports(graded_class, tmp_path):
    submission = next(s for s in SUBMISSIONS if s.name == "invalid-json")
    a = assemble(submission, tmp_path / "alice", {})
    b = assemble(submission, tmp_path / "bob", {})
    assert grader_module.display_names([a, b]) == ["alice/invalid-json", "bob/invalid-json"]
    assert grader_module.display_names([a, a]) == ["alice/invalid-json", "alice/invalid-json (2)"]
