"""A task token decides its task once (patch `spent_task_tokens`).

AWS Step Functions API reference, SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat:
`TaskTimedOut` is "The task token has either expired or the task associated with the
token has already been closed"; `InvalidToken` is "The provided token is not valid".
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from token_waits import (
    ROLE,
    ended,
    event_types,
    events,
    refusal,
    start_waiting,
    status,
    submitted,
    tokens,
    waiting_task,
)

from sfnlab.deploy.resources import deploy_state_machine
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.waiting import wait_for

SPENT = ("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")


def every_call(sfn_client, token: str) -> dict:
    return {
        "success": refusal(sfn_client.send_task_success, taskToken=token, output="{}"),
        "failure": refusal(sfn_client.send_task_failure, taskToken=token, error="Again"),
        "heartbeat": refusal(sfn_client.send_task_heartbeat, taskToken=token),
    }


ALL_SPENT = {"success": SPENT, "failure": SPENT, "heartbeat": SPENT}


def test_a_decided_token_is_refused_after_its_execution_ended(sfn_client, token_machine):
    """AWS: once its task is closed, SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat
    with the token all answer TaskTimedOut, also after the execution has ended (not
    InvalidToken: the token was valid, its task is over), and change nothing."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    sfn_client.send_task_success(taskToken=waiting.token, output=json.dumps({"approved": True}))
    assert ended(sfn_client, waiting.arn) == "SUCCEEDED"
    assert every_call(sfn_client, waiting.token) == ALL_SPENT
    output = json.loads(sfn_client.describe_execution(executionArn=waiting.arn)["output"])
    assert output == {"approved": True}


def test_a_failed_task_refuses_its_token_too(sfn_client, token_machine):
    """AWS: SendTaskFailure closes the task as SendTaskSuccess does: the token is then
    TaskTimedOut for every call."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    sfn_client.send_task_failure(taskToken=waiting.token, error="Rejected", cause="no tests")
    assert ended(sfn_client, waiting.arn) == "FAILED"
    assert every_call(sfn_client, waiting.token) == ALL_SPENT


@pytest.fixture(scope="module")
def two_reviewers(localstack, deployment):
    """The kit's two-reviewers workflow: a Parallel state, a waiting task in each branch."""
    return deploy_state_machine(
        localstack,
        "TestSpentTokensTwoReviewers",
        PROJECT_ROOT / "definitions" / "TwoReviewersStepFunction.json",
        review_timeout=120,
    )


def start_two_reviews(sfn_client, machine: str) -> tuple[str, dict[str, str]]:
    """An execution waiting for both reviewers, and each reviewer's token."""
    arn = sfn_client.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    assert wait_for(lambda: submitted(sfn_client, arn, 2), timeout=30)
    payloads = [
        json.loads(event["taskScheduledEventDetails"]["parameters"])["Payload"]
        for event in sfn_client.get_execution_history(executionArn=arn)["events"]
        if event["type"] == "TaskScheduled"
    ]
    return arn, {p["reviewer"]: p["taskToken"] for p in payloads if "reviewer" in p}


def test_a_spent_token_is_refused_while_the_other_reviewer_still_reviews(sfn_client, two_reviewers):
    """AWS: in a Parallel state, Ana's task is closed once Ana has decided, although the
    execution runs on (Bob's branch waits): every call with her token is TaskTimedOut and
    changes nothing, while Bob's token still works."""
    arn, token_of = start_two_reviews(sfn_client, two_reviewers)
    ana = json.dumps({"approved": True, "summary": "Approved by ana"})
    sfn_client.send_task_success(taskToken=token_of["ana"], output=ana)
    assert wait_for(lambda: "TaskSucceeded" in event_types(sfn_client, arn), timeout=10)
    assert every_call(sfn_client, token_of["ana"]) == ALL_SPENT
    assert status(sfn_client, arn) == "RUNNING"
    assert refusal(sfn_client.send_task_heartbeat, taskToken=token_of["bob"]) is None
    bob = json.dumps({"approved": True, "summary": "Approved by bob"})
    sfn_client.send_task_success(taskToken=token_of["bob"], output=bob)
    assert ended(sfn_client, arn, timeout=30) == "SUCCEEDED"
    reviews = json.loads(sfn_client.describe_execution(executionArn=arn)["output"])["reviews"]
    assert [review["summary"] for review in reviews] == ["Approved by ana", "Approved by bob"]


