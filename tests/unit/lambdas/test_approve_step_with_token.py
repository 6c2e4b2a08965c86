"""The approve Lambda checks its input before it ever calls Step Functions."""

from __future__ import annotations

import pytest

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


@pytest.mark.parametrize(("value", "approved"), [("true", True), ("No", False), (True, True)])
def test_approve_accepts_booleans_and_their_spellings(handlers, value, approved):
    assert (
        handlers.approve_step_with_token.read_decision({"approve": value})["approved"] is approved
    )
