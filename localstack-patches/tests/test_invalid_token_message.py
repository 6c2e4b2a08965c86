"""The message of InvalidToken (patch `invalid_token_message`).

AWS Step Functions API reference: `InvalidToken`, "The provided token is not valid", for
SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat. The message AWS sends with it,
`Invalid Token: 'Invalid token'`, is the one AWS's history shows in LocalStack's
AWS-validated test `test_sfn_send_task_outcome_with_no_such_token`.
"""

from __future__ import annotations

from token_waits import refusal, start_waiting

NEVER_ISSUED = ("InvalidToken", "Invalid Token: 'Invalid token'")


def test_a_token_never_issued_is_refused_in_aws_words(sfn_client):
    """AWS: the three calls answer the same code and message for a token never issued."""
    token = "0123456789abcdef" * 3
    assert refusal(sfn_client.send_task_success, taskToken=token, output="{}") == NEVER_ISSUED
    assert refusal(sfn_client.send_task_failure, taskToken=token, error="E") == NEVER_ISSUED
    assert refusal(sfn_client.send_task_heartbeat, taskToken=token) == NEVER_ISSUED


def test_a_spent_token_is_still_task_timed_out(sfn_client, token_machine):
    """AWS: a token that was issued and whose task is over is TaskTimedOut, not
    InvalidToken: the message changes for tokens never issued only."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    sfn_client.send_task_success(taskToken=waiting.token, output="{}")
    code, _ = refusal(sfn_client.send_task_success, taskToken=waiting.token, output="{}")
    assert code == "TaskTimedOut"
