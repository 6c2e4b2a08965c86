"""TestState of the exercise's states, as AWS answers it (patches `test_state_retried_errors`,
`test_state_failed_task_inspection`, `test_state_after_input_path`).

AWS's behaviour is the one LocalStack's own AWS-validated TestState snapshots record: a
mocked error is retried (RETRIABLE, `errorDetails.retryIndex` and
`retryBackoffIntervalSeconds`), caught (CAUGHT_ERROR, `catchIndex`, the catcher's `Next`)
or fails the state; a failed task shows no result; a Choice and a Fail show `input` and
`afterInputPath`; every inspection field is JSON text. The state machine below has the
shape of the exercise's (a `.waitForTaskToken` Lambda task with a Retry, a Catch for its
timeout and a ResultPath, then a Choice on the decision and two Fail states), and is
tested by `stateName`, as the kit's `sfnlab test-state` does. Nothing is deployed: every
Task's result is mocked.
"""

from __future__ import annotations

import json

import pytest
from localstack_python import in_localstack

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:test-notify"
NOTIFY = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
    "Parameters": {"FunctionName": FUNCTION, "Payload": {"token.$": "$$.Task.Token", "in.$": "$"}},
    "ResultPath": "$.review",
    "Retry": [
        {"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 3},
        {"ErrorEquals": ["InboxUnreachable"], "IntervalSeconds": 1, "MaxAttempts": 4},
    ],
    "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "TimedOut"}],
    "Next": "Decide",
}
DEFINITION = {
    "StartAt": "Notify",
    "States": {
        "Notify": NOTIFY,
        "Decide": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.review.approved", "BooleanEquals": True, "Next": "Merge"}],
            "Default": "Rejected",
        },
        "Rejected": {"Type": "Fail", "Error": "ReviewRejected", "CausePath": "$.review.summary"},
        "TimedOut": {"Type": "Fail", "Error": "ReviewTimedOut", "Cause": "nobody decided"},
        "Merge": {"Type": "Succeed"},
    },
}
INPUT = {"issue": {"id": "ISSUE-7"}, "branch": "fix/login"}
DECISION = {"approved": True, "reviewer": "ana", "summary": "fine"}


def run(sfn_client, state: str, state_input: dict, definition: dict = DEFINITION, **request):
    answer = sfn_client.test_state(
        definition=json.dumps(definition),
        stateName=state,
        input=json.dumps(state_input),
        inspectionLevel="DEBUG",
        **request,
    )
    answer.pop("ResponseMetadata")
    return answer


def mocked_error(error: str, cause: str = "mocked") -> dict:
    return {"mock": {"errorOutput": {"error": error, "cause": cause}}}


def test_a_mocked_timeout_is_caught_by_the_tasks_catch(sfn_client):
    answer = run(sfn_client, "Notify", INPUT, **mocked_error("States.Timeout", "slow reviewers"))
    timeout = {"Error": "States.Timeout", "Cause": "slow reviewers"}
    assert answer["status"] == "CAUGHT_ERROR"
    assert answer["nextState"] == "TimedOut"
    assert (answer["error"], answer["cause"]) == ("States.Timeout", "slow reviewers")
    assert json.loads(answer["output"]) == {**INPUT, "timeout": timeout}
    data = answer["inspectionData"]
    assert data["errorDetails"] == {"catchIndex": 0}  # no retrier matched: no retryIndex
    assert json.loads(data["afterResultPath"]) == {**INPUT, "timeout": timeout}


@pytest.mark.parametrize(
    ("error", "retrier"), [("Lambda.ServiceException", 0), ("InboxUnreachable", 1)]
)
def test_a_mocked_error_a_retrier_matches_is_retriable(sfn_client, error, retrier):
    answer = run(sfn_client, "Notify", INPUT, **mocked_error(error))
    assert answer["status"] == "RETRIABLE"
    assert (answer["error"], answer["cause"]) == (error, "mocked")
    assert "nextState" not in answer and "output" not in answer
    assert answer["inspectionData"]["errorDetails"] == {
        "retryIndex": retrier,
        "retryBackoffIntervalSeconds": 1,
    }


def test_a_retrier_out_of_attempts_fails_the_state(sfn_client):
    """As AWS's snapshot of a retry count past MaxAttempts: FAILED, the retrier named."""
    answer = run(
        sfn_client,
        "Notify",
        INPUT,
        stateConfiguration={"retrierRetryCount": 3},
        **mocked_error("Lambda.ServiceException"),
    )
    assert answer["status"] == "FAILED"
    assert answer["inspectionData"]["errorDetails"] == {"retryIndex": 0}


def test_a_mocked_error_nothing_matches_fails_the_state_and_shows_no_result(sfn_client):
    answer = run(sfn_client, "Notify", INPUT, **mocked_error("Boom", "the reviewers' bot broke"))
    assert answer["status"] == "FAILED"
    assert (answer["error"], answer["cause"]) == ("Boom", "the reviewers' bot broke")
    assert set(answer["inspectionData"]) == {"input", "afterInputPath", "afterParameters"}


