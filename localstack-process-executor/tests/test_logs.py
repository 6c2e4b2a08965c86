"""print and logging output reaches CloudWatch Logs, framed as AWS frames it."""

from __future__ import annotations

import base64

from sfnlab.testing.functions import invoke
from sfnlab.testing.waiting import wait_for

CHATTY = """
import logging

print("loading the module")

def handler(event, context):
    print("hello from print")
    logging.getLogger().warning("hello from logging")
    return "ok"
"""


def log_messages(logs_client, group: str) -> list[str]:
    try:
        events = logs_client.filter_log_events(logGroupName=group)["events"]
    except logs_client.exceptions.ResourceNotFoundException:
        return []
    return [event["message"].rstrip("\n") for event in events]


def test_output_reaches_cloudwatch_with_start_end_report(
    lambda_client, logs_client, create_function
):
    name = create_function(CHATTY)
    response = invoke(lambda_client, name)
    request_id = response["ResponseMetadata"]["RequestId"]
    group = f"/aws/lambda/{name}"
    assert wait_for(lambda: any(m.startswith("REPORT") for m in log_messages(logs_client, group)))
    messages = log_messages(logs_client, group)
    assert messages[0] == "loading the module"  # the init phase comes first, as on AWS
    assert messages[1] == f"START RequestId: {request_id} Version: $LATEST"
    assert "hello from print" in messages
    warning = next(m for m in messages if "hello from logging" in m)
    assert warning.startswith("[WARNING]\t") and f"\t{request_id}\t" in warning
    assert f"END RequestId: {request_id}" in messages
    report = next(m for m in messages if m.startswith("REPORT"))
    assert report.startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert "Init Duration" in report  # first invocation of the environment


def test_log_type_tail_returns_the_tail(lambda_client, create_function):
    name = create_function(CHATTY)
    invoke(lambda_client, name)
    response = invoke(lambda_client, name, LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    lines = tail.splitlines()
    assert lines[0].startswith("START RequestId:")
    assert "hello from print" in lines
    assert lines[-1].startswith("REPORT RequestId:")
    assert "Init Duration" not in tail  # warm: the init was paid by the first invocation


# Output of a few KiB travels with the response; this much goes in a request of its own.
LONG_LINES = 600
LONG = f"""
def handler(event, context):
    for number in range({LONG_LINES} if event.get("long", True) else 0):
        print("line", number, "é" * 20)
    return event.get("answer")
"""


def tail_of(response: dict) -> str:
    # The tail is the last 4 KiB of bytes: it may begin inside a character.
    return base64.b64decode(response["LogResult"]).decode(errors="replace")


def test_long_output_reaches_cloudwatch_and_the_tail_whole(
    lambda_client, logs_client, create_function
):
    name = create_function(LONG)
    response = invoke(lambda_client, name, {"answer": 42}, LogType="Tail")
    assert response["Payload"] == 42
    assert tail_of(response).splitlines()[-1].startswith("REPORT RequestId:")
    group = f"/aws/lambda/{name}"
    assert wait_for(lambda: any(m.startswith("REPORT") for m in log_messages(logs_client, group)))
    printed = [m for m in log_messages(logs_client, group) if m.startswith("line ")]
    assert printed == [f"line {number} {'é' * 20}" for number in range(LONG_LINES)]


def test_short_and_long_output_in_turn_each_stay_with_their_invocation(
    lambda_client, create_function
):
    name = create_function(LONG)
    for long in (False, True, False):
        response = invoke(lambda_client, name, {"answer": long, "long": long}, LogType="Tail")
        request_id = response["ResponseMetadata"]["RequestId"]
        tail = tail_of(response)
        assert response["Payload"] is long
        assert tail.splitlines()[-1].startswith(f"REPORT RequestId: {request_id}")
        assert (f"line {LONG_LINES - 1}" in tail) is long
        if not long:
            assert tail.splitlines()[0].startswith(f"START RequestId: {request_id}")
