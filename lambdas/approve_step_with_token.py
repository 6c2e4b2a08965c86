"""The manual step: a reviewer approves or rejects, handing back the task token.

Invoke it yourself (see test-events/approveTaskTest.json and rejectTaskTest.json):
    {"token": "<task token>", "approve": true, "reviewer": "bob", "comment": "Looks good"}
It sends the decision to Step Functions with SendTaskSuccess; the state machine's Choice
then merges (approved) or ends in its Fail state (rejected). It returns the event it got,
with the `decision` it sent. With "heartbeat": true
instead of "approve", it only tells Step Functions the review is still going on.

Its role may call states:SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat only.
"""

import datetime
import json

import boto3
from botocore.exceptions import ClientError

# Created once per execution environment and reused by later invocations.
stepfunctions = boto3.client("stepfunctions")

TOKEN_PLACEHOLDER_MARKS = ("<", ">", "paste", " ")


class TokenMissing(Exception):
    """No task token in the event."""


class TokenMalformed(Exception):
    """The token cannot be a task token (a placeholder, cut short, with spaces...)."""


class TokenNotWaiting(Exception):
    """Step Functions has no task waiting for this token (any more)."""


class DecisionMissing(Exception):
    """Neither approve: true/false nor heartbeat: true."""


def read_token(event):
    token = event.get("token") or event.get("taskToken")
    if not token:
        raise TokenMissing(
            'The event has no "token". Copy the task token from the reviewers\' notification '
            "in the inbox (or run `sfnlab token`) into the event."
        )
    token = str(token).strip()
    if any(mark in token for mark in TOKEN_PLACEHOLDER_MARKS) or len(token) < 16:
        raise TokenMalformed(
            f"{token[:60]!r} is not a task token: it still looks like the placeholder, or "
            "was cut short when copied. Copy the whole taskToken value from the reviewers' "
            "notification."
        )
    return token


def read_decision(event):
    """The decision to hand to Step Functions: approved or not, by whom, and why."""
    approve = event.get("approve")
    if isinstance(approve, str) and approve.lower() in ("true", "false", "yes", "no"):
        approve = approve.lower() in ("true", "yes")
    if not isinstance(approve, bool):
        raise DecisionMissing(
            'Say what the review decided: "approve": true or "approve": false '
            '(or "heartbeat": true to say the review is still going on).'
        )
    reviewer = str(event.get("reviewer") or "a reviewer")
    comment = str(event.get("comment") or "")
    verdict = "Approved" if approve else "Rejected"
    summary = f"{verdict} by {reviewer}" + (f": {comment}" if comment else "")
    return {
        "approved": approve,
        "reviewer": reviewer,
        "comment": comment,
        "summary": summary,
        "decidedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def explain(error):
    """Turn Step Functions' refusal into the likely cause, in the reviewer's words."""
    code = error.response.get("Error", {}).get("Code", "")
    if code in ("InvalidToken", "TaskDoesNotExist", "TaskTimedOut"):
        return TokenNotWaiting(
            f"Step Functions has no task waiting for this token ({code}). Most likely it was "
            "already used (a token approves or rejects once), or its execution has ended or "
            "timed out. Start a new execution and use the token from its notification."
        )
    return error


def lambda_handler(event, context):
    token = read_token(event)
    try:
        if event.get("heartbeat") is True:
            stepfunctions.send_task_heartbeat(taskToken=token)
            print(json.dumps({"message": "heartbeat sent", "requestId": context.aws_request_id}))
            return event
        decision = read_decision(event)
        stepfunctions.send_task_success(taskToken=token, output=json.dumps(decision))
    except ClientError as error:
        raise explain(error) from None
    print(json.dumps({"message": decision["summary"], "requestId": context.aws_request_id}))
    return {**event, "decision": decision}
