"""Each way Step Functions (or the kit) refuses a token reads as what happened and what to do.

AWS answers a token that can decide nothing with `TaskTimedOut` (its task is closed: used,
expired, or its execution stopped), `InvalidToken` or `TaskDoesNotExist`; the approve
Lambda passes the code on in its error. Whichever LocalStack runs (with the kit's patches,
which answer as AWS does, or without), `sfnlab approve` names the cause.
"""

from __future__ import annotations

import pytest

from sfnlab.errors import TokenRefused
from sfnlab.settings import load_settings
from sfnlab.workflow.approval import ended_refusal, refusal, refusal_code, used_refusal
from sfnlab.workflow.executions import Execution
from sfnlab.workflow.history import Visit


def lambda_error(code: str, as_type: bool = False) -> dict:
    """The approve Lambda's error payload for Step Functions' refusal `code`."""
    if as_type:
        return {"errorType": code, "errorMessage": "Task Timed Out: 'Provided task does not exist'"}
    return {
        "errorType": "TokenNotWaiting",
        "errorMessage": f"Step Functions has no task waiting for this token ({code}). Most likely",
    }


@pytest.mark.parametrize("code", ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"])
@pytest.mark.parametrize("as_type", [False, True])
def test_the_refusal_code_is_found_in_the_lambdas_error(code, as_type):
    assert refusal_code(lambda_error(code, as_type)) == code


def test_another_failure_of_the_lambda_is_no_refusal():
    assert refusal_code({"errorType": "TokenMalformed", "errorMessage": "'<paste>' is not"}) is None


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("TaskTimedOut", "its task is closed. It was already used"),
        ("InvalidToken", "does not know this token (InvalidToken): it was mistyped"),
        ("TaskDoesNotExist", "No task waits for this token any more (TaskDoesNotExist)"),
    ],
)
def test_a_refusal_without_a_known_execution_names_the_likely_causes(code, words):
    error = refusal(load_settings(), lambda_error(code), owner=None)
    assert isinstance(error, TokenRefused) and error.exit_code == 4
    assert words in str(error) and "sfnlab" in error.hint


def execution(status: str, error: str | None = None, waiting: bool = False) -> Execution:
    review = Visit("NotifyReviewers", "Task", "waiting" if waiting else "succeeded")
    return Execution("arn", "solve-1", status, error=error, path=[review])


@pytest.mark.parametrize(
    ("ended", "words"),
    [
        (execution("ABORTED"), "Execution solve-1 was stopped (ABORTED)"),
        (execution("TIMED_OUT"), "The review of execution solve-1 timed out"),
        (execution("FAILED", "ReviewTimedOut"), "ended FAILED (ReviewTimedOut)"),
        (execution("SUCCEEDED"), "has already ended (SUCCEEDED)"),
        (execution("FAILED", "ReviewRejected"), "has already ended (FAILED)"),
    ],
)
def test_a_token_of_an_ended_execution_says_how_it_ended(ended, words):
    assert words in str(ended_refusal(ended))


def test_a_spent_token_says_whether_another_review_still_waits():
    assert "moved past the review" in str(used_refusal(execution("RUNNING")))
    still = used_refusal(execution("RUNNING", waiting=True), still_waiting=True)
    assert "still waits, but for another reviewer's token" in str(still)
