"""SolveIssue written in JSONata runs the exercise like the JSONPath one, with the same Lambdas.

It is deployed beside the kit's own (as SolveIssueJSONata) so the other tests keep theirs;
`sfnlab deploy --definition` puts it in place of SolveIssue, as a learner would.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.deploy.definition import load_template, placeholders, structural_problems
from sfnlab.deploy.resources import deploy
from sfnlab.exercise import DEFINITION_FILE, STATE_MACHINE_NAME
from sfnlab.inbox import InboxClient
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution
from sfnlab.workflow import graph as execution_graph

JSONATA_FILE = PROJECT_ROOT / "definitions" / "SolveIssueStepFunctionJSONata.json"
MACHINE = "SolveIssueJSONata"
JSONPATH_ONLY_FIELDS = {
    "InputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "Variable",
}


@pytest.fixture(scope="module")
def jsonata_machine(localstack, deployment) -> str:
    return deploy(localstack, definition=JSONATA_FILE, state_machine_name=MACHINE).state_machine_arn


def run_until_review(settings, event=None):
    started = execution.start(settings, event, machine=MACHINE)
    return started, approval.find_review(settings, started.name, wait=True, timeout=30)


def keys_anywhere(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {key for value in node.values() for key in keys_anywhere(value)}
    if isinstance(node, list):
        return {key for item in node for key in keys_anywhere(item)}
    return set()


def test_the_definition_is_jsonata_through_and_through():
    jsonata = load_template(JSONATA_FILE)
    jsonpath = load_template(PROJECT_ROOT / DEFINITION_FILE)
    assert jsonata["QueryLanguage"] == "JSONata"
    assert not keys_anywhere(jsonata) & JSONPATH_ONLY_FIELDS
    assert not [key for key in keys_anywhere(jsonata) if key.endswith(".$")]
    text = json.dumps(jsonata)
    assert "{% $states.context.Task.Token %}" in text
    assert {"Arguments", "Output", "Assign", "Condition"} <= keys_anywhere(jsonata)
    # Same states, same Lambdas, same settings: only the language differs.
    assert jsonata["States"].keys() == jsonpath["States"].keys()
    assert placeholders(jsonata) == placeholders(jsonpath)
    assert structural_problems(jsonata) == []


def test_approve_path_succeeds_and_ops_are_asked_to_deploy(localstack, jsonata_machine):
    started, review = run_until_review(localstack)
    approval.decide(localstack, True, token=review.token)
    ended = execution.wait_for_end(localstack, started.arn)
    assert ended.status == "SUCCEEDED", ended.cause
    assert [state.name for state in ended.path] == [
        "CreateCode",
        "CreateBranch",
        "NotifyReviewers",
        "ReviewDecision",
        "MergeToMaster",
        "CreateRelease",
        "NotifyOps",
        "IssueSolved",
    ]
    assert ended.output["review"]["approved"] is True
    assert ended.output["merge"]["branch"] == review.branch
    release = ended.output["release"]["name"]
    ops = InboxClient(localstack.inbox_url).requests(channel="ops")
    assert any(message.json["release"] == release for message in ops)


def test_reject_path_fails_with_the_reviewers_words(localstack, jsonata_machine):
    started, review = run_until_review(localstack)
    approval.decide(localstack, False, token=review.token, reviewer="carol", comment="no tests")
    ended = execution.wait_for_end(localstack, started.arn)
    assert (ended.status, ended.error, ended.cause) == (
        "FAILED",
        "ReviewRejected",
        "Rejected by carol: no tests",
    )
    assert ended.path[-1].name == "ReviewRejected"
    assert "MergeToMaster" not in [state.name for state in ended.path]


def test_both_languages_hand_the_lambdas_the_same_payloads(localstack, jsonata_machine):
    event = {"issue": {"id": "ISSUE-7", "title": "Dark mode"}, "branch": "feature/dark-mode"}
    outputs = {}
    for machine in (STATE_MACHINE_NAME, MACHINE):
        started = execution.start(localstack, event, machine=machine)
        review = approval.find_review(localstack, started.name, wait=True, timeout=30)
        assert review.branch == "feature/dark-mode"
        approval.decide(localstack, True, token=review.token, reviewer="dan", comment="ok")
        outputs[machine] = execution.wait_for_end(localstack, started.arn).output
    jsonpath, jsonata = outputs[STATE_MACHINE_NAME], outputs[MACHINE]
    assert jsonata.keys() == jsonpath.keys()
    for key in ("issue", "branch", "merge"):
        assert jsonata[key] == jsonpath[key]
    assert jsonata["review"]["summary"] == jsonpath["review"]["summary"] == "Approved by dan: ok"


def line_of(picture: execution_graph.ExecutionGraph, state: str) -> str:
    return next(line for _, line in picture.lines() if line.split()[1:2] == [state])


def test_the_graph_draws_the_jsonata_execution(localstack, jsonata_machine):
    started, review = run_until_review(localstack)
    waiting = execution_graph.graph(localstack, started.arn, machine=MACHINE)
    notify = line_of(waiting, "NotifyReviewers")
    assert "waiting" in notify and "waits for a task token · sfnlab-notify-reviewers" in notify
    assert "MergeToMaster if $review.approved = true" in line_of(waiting, "ReviewDecision")
    approval.decide(localstack, True, token=review.token)
    execution.wait_for_end(localstack, started.arn)
    ended = execution_graph.graph(localstack, started.arn, machine=MACHINE)
    assert ended.svg().startswith("<svg")
    assert "succeeded" in line_of(ended, "IssueSolved")


@pytest.fixture
def sfnlab(localstack, deployment, monkeypatch):
    monkeypatch.setenv("SFNLAB_ENDPOINT", localstack.endpoint)
    monkeypatch.setenv("SFNLAB_INBOX_URL", localstack.inbox_url)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(localstack.state_dir))

    def run(*args: str):
        return CliRunner().invoke(main, list(args))

    return run


def test_deploy_command_puts_the_jsonata_definition_in_place(sfnlab, localstack):
    sfn = client("stepfunctions", localstack)
    arn = execution.state_machine_arn(localstack)
    try:
        result = sfnlab("deploy", "--definition", str(JSONATA_FILE))
        assert result.exit_code == 0, result.output
        assert "state machine  SolveIssue" in result.output and "updated" in result.output
        deployed = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
        assert deployed["QueryLanguage"] == "JSONata"
        again = sfnlab("deploy", "--definition", str(JSONATA_FILE))
        assert again.output.rstrip().splitlines()[-1].startswith("0 changed.")
    finally:
        deploy(localstack)
    restored = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    assert "QueryLanguage" not in restored


def test_deploy_command_explains_a_missing_definition(sfnlab, tmp_path):
    result = sfnlab("deploy", "--definition", str(tmp_path / "nope.json"))
    assert result.exit_code != 0
    assert "Cannot read the state machine definition" in result.output
    assert "Traceback" not in result.output


def test_a_short_inbox_outage_is_retried_as_in_the_jsonpath_workflow(localstack, jsonata_machine):
    """Both languages retry InboxUnreachable (1, 2, 4, 8 s): down when the execution starts,
    up again after the first failure, and CreateCode's retry goes through."""
    from sfnlab.inbox.service import ensure_inbox, stop_inbox

    stop_inbox(localstack)
    try:
        started = execution.start(localstack, machine=MACHINE)
        failed = execution.wait(
            localstack,
            started.arn,
            lambda e: bool(
                e.ended or (e.path and e.path[0].attempts >= 1 and e.path[0].outcome == "failed")
            ),
            what="CreateCode's first failure",
        )
    finally:
        ensure_inbox(localstack)
    assert not failed.ended, (failed.error, failed.cause)
    waiting = execution.wait(
        localstack, started.arn, lambda e: e.waiting_at is not None, what="the review"
    )
    assert waiting.path[0].name == "CreateCode" and waiting.path[0].attempts >= 2
    client("stepfunctions", localstack).stop_execution(executionArn=started.arn)
