"""Length constraints of SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat (patch
`send_task_length_limits`).

AWS Step Functions API reference: SendTaskFailure `cause` "Length Constraints: Minimum
length of 0. Maximum length of 32768", `error` "Maximum length of 256"; SendTaskSuccess
`output` "Maximum length of 262144 ... expressed as bytes in UTF-8 encoding"; `taskToken`
"Minimum length of 1. Maximum length of 2048". A request outside them fails with the
common error `ValidationException` (HTTP 400, "The input fails to satisfy the constraints
specified by an AWS service"), before the task is touched.
"""

from __future__ import annotations

import json

from token_waits import ended, refusal, start_waiting, status

OUTPUT_MAX = 262144


def too_long(member: str, limit: int) -> str:
    return (
        f"Value at '{member}' failed to satisfy constraint: "
        f"Member must have length less than or equal to {limit}"
    )


def test_a_cause_over_32768_characters_is_refused(sfn_client, token_machine):
    """AWS: `cause` of 32,769 characters is a ValidationException; the task keeps waiting,
    and the same failure with 32,768 characters is accepted and recorded whole."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    assert refusal(
        sfn_client.send_task_failure, taskToken=waiting.token, error="Rejected", cause="c" * 32769
    ) == ("ValidationException", "1 validation error detected: " + too_long("cause", 32768))
    assert status(sfn_client, waiting.arn) == "RUNNING"
    sfn_client.send_task_failure(taskToken=waiting.token, error="Rejected", cause="c" * 32768)
    assert ended(sfn_client, waiting.arn) == "FAILED"
    assert len(sfn_client.describe_execution(executionArn=waiting.arn)["cause"]) == 32768


def test_an_error_over_256_characters_is_refused(sfn_client, token_machine):
    """AWS: `error` of 257 characters is a ValidationException; 256 is accepted."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    assert refusal(sfn_client.send_task_failure, taskToken=waiting.token, error="e" * 257) == (
        "ValidationException",
        "1 validation error detected: " + too_long("error", 256),
    )
    assert refusal(sfn_client.send_task_failure, taskToken=waiting.token, error="e" * 256) is None
    assert ended(sfn_client, waiting.arn) == "FAILED"


def test_every_violation_is_named_at_once(sfn_client, token_machine):
    """AWS: all constraint violations of one request are reported together."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    assert refusal(
        sfn_client.send_task_failure, taskToken=waiting.token, error="e" * 300, cause="c" * 40000
    ) == (
        "ValidationException",
        "2 validation errors detected: " + too_long("error", 256) + "; " + too_long("cause", 32768),
    )


def test_an_output_over_262144_bytes_is_refused_counting_utf8_bytes(sfn_client, token_machine):
    """AWS: `output` is limited to 262,144 bytes of UTF-8: a JSON string of "é"s (two bytes
    each) that is 262,145 bytes is a ValidationException although it has far fewer
    characters; exactly 262,144 bytes is accepted and becomes the task's result."""
    waiting = start_waiting(sfn_client, token_machine(TimeoutSeconds=60))
    over = json.dumps("é" * 131071 + "xx", ensure_ascii=False)  # 2 quotes + 262142 + 2
    assert len(over.encode()) == OUTPUT_MAX + 2 and len(over) < OUTPUT_MAX
    assert refusal(sfn_client.send_task_success, taskToken=waiting.token, output=over) == (
        "ValidationException",
        "1 validation error detected: " + too_long("output", OUTPUT_MAX),
    )
    exact = json.dumps("é" * 131071, ensure_ascii=False)
    assert len(exact.encode()) == OUTPUT_MAX
    assert refusal(sfn_client.send_task_success, taskToken=waiting.token, output=exact) is None
    assert ended(sfn_client, waiting.arn) == "SUCCEEDED"


def test_a_token_over_2048_characters_is_refused_and_shown(sfn_client):
    """AWS: `taskToken` over 2,048 characters is a ValidationException (the token is not a
    sensitive member, so AWS quotes it); one of 2,048 is checked as a token (here one
    nobody issued: InvalidToken)."""
    token = "t" * 2049
    assert refusal(sfn_client.send_task_heartbeat, taskToken=token) == (
        "ValidationException",
        f"1 validation error detected: Value '{token}' at 'taskToken' failed to satisfy "
        "constraint: Member must have length less than or equal to 2048",
    )
    assert refusal(sfn_client.send_task_heartbeat, taskToken="t" * 2048)[0] == "InvalidToken"
