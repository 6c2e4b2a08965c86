"""What the notebooks leave to the kit, on the embedded LocalStack: a changed copy of a
definition deployed beside SolveIssue, an inbox outage and a paused inbox, a refusal
expected, and the checks of the exercises, with right and wrong answers."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from sfnlab.deploy.definition import load_template
from sfnlab.deploy.resources import deploy_definition
from sfnlab.errors import DefinitionError, LearnerError
from sfnlab.exercise import DEFINITION_FILE
from sfnlab.inbox import InboxClient
from sfnlab.inbox.service import ensure_inbox, outage, paused, running_inbox
from sfnlab.notebook import refused
from sfnlab.notebook_checks import check_approved_by, check_is_alive, check_retry_waits
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client
from sfnlab.workflow import approval, executions

JSONATA = PROJECT_ROOT / "definitions" / "SolveIssueStepFunctionJSONata.json"


@pytest.fixture
def inbox_back_afterwards(localstack):
    yield
    ensure_inbox(localstack)


def test_a_changed_copy_deploys_beside_solve_issue_and_runs(localstack, deployment):
    copy = load_template(PROJECT_ROOT / DEFINITION_FILE)
    copy["StartAt"] = "NotifyReviewers"
    del copy["States"]["CreateCode"], copy["States"]["CreateBranch"]
    arn = deploy_definition(localstack, "SolveIssueFromReviewTest", copy)
    assert arn.endswith(":stateMachine:SolveIssueFromReviewTest")
    sfn = client("stepfunctions", localstack)
    kits = json.loads(
        sfn.describe_state_machine(stateMachineArn=deployment.state_machine_arn)["definition"]
    )
    assert kits["StartAt"] == "CreateCode"
    started = executions.start(
        localstack, {"branch": "feature/x"}, machine="SolveIssueFromReviewTest"
    )
    waiting = executions.wait_for_reviews(localstack, started.arn)
    assert [state.name for state in waiting.path] == ["NotifyReviewers"]
    sfn.stop_execution(executionArn=started.arn)
    # Deployed again unchanged: the same state machine, still one.
    assert deploy_definition(localstack, "SolveIssueFromReviewTest", copy) == arn


def test_a_broken_copy_is_refused_in_words_and_nothing_is_deployed(localstack, deployment):
    copy = load_template(PROJECT_ROOT / DEFINITION_FILE)
    del copy["States"]["MergeToMaster"]
    name = f"Broken{uuid.uuid4().hex[:6]}"
    with pytest.raises(DefinitionError, match="Step Functions rejects my copy: ReviewDecision"):
        deploy_definition(localstack, name, copy, source="my copy")
    names = [
        m["name"]
        for m in client("stepfunctions", localstack).list_state_machines()["stateMachines"]
    ]
    assert name not in names


def test_an_outage_stops_the_inbox_and_brings_it_back_with_what_it_kept(
    localstack, inbox_back_afterwards
):
    inbox = InboxClient(localstack.inbox_url)
    kept = [request.id for request in inbox.requests(limit=1000)]
    with pytest.raises(RuntimeError, match="inside"), outage(localstack):
        assert inbox.health() is None and running_inbox(localstack) is None
        raise RuntimeError("something inside the block fails")
    assert inbox.health() is not None  # back, come what may
    assert kept == [request.id for request in inbox.requests(limit=1000)]


def test_a_paused_inbox_accepts_and_answers_nothing_until_it_resumes(
    localstack, inbox_back_afterwards
):
    with paused(localstack), pytest.raises(requests.Timeout):
        requests.get(f"{localstack.inbox_url}/api/health", timeout=1)
    assert InboxClient(localstack.inbox_url).health() is not None


def test_an_inbox_the_kit_did_not_start_cannot_be_taken_away(localstack, tmp_path):
    from dataclasses import replace

    elsewhere = replace(localstack, state_dir=tmp_path)  # no record of an inbox there
    with pytest.raises(LearnerError, match="was not started by the kit"), outage(elsewhere):
        pass


def test_refused_prints_the_code_and_a_long_message_by_its_two_ends(localstack, capsys):
    sfn = client("stepfunctions", localstack)
    with refused(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken=str(uuid.uuid4()), output="{}")
    with refused(sfn.exceptions.ValidationException):
        sfn.send_task_success(taskToken="x" * 3000, output="{}")
    first, second = capsys.readouterr().out.splitlines()
    assert first == "InvalidToken: Invalid Token: 'Invalid token'"
    assert second.startswith("ValidationException: 1 validation error") and " [...] " in second
    assert len(second) < 200


def test_refused_stops_when_the_call_was_accepted_or_refused_otherwise(localstack):
    sfn = client("stepfunctions", localstack)
    with pytest.raises(AssertionError, match="accepted"), refused(sfn.exceptions.InvalidToken):
        sfn.list_state_machines()
    with pytest.raises(ClientError), refused(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=str(uuid.uuid4()), output="{}")


def printed(capsys) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_check_approved_by_passes_the_answer_and_not_the_untouched_workflow(
    localstack, deployment, capsys
):
    mine = load_template(JSONATA)
    check_approved_by(localstack, mine)
    assert printed(capsys) == "Not yet: the execution SUCCEEDED, approvedBy is None"
    mine["States"]["MergeToMaster"]["Arguments"]["Payload"] = (
        "{% $merge([$states.input, {'approvedBy': $review.reviewer}]) %}"
    )
    check_approved_by(localstack, mine)
    assert printed(capsys).startswith("✓ approvedBy is bob")


def heartbeat_alive(sfn):
    def is_alive(token):
        try:
            sfn.send_task_heartbeat(taskToken=token)
        except (
            sfn.exceptions.TaskTimedOut,
            sfn.exceptions.InvalidToken,
            sfn.exceptions.ValidationException,
        ):
            return False
        return True

    return is_alive


def test_check_is_alive_passes_a_heartbeat_and_catches_an_answer_that_decides(
    localstack, deployment, capsys
):
    sfn = client("stepfunctions", localstack)
    check_is_alive(localstack, heartbeat_alive(sfn))
    assert printed(capsys) == (
        "✓ is_alive tells the live token from the refused ones, and decides nothing"
    )

    def deciding(token):  # right about every token, but it spends the live one
        try:
            sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
        except ClientError:
            return False
        return True

    check_is_alive(localstack, deciding)
    assert printed(capsys) == "Not yet: wrong for: Bob's review, which is_alive decided"
    check_is_alive(localstack, lambda token: True)
    assert printed(capsys).startswith("Not yet: wrong for: Ana's token, already used; a token")


def right_waits(rule):
    waits, wait = [], rule.get("IntervalSeconds", 1)
    for _ in range(rule.get("MaxAttempts", 3)):
        waits.append(min(wait, rule.get("MaxDelaySeconds", wait)))
        wait *= rule.get("BackoffRate", 2.0)
    return waits


def test_check_retry_waits_names_a_rule_it_gets_wrong_without_running_anything(
    localstack, deployment, capsys
):
    def no_cap(rule):
        interval, backoff = rule.get("IntervalSeconds", 1), rule.get("BackoffRate", 2.0)
        return [interval * backoff**n for n in range(rule.get("MaxAttempts", 3))]

    check_retry_waits(localstack, no_cap)
    out = printed(capsys)
    assert (
        out.startswith("Not yet: ")
        and "gave [2.0, 4.0, 8.0, 16.0, 32.0], not [2, 4, 8, 10, 10]" in out
    )


def test_check_retry_waits_compares_the_answer_with_a_live_outage(
    localstack, deployment, capsys, inbox_back_afterwards
):
    check_retry_waits(localstack, right_waits)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2].startswith("Step Functions waited [1.0, 2.0, 2.0] s; it ended FAILED")
    assert lines[-1] == (
        "✓ retry_waits knows the schedule: the colleague's rule gives up after 5 s, the "
        "kit's after 15 s"
    )
    assert InboxClient(localstack.inbox_url).health() is not None


def test_the_tokens_of_a_two_reviewers_execution_are_listed_by_reviewer(localstack, deployment):
    from sfnlab.deploy.resources import deploy_state_machine
    from sfnlab.exercise import TWO_REVIEWERS_FILE, TWO_REVIEWERS_MACHINE

    deploy_state_machine(localstack, TWO_REVIEWERS_MACHINE, PROJECT_ROOT / TWO_REVIEWERS_FILE)
    started = executions.start(localstack, machine=TWO_REVIEWERS_MACHINE)
    waiting = executions.wait_for_reviews(localstack, started.arn, count=2)
    assert sorted(waiting.waiting_in) == ["AskAna", "AskBob"]
    current, tokens = approval.waiting_tokens(localstack, started.name)
    assert current.arn == started.arn
    by_state = executions.history(localstack, started.arn).tokens()
    assert {(t.reviewer, t.state, t.token) for t in tokens} == {
        ("ana", "AskAna", by_state["AskAna"]),
        ("bob", "AskBob", by_state["AskBob"]),
    }
    client("stepfunctions", localstack).stop_execution(executionArn=started.arn)