def test_of_two_decisions_at_once_exactly_one_is_accepted(sfn_client, token_machine):
    """AWS: the first decision closes the task; of two SendTaskSuccess calls racing each
    other one is accepted, the other is TaskTimedOut, and the execution's output is the
    accepted one's."""
    machine = token_machine(TimeoutSeconds=60)
    for _ in range(5):
        waiting = start_waiting(sfn_client, machine)
        results: dict[str, object] = {}
        barrier = threading.Barrier(2)

        def decide(who: str, token: str = waiting.token, barrier=barrier, results=results):
            barrier.wait()
            output = json.dumps({"by": who})
            results[who] = refusal(sfn_client.send_task_success, taskToken=token, output=output)

        threads = [threading.Thread(target=decide, args=(who,)) for who in ("ana", "bob")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        accepted = [who for who, result in results.items() if result is None]
        assert len(accepted) == 1 and SPENT in results.values(), results
        assert ended(sfn_client, waiting.arn) == "SUCCEEDED"
        output = json.loads(sfn_client.describe_execution(executionArn=waiting.arn)["output"])
        assert output == {"by": accepted[0]}


def test_an_expired_review_refuses_its_token(sfn_client, token_machine):
    """AWS: a task whose TimeoutSeconds have passed is closed (States.Timeout, caught here):
    its token is then TaskTimedOut for every call."""
    catch = [{"ErrorEquals": ["States.Timeout"], "Next": "Expired"}]
    expired = {"Expired": {"Type": "Fail", "Error": "ReviewExpired"}}
    waiting = start_waiting(sfn_client, token_machine(expired, TimeoutSeconds=2, Catch=catch))
    assert ended(sfn_client, waiting.arn, timeout=20) == "FAILED"
    assert sfn_client.describe_execution(executionArn=waiting.arn)["error"] == "ReviewExpired"
    assert every_call(sfn_client, waiting.token) == ALL_SPENT


def test_an_expired_review_refuses_its_token_while_the_execution_runs_on(sfn_client, token_machine):
    """AWS: the timed-out task is closed even while its execution goes on (here it waits
    in a Wait state after the Catch): TaskTimedOut, and the execution is not diverted."""
    catch = [{"ErrorEquals": ["States.Timeout"], "Next": "Linger"}]
    linger = {"Linger": {"Type": "Wait", "Seconds": 5, "End": True}}
    waiting = start_waiting(sfn_client, token_machine(linger, TimeoutSeconds=1, Catch=catch))
    assert wait_for(lambda: "WaitStateEntered" in event_types(sfn_client, waiting.arn), 20)
    assert status(sfn_client, waiting.arn) == "RUNNING"
    assert every_call(sfn_client, waiting.token) == ALL_SPENT
    assert ended(sfn_client, waiting.arn, timeout=20) == "SUCCEEDED"
    assert "TaskSucceeded" not in event_types(sfn_client, waiting.arn)


def test_a_token_no_task_was_given_is_still_invalid(sfn_client):
    """AWS: a token Step Functions never issued is InvalidToken ("The provided token is not
    valid"), not TaskTimedOut."""
    assert refusal(sfn_client.send_task_success, taskToken="0" * 36, output="{}")[0] == (
        "InvalidToken"
    )
    assert refusal(sfn_client.send_task_heartbeat, taskToken="0" * 36)[0] == "InvalidToken"


def test_a_token_of_an_execution_stopped_while_its_lambda_runs_is_refused(
    sfn_client, token_machine
):
    """AWS: the token is handed out (here in the task's Lambda, which goes on for 3 s, as
    the exercise's Lambda posts the notification and returns); a stop that lands before
    the Lambda returns closes the task: a decision sent right after the stop, still during
    the Lambda, is TaskTimedOut, and the execution ends ABORTED without it."""
    machine = token_machine(TimeoutSeconds=86400, HeartbeatSeconds=3600)
    arn = sfn_client.start_execution(stateMachineArn=machine, input=json.dumps({"sleep": 3}))[
        "executionArn"
    ]
    assert wait_for(lambda: tokens(sfn_client, arn), timeout=10)
    token = tokens(sfn_client, arn)[0]
    sfn_client.stop_execution(executionArn=arn)
    assert every_call(sfn_client, token) == ALL_SPENT
    assert ended(sfn_client, arn, timeout=15) == "ABORTED"
    assert "TaskSucceeded" not in event_types(sfn_client, arn)


def entered(sfn_client, arn: str) -> list[str]:
    """The states the execution has entered so far."""
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in events(sfn_client, arn)
        if "stateEnteredEventDetails" in event
    ]


def test_a_token_of_a_branch_stopped_while_its_lambda_runs_is_refused(sfn_client, notify_function):
    """AWS: when one branch of a Parallel state fails, the other branches are stopped,
    "and activity workers processing a task token are not stopped", but their tokens are
    refused: here Bob's Lambda still runs (6 s) when Ana's branch fails after 1 s; the
    Parallel state's Catch lets the execution run on, and Bob's token is TaskTimedOut
    for every call and changes nothing."""
    bob = waiting_task(notify_function, End=True)
    bob["Parameters"]["Payload"] = {"token.$": "$$.Task.Token", "sleep": 6}
    ana = {
        "StartAt": "Think",
        "States": {
            "Think": {"Type": "Wait", "Seconds": 1, "Next": "Refuse"},
            "Refuse": {"Type": "Fail", "Error": "Rejected"},
        },
    }
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [ana, {"StartAt": "Bob", "States": {"Bob": bob}}],
                "Catch": [{"ErrorEquals": ["Rejected"], "Next": "Linger"}],
                "End": True,
            },
            "Linger": {"Type": "Wait", "Seconds": 8, "End": True},
        },
    }
    machine = sfn_client.create_state_machine(
        name=f"test-branch-stop-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn=ROLE,
    )["stateMachineArn"]
    arn = sfn_client.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    assert wait_for(lambda: "Linger" in entered(sfn_client, arn), timeout=10)
    assert status(sfn_client, arn) == "RUNNING"
    token = tokens(sfn_client, arn)[0]
    assert every_call(sfn_client, token) == ALL_SPENT
    assert ended(sfn_client, arn, timeout=30) == "SUCCEEDED"
    assert "TaskSucceeded" not in event_types(sfn_client, arn)
