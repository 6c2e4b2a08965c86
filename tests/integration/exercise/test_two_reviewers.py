"""Two reviewers, two tokens: the kit never chooses the one already used while the other's
can still decide, and lists every token an execution waits for, with its reviewer."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.deploy import remembered
from sfnlab.deploy.resources import deploy_state_machine
from sfnlab.exercise import TWO_REVIEWERS_FILE, TWO_REVIEWERS_MACHINE
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client, state_machine_arns
from sfnlab.workflow import approval, executions, history
from sfnlab.workflow.executions import Execution

TWO_REVIEWERS = TWO_REVIEWERS_MACHINE


@pytest.fixture(scope="module")
def two_reviewers(localstack, deployment) -> str:
    return deploy_state_machine(localstack, TWO_REVIEWERS, PROJECT_ROOT / TWO_REVIEWERS_FILE)


@pytest.fixture
def sfnlab(localstack, monkeypatch):
    """`sfnlab ...` against the session's LocalStack: (exit status, stdout, stderr)."""
    monkeypatch.setenv("SFNLAB_ENDPOINT", localstack.endpoint)
    monkeypatch.setenv("SFNLAB_INBOX_URL", localstack.inbox_url)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(localstack.state_dir))

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, list(args))
        return result.exit_code, result.stdout, result.stderr

    return run


def both_waiting(localstack, two_reviewers) -> tuple[Execution, dict[str, str]]:
    """An execution waiting for both reviewers, and {reviewer: token} from its history."""
    started = executions.start(localstack, machine=TWO_REVIEWERS)
    executions.wait(
        localstack,
        started.arn,
        lambda e: len(e.waiting) == 2 and all(call.has_returned for call in e.waiting),
        what="both reviewers",
    )
    run = history.read_history(
        started.arn, history.fetch_events(client("stepfunctions", localstack), started.arn)
    )
    tokens = {
        call.received["reviewer"]: call.received["taskToken"]
        for call in run.calls_of("sfnlab-notify-reviewers")
    }
    # Both notifications in the inbox before anything is chosen from it.
    assert (
        len([r for r in approval.review_requests(localstack) if r.execution == started.name]) == 2
    )
    return started, tokens


def newest_notification(localstack, started: Execution) -> approval.ReviewRequest:
    return next(r for r in approval.review_requests(localstack) if r.execution == started.name)


def test_every_waiting_token_is_listed_with_its_reviewer(localstack, two_reviewers, sfnlab):
    started, tokens = both_waiting(localstack, two_reviewers)
    code, out, err = sfnlab("token", "--all", "--execution", started.name)
    assert code == 0, err
    rows = sorted(line.split() for line in out.splitlines())
    assert rows == [["ana", "AskAna", tokens["ana"]], ["bob", "AskBob", tokens["bob"]]]
    assert f"execution {started.name} waits for 2 token(s)" in err
    one = sfnlab("token", "--execution", started.name)
    assert one[1].strip() in tokens.values() and "`sfnlab token --all`" in one[2]


def test_after_one_reviewer_decided_the_other_token_is_chosen(localstack, two_reviewers, sfnlab):
    started, tokens = both_waiting(localstack, two_reviewers)
    # The newest notification's reviewer decides first: the one a newest-first choice
    # would pick again.
    first = newest_notification(localstack, started)
    other = next(name for name, token in tokens.items() if token != first.token)
    approval.decide(localstack, True, token=first.token, reviewer=first.reviewer)
    executions.wait(localstack, started.arn, lambda e: len(e.waiting) == 1, what="one review")

    for args in (["token"], ["token", "--execution", started.name]):
        code, out, err = sfnlab(*args)
        assert (code, out.strip()) == (0, tokens[other]), err
        assert f"reviewer {other}" in err
    code, out, _ = sfnlab("token", "--all", "--execution", started.name)
    assert out.split() == [other, f"Ask{other.title()}", tokens[other]]

    # The spent one says so, and where the live one is; nothing is sent.
    code, out, err = sfnlab("approve", "--token", first.token)
    assert code == 4
    assert "still waits, but for another reviewer's token" in err
    assert f"sfnlab token --all --execution {started.name}" in err
    assert "Start a new execution" not in err

    # approve without --token decides the other reviewer's review, and the execution ends.
    code, out, err = sfnlab("approve", "--execution", started.name, "--reviewer", other)
    assert (code, out.strip()) == (0, f"Approved by {other}: Looks good to me"), err
    assert executions.wait_for_end(localstack, started.arn).status == "SUCCEEDED"