@pytest.mark.parametrize("result_path", ["$.review", None], ids=["ResultPath", "no-ResultPath"])
def test_a_mocked_result_goes_through_every_step_of_the_data_flow(sfn_client, result_path):
    """The review's decision, mocked, lands where ResultPath puts it; without ResultPath
    it replaces the input (the mistake a learner sees here at once)."""
    notify = {key: value for key, value in NOTIFY.items() if key != "ResultPath"}
    if result_path:
        notify["ResultPath"] = result_path
    definition = {**DEFINITION, "States": {**DEFINITION["States"], "Notify": notify}}
    answer = run(sfn_client, "Notify", INPUT, definition, mock={"result": json.dumps(DECISION)})
    expected = {**INPUT, "review": DECISION} if result_path else DECISION
    assert answer["status"] == "SUCCEEDED" and answer["nextState"] == "Decide"
    data = answer["inspectionData"]
    assert all(isinstance(value, str) for value in data.values())  # JSON text, each
    steps = {key: json.loads(value) for key, value in data.items()}
    parameters = steps.pop("afterParameters")
    assert parameters["FunctionName"] == FUNCTION and parameters["Payload"]["in"] == INPUT
    assert parameters["Payload"]["token"]  # $$.Task.Token: a token was handed out
    assert steps == {
        "input": INPUT,
        "afterInputPath": INPUT,
        "result": DECISION,
        "afterResultSelector": DECISION,
        "afterResultPath": expected,
    }
    assert json.loads(answer["output"]) == expected


@pytest.mark.parametrize(
    ("approved", "next_state"), [(True, "Merge"), (False, "Rejected")], ids=["approved", "rejected"]
)
@pytest.mark.parametrize("by_name", [True, False], ids=["stateName", "single-state"])
def test_the_choice_shows_its_input_after_input_path_as_json_text(
    sfn_client, approved, next_state, by_name
):
    state_input = {**INPUT, "review": {**DECISION, "approved": approved}}
    if by_name:
        answer = run(sfn_client, "Decide", state_input)
    else:
        answer = sfn_client.test_state(
            definition=json.dumps(DEFINITION["States"]["Decide"]),
            input=json.dumps(state_input),
            inspectionLevel="DEBUG",
        )
    assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", next_state)
    assert answer["inspectionData"] == {
        "input": json.dumps(state_input),
        "afterInputPath": json.dumps(state_input),
    }


def test_after_input_path_is_after_the_states_input_path(sfn_client):
    decide = {**DEFINITION["States"]["Decide"], "InputPath": "$.review"}
    decide["Choices"] = [{"Variable": "$.approved", "BooleanEquals": True, "Next": "Merge"}]
    definition = {**DEFINITION, "States": {**DEFINITION["States"], "Decide": decide}}
    answer = run(sfn_client, "Decide", {**INPUT, "review": DECISION}, definition)
    assert json.loads(answer["inspectionData"]["afterInputPath"]) == DECISION
    assert answer["nextState"] == "Merge"


def test_the_fail_states_show_their_input_and_error(sfn_client):
    rejected = {**INPUT, "review": {**DECISION, "approved": False, "summary": "too risky"}}
    answer = run(sfn_client, "Rejected", rejected)
    assert (answer["status"], answer["error"], answer["cause"]) == (
        "FAILED",
        "ReviewRejected",
        "too risky",
    )
    assert "nextState" not in answer
    assert answer["inspectionData"] == {
        "input": json.dumps(rejected),
        "afterInputPath": json.dumps(rejected),
    }
    timed_out = run(sfn_client, "TimedOut", INPUT)
    assert (timed_out["error"], timed_out["cause"]) == ("ReviewTimedOut", "nobody decided")


# LocalStack 4.14.0 as shipped: its TestState provider run in LocalStack's own Python, on
# the same state machine, without the patches. No server is started.
AS_SHIPPED = """
import json, os
from localstack.aws.api import RequestContext
from localstack.services.stepfunctions.provider import StepFunctionsProvider

context = RequestContext(None)
context.account_id, context.region = "000000000000", "us-east-1"
definition = os.environ["DEFINITION"]
state_input = os.environ["STATE_INPUT"]
def test(state, **request):
    return StepFunctionsProvider().test_state(context, {
        "definition": definition, "stateName": state, "input": state_input,
        "inspectionLevel": "DEBUG", **request})
print(json.dumps({
    "caught": test("Notify", mock={"errorOutput": {"error": "States.Timeout", "cause": "x"}}),
    "failed": test("Notify", mock={"errorOutput": {"error": "Boom", "cause": "x"}}),
    "choice": test("Decide"),
}, default=str))
"""


@pytest.fixture(scope="module")
def as_shipped(monkeypatch_module) -> dict:
    monkeypatch_module.setenv("DEFINITION", json.dumps(DEFINITION))
    monkeypatch_module.setenv("STATE_INPUT", json.dumps({**INPUT, "review": DECISION}))
    return in_localstack(AS_SHIPPED)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_as_shipped_a_mocked_error_on_a_state_with_a_retry_is_a_runtime_error(as_shipped):
    """The defect `test_state_retried_errors` fixes; when LocalStack fixes it, this fails."""
    for case in ("caught", "failed"):
        answer = as_shipped[case]
        assert (answer["status"], answer["error"]) == ("FAILED", "States.Runtime")
        assert "'NoneType' object has no attribute 'get'" in answer["cause"]


def test_as_shipped_a_failed_task_shows_its_input_as_after_result_selector(as_shipped):
    """The defect `test_state_failed_task_inspection` fixes."""
    data = as_shipped["failed"]["inspectionData"]
    assert "result" not in data
    assert json.loads(data["afterResultSelector"]) == {**INPUT, "review": DECISION}


def test_as_shipped_a_choice_tested_by_name_has_no_after_input_path(as_shipped):
    """The defect `test_state_after_input_path` fixes."""
    assert set(as_shipped["choice"]["inspectionData"]) == {"input"}
