"""Step 3, Notify Reviewers: ask for a review, then wait for a human decision.

Runs as `lambda:invoke.waitForTaskToken`: Step Functions passes a task token and waits
until somebody hands that token back with SendTaskSuccess (approve or reject). This
step only tells the reviewers, on the inbox's `reviewers` channel: the branch, the
token, the execution's name, and exactly what to run to approve or reject.

Event (built by the state machine):
    {"taskToken": "...", "executionName": "...", "executionArn": "...",
     "reviewer": "(optional) who is asked", "input": {<the payload so far>}}

Environment:
    APPROVE_FUNCTION_NAME  the manual approve Lambda, named in the instructions
    APPROVAL_URL           (optional) the approval page behind a link (approve_by_link.py):
                           the message then carries a link to approve and one to reject
"""

import json
import os
import shlex
from urllib.parse import urlencode

from simulated_action import log, send

APPROVE_FUNCTION_NAME = os.environ.get("APPROVE_FUNCTION_NAME", "approve_step_with_token")
APPROVAL_URL = os.environ.get("APPROVAL_URL", "")


def commands(token, approve):
    """What to paste into a terminal in the kit's folder: nothing needs sourcing first."""
    payload = json.dumps({"token": token, "approve": approve})
    verb = "approve" if approve else "reject"
    return {
        "sfnlab": f".sfnlab/venv/bin/sfnlab {verb} --token {shlex.quote(token)}",
        # The Lambda's answer (the decision, or why the token was refused) is printed:
        # the AWS CLI itself exits 0 even when the function failed.
        "awslocal": (
            f"scripts/awslocal lambda invoke --function-name {APPROVE_FUNCTION_NAME} "
            f"--payload {shlex.quote(payload)} .sfnlab/decision.json "
            "&& cat .sfnlab/decision.json"
        ),
    }


def links(token, execution_arn):
    """A link to approve and one to reject. Each opens a page that asks first: a link
    previewer fetching it decides nothing. Whoever holds one can decide the review."""
    return {
        decision: APPROVAL_URL
        + "?"
        + urlencode({"decision": decision, "execution": execution_arn, "token": token})
        for decision in ("approve", "reject")
    }


def review_request(event):
    token = event["taskToken"]
    payload = event.get("input") or {}
    branch = payload.get("branch", "(no branch)")
    request = {
        "subject": f"Please review branch {branch}",
        "branch": branch,
        "issue": payload.get("issue"),
        "commit": (payload.get("code") or {}).get("commit"),
        "execution": event.get("executionName"),
        "executionArn": event.get("executionArn"),
        "taskToken": token,
        "toApprove": commands(token, True),
        "toReject": commands(token, False),
    }
    if APPROVAL_URL and event.get("executionArn"):
        request["links"] = links(token, event["executionArn"])
    if event.get("reviewer"):
        request["reviewer"] = event["reviewer"]
    return request


def lambda_handler(event, context):
    if not event.get("taskToken"):
        raise ValueError(
            "No taskToken in the event: this step must run as lambda:invoke.waitForTaskToken "
            'with "taskToken.$": "$$.Task.Token" in its Payload.'
        )
    request = review_request(event)
    send("reviewers", request)
    log(context, "review requested", branch=request["branch"], execution=request["execution"])
    return event
