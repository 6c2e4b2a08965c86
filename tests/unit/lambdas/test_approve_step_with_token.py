"""The approve Lambda checks its input before it ever calls Step Functions."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

TOKEN = "1234abcd-5678-4f00-9abc-def012345678"


def test_missing_token_says_where_to_find_one(handlers, context):
    with pytest.raises(handlers.approve_step_with_token.TokenMissing, match="inbox"):
        handlers.approve_step_with_token.lambda_handler({"approve": True}, context)


@pytest.mark.parametrize(
    "token", ["<paste the taskToken from the reviewers' notification here>", "1234abcd", "12 34"]
)
def test_placeholder_or_cut_token_is_malformed(handlers, context, token):
    with pytest.raises(handlers.approve_step_with_token.TokenMalformed, match="not a task token"):
        handlers.approve_step_with_token.lambda_handler({"token": token, "approve": True}, context)


def test_missing_decision_says_what_to_write(handlers, context):
    with pytest.raises(handlers.approve_step_with_token.DecisionMissing, match='"approve": true'):
        handlers.approve_step_with_token.lambda_handler({"token": TOKEN}, context)


def test_decision_names_reviewer_and_comment(handlers):
    decision = handlers.approve_step_with_token.read_decision(
        {"approve": False, "reviewer": "bob", "comment": "needs tests"}
    )
    assert decision["approved"] is False
    assert decision["summary"] == "Rejected by bob: needs tests"


@pytest.mark.parametrize("value", [True, False])
def test_approve_takes_json_true_and_false(handlers, value):
    assert handlers.approve_step_with_token.read_decision({"approve": value})["approved"] is value


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("yes", '"yes"'),
        ("true", '"true"'),
        ("No", '"No"'),
        (1, "1"),
        (0, "0"),
        (None, "null"),
        ([True], "[true]"),
        ({"ok": True}, '{"ok": true}'),
    ],
)
def test_any_other_approve_is_refused_quoting_what_was_given(handlers, context, value, quoted):
    """The contract says true or false: "yes" is no approval, and 0 is no missing value."""
    module = handlers.approve_step_with_token
    event = {"token": TOKEN, "approve": value}
    with pytest.raises(module.DecisionInvalid) as refused_decision:
        module.lambda_handler(event, context)
    message = str(refused_decision.value)
    assert f'"approve": {quoted}' in message
    assert "true or false" in message and "missing" not in message


def test_a_long_approve_value_is_quoted_short(handlers):
    with pytest.raises(handlers.approve_step_with_token.DecisionInvalid) as refused_decision:
        handlers.approve_step_with_token.read_decision({"approve": "y" * 10_000})
    assert len(str(refused_decision.value)) < 400


def refused(code: str, message: str = "") -> ClientError:
    """Step Functions' refusal as botocore raises it (the codes its API reference lists)."""
    return ClientError({"Error": {"Code": code, "Message": message}}, "SendTaskSuccess")


SPENT_MESSAGE = "Task Timed Out: 'Provided task does not exist anymore'"


def test_a_spent_token_says_the_review_is_over_and_what_to_do(handlers):
    error = handlers.approve_step_with_token.explain(refused("TaskTimedOut", SPENT_MESSAGE))
    assert type(error).__name__ == "TokenNotWaiting"
    message = str(error)
    # Each way a review ends on AWS answers TaskTimedOut: all are named, and the way out.
    for cause in ("already used", "timed out", "stopped", "ended", "start a new execution"):
        assert cause in message, cause


def test_a_token_never_issued_is_named_unknown_not_waiting(handlers):
    error = handlers.approve_step_with_token.explain(refused("InvalidToken", "Invalid Token"))
    assert type(error).__name__ == "TokenUnknown"
    assert "never issued" in str(error) and "sfnlab token" in str(error)
    assert "already used" not in str(error)


def test_a_task_that_no_longer_exists_is_a_token_not_waiting(handlers):
    """TaskDoesNotExist: the token was issued, its task is gone (its execution ended)."""
    error = handlers.approve_step_with_token.explain(refused("TaskDoesNotExist", "gone"))
    assert type(error).__name__ == "TokenNotWaiting"
    assert "TaskDoesNotExist" in str(error) and "never issued" not in str(error)


def test_a_token_step_functions_calls_malformed_is_named_so(handlers):
    message = (
        "1 validation error detected: Value '" + "t" * 3000 + "' at 'taskToken' failed to "
        "satisfy constraint: Member must have length less than or equal to 2048"
    )
    error = handlers.approve_step_with_token.explain(refused("ValidationException", message))
    assert type(error).__name__ == "TokenMalformed"
    assert "2,048 characters" in str(error) and len(str(error)) < 800


def test_an_output_refused_as_too_long_asks_for_a_shorter_comment(handlers):
    message = (
        "1 validation error detected: Value at 'output' failed to satisfy constraint: "
        "Member must have length less than or equal to 262144"
    )
    error = handlers.approve_step_with_token.explain(refused("ValidationException", message))
    assert type(error).__name__ == "CommentTooLong"
    assert "Shorten the comment" in str(error)


def test_any_other_refusal_is_passed_on_unchanged(handlers):
    original = refused("AccessDeniedException", "not allowed")
    assert handlers.approve_step_with_token.explain(original) is original


def test_a_comment_too_large_for_step_functions_is_refused_before_sending(handlers, context):
    # 256 KiB is SendTaskSuccess's output limit; nothing is sent (no LocalStack here).
    event = {"token": TOKEN, "approve": False, "comment": "x" * 262144}
    with pytest.raises(handlers.approve_step_with_token.CommentTooLong, match="256 KiB"):
        handlers.approve_step_with_token.lambda_handler(event, context)


def test_a_long_comment_within_the_limit_is_kept_whole(handlers):
    decision = handlers.approve_step_with_token.read_decision(
        {"approve": True, "comment": "y" * 100_000}
    )
    output = handlers.approve_step_with_token.decision_output(decision)
    assert len(output.encode()) <= 262144 and json.loads(output)["comment"] == "y" * 100_000
