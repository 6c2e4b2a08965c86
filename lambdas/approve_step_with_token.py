"""The manual step: a reviewer approves or rejects, handing back the task token.

Invoke it yourself (see test-events/approveTaskTest.json and rejectTaskTest.json):
    {"token": "<task token>", "approve": true, "reviewer": "bob", "comment": "Looks good"}
It sends the decision to Step Functions with SendTaskSuccess; the state machine's Choice
then merges (approved) or ends in its Fail state (rejected). It returns the event it got,
with the `decision` it sent. With "heartbeat": true
instead of "approve", it only tells Step Functions the review is still going on.

`approve` is JSON `true` or `false`; anything else ("yes", 1, "true") is refused
(DecisionInvalid), quoting what was given. When Step Functions refuses, the error says
what happened and what to do: TokenNotWaiting (the review is over: token already used,
review timed out, execution stopped or ended), TokenUnknown (a token Step Functions never
issued), TokenMalformed, CommentTooLong.

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
    """Step Functions issued this token, but its task waits no more."""


class TokenUnknown(Exception):
    """Step Functions never issued this token."""


class DecisionMissing(Exception):
    """Neither approve: true/false nor heartbeat: true."""


class DecisionInvalid(Exception):
    """`approve` is there, but is not JSON true or false."""


class CommentTooLong(Exception):
    """The decision is larger than Step Functions takes from a task."""


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
    if "approve" not in event:
        raise DecisionMissing(
            'Say what the review decided: "approve": true or "approve": false '
            '(or "heartbeat": true to say the review is still going on).'
        )
    approve = event["approve"]
    if not isinstance(approve, bool):
        # "yes", "true" or 1 might be meant either way: only JSON's own true and false decide.
        given = shorten(json.dumps(approve), 80)
        raise DecisionInvalid(
            f'"approve" must be true or false (JSON, without quotes); the event has '
            f'"approve": {given}. Nothing was sent to Step Functions.'
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


# The most a task's result may hold, in UTF-8 bytes (SendTaskSuccess `output`).
MAX_DECISION_BYTES = 262144

# What Step Functions' refusals mean for the reviewer, and what to do (by error code).
SPENT = (
    "Step Functions no longer waits for this token ({code}): the review it belongs to is "
    "over. Either the token was already used (a token approves or rejects once; with two "
    "reviewers, each has a token of their own), or the review timed out, or its execution "
    "was stopped or has ended. Look at the execution (`sfnlab status`); to review again, "
    "start a new execution and use the token from its notification."
)
UNKNOWN = (
    "Step Functions does not know this token ({code}): it never issued it. It may be "
    "mistyped, cut short or padded when copied, or come from a LocalStack that has since "
    "been restarted. Copy the whole taskToken from the newest reviewers' notification "
    "(`sfnlab token` prints it)."
)
MALFORMED = (
    "Step Functions refuses this token as malformed ({code}: {message}). A task token is "
    "one unbroken string of at most 2,048 characters: copy just the taskToken value from "
    "the reviewers' notification."
)


def explain(error):
    """Turn Step Functions' refusal into what happened and what to do, in the reviewer's words."""
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    if code == "TaskTimedOut":
        return TokenNotWaiting(SPENT.format(code=code))
    if code == "TaskDoesNotExist":  # issued once; its execution has ended since
        return TokenNotWaiting(SPENT.format(code=code))
    if code == "InvalidToken":
        return TokenUnknown(UNKNOWN.format(code=code))
    if code == "ValidationException" and "'taskToken'" in message:
        return TokenMalformed(MALFORMED.format(code=code, message=shorten(message)))
    if code == "ValidationException" and "'output'" in message:
        return too_long()
    return error


def shorten(text, limit=300):
    return text if len(text) <= limit else text[: limit - 3] + "..."


def too_long():
    return CommentTooLong(
        "The decision is too large: Step Functions takes at most 256 KiB from a task "
        "(SendTaskSuccess output). Shorten the comment and send the decision again; the "
        "token still works."
    )


def decision_output(decision):
    output = json.dumps(decision)
    if len(output.encode()) > MAX_DECISION_BYTES:
        raise too_long()
    return output


def lambda_handler(event, context):
    token = read_token(event)
    try:
        if event.get("heartbeat") is True:
            stepfunctions.send_task_heartbeat(taskToken=token)
            print(json.dumps({"message": "heartbeat sent", "requestId": context.aws_request_id}))
            return event
        decision = read_decision(event)
        output = decision_output(decision)
        stepfunctions.send_task_success(taskToken=token, output=output)
    except ClientError as error:
        raise explain(error) from None
    print(json.dumps({"message": decision["summary"], "requestId": context.aws_request_id}))
    return {**event, "decision": decision}