def test_the_history_credits_each_branch_its_own_answer(localstack, two_reviewers):
    """Parallel branches interleave their events: each call gets its own decision."""
    started, tokens = both_waiting(localstack, two_reviewers)
    approval.decide(localstack, True, token=tokens["ana"], reviewer="ana")
    current = executions.wait(
        localstack, started.arn, lambda e: len(e.waiting) == 1, what="Bob alone"
    )
    (waiting,) = current.waiting
    assert waiting.state == "AskBob" and waiting.holds(tokens["bob"])
    approval.decide(localstack, False, token=tokens["bob"], reviewer="bob")
    ended = executions.wait_for_end(localstack, started.arn)
    assert (ended.status, ended.error) == ("FAILED", "ReviewRejected")
    run = history.read_history(
        started.arn, history.fetch_events(client("stepfunctions", localstack), started.arn)
    )
    answers = {c.state: c.answer_output["reviewer"] for c in run.calls if c.waits_for_token}
    assert answers == {"AskAna": "ana", "AskBob": "bob"}


def test_the_two_reviewers_workflow_lives_beside_solve_issue(localstack, deployment, sfnlab):
    """Deployed under its own name with the command line: SolveIssue stays as it is, both
    start from `sfnlab start`, and `sfnlab up` brings back each one LocalStack lost."""
    sfn = client("stepfunctions", localstack)
    solve_issue = deployment.state_machine_arn
    before = sfn.describe_state_machine(stateMachineArn=solve_issue)["definition"]
    code, out, err = sfnlab(
        "deploy", "--definition", str(TWO_REVIEWERS_FILE), "--machine", TWO_REVIEWERS_MACHINE
    )
    assert code == 0, err
    assert f"stateMachine:{TWO_REVIEWERS_MACHINE}" in out
    assert sfn.describe_state_machine(stateMachineArn=solve_issue)["definition"] == before
    names = {r.request.state_machine_name for r in remembered.recorded(localstack)}
    assert TWO_REVIEWERS_MACHINE in names

    code, out, err = sfnlab("start", "--machine", TWO_REVIEWERS_MACHINE)
    assert code == 0, err
    two = out.split("Started ", 1)[1].split()[0]
    assert f":execution:{TWO_REVIEWERS_MACHINE}:{two}" in out
    code, out, err = sfnlab("start")
    one = out.split("Started ", 1)[1].split()[0]
    assert f":execution:SolveIssue:{one}" in out

    # `sfnlab status NAME` finds an execution of either by its name alone.
    executions.wait(localstack, two, lambda e: len(e.waiting) == 2, what="the reviews")
    code, out, err = sfnlab("status", two)
    assert code == 0 and out.startswith(f"{two}: RUNNING") and "AskAna" in out, err

    # Lost (as a restart of LocalStack loses everything), it comes back with `sfnlab up`.
    for name in (two, one):
        sfn.stop_execution(executionArn=executions.execution_arn(localstack, name))
    sfn.delete_state_machine(stateMachineArn=state_machine_arns(sfn)[TWO_REVIEWERS_MACHINE])
    code, out, err = sfnlab("up")
    assert code == 0, err
    assert f"LocalStack no longer has {TWO_REVIEWERS_MACHINE}" in err
    assert TWO_REVIEWERS_MACHINE in state_machine_arns(sfn)
    assert sfn.describe_state_machine(stateMachineArn=solve_issue)["definition"] == before
