"""The human step: find the task token the reviewers got, and approve or reject with it.

`decide()` does what a reviewer does by hand: fill the token into the test event
(`test-events/approveTaskTest.json` or `rejectTaskTest.json`) and invoke the approve
Lambda with it. When Step Functions refuses the token, it finds out why (already used?
execution over?) and says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sfnlab import execution as executions
from sfnlab.aws import client
from sfnlab.config import Settings, load_settings
from sfnlab.errors import KitError
from sfnlab.inbox import InboxClient
from sfnlab.polling import poll
from sfnlab.solve_issue import APPROVE, APPROVE_EVENT, DEFAULT_PREFIX, REJECT_EVENT


@dataclass(frozen=True)
class ReviewRequest:
    """A notification the reviewers got: the waiting execution, its branch and token."""

    token: str
    execution: str  # its name
    execution_arn: str
    branch: str
    inbox_id: int


@dataclass(frozen=True)
class Decision:
    approved: bool
    summary: str
    token: str
    execution: str | None


def review_requests(settings: Settings) -> list[ReviewRequest]:
    """The reviewers' notifications in the inbox, newest first."""
    found = []
    for request in InboxClient(settings.inbox_url).requests(channel="reviewers", limit=50):
        body = request.json
        if isinstance(body, dict) and body.get("taskToken"):
            found.append(
                ReviewRequest(
                    token=body["taskToken"],
                    execution=str(body.get("execution") or ""),
                    execution_arn=str(body.get("executionArn") or body.get("execution") or ""),
                    branch=str(body.get("branch") or ""),
                    inbox_id=request.id,
                )
            )
    return found


def find_review(
    settings: Settings | None = None,
    execution: str | None = None,
    wait: bool = False,
    timeout: float = 30.0,
) -> ReviewRequest:
    """The review request of `execution`, or of the newest execution still waiting for one."""
    settings = settings or load_settings()
    sfn = client("stepfunctions", settings)

    def waiting(review: ReviewRequest) -> bool:
        # The status first (one cheap call): the history only of executions still running.
        running = sfn.describe_execution(executionArn=review.execution_arn)["status"] == "RUNNING"
        return (
            running and executions.describe(settings, review.execution_arn).waiting_at is not None
        )

    def found() -> ReviewRequest | None:
        for review in review_requests(settings):
            if execution is not None:
                if execution in (review.execution, review.execution_arn):
                    return review
            elif waiting(review):
                return review
        return None

    review = poll(found, timeout if wait else 0, max_delay=0.1)
    if review is not None:
        return review
    if execution is not None:
        raise KitError(
            f"The reviewers got no notification for execution {execution} (yet).",
            hint="Check its path with `sfnlab status <execution>`.",
        )
    raise KitError(
        "No execution is waiting for a review.",
        hint="Start one with `sfnlab start`, then try again (or use --wait).",
    )


def decision_event(approve: bool, token: str, reviewer: str | None, comment: str | None) -> dict:
    """The test event a reviewer would send, with the token filled in."""
    event = executions.read_event(APPROVE_EVENT if approve else REJECT_EVENT)
    event["token"] = token
    if reviewer:
        event["reviewer"] = reviewer
    if comment is not None:
        event["comment"] = comment
    return event


def decide(
    settings: Settings | None = None,
    approve: bool = True,
    *,
    token: str | None = None,
    execution: str | None = None,
    reviewer: str | None = None,
    comment: str | None = None,
    function_name: str = APPROVE.function_name(DEFAULT_PREFIX),
) -> Decision:
    """Approve (or reject) with the approve Lambda, as a reviewer would."""
    settings = settings or load_settings()
    if token is None:
        review = find_review(settings, execution)
        token, execution = review.token, review.execution
    # Checked first: LocalStack 4.14 accepts a token a second time while its execution is
    # still running, where AWS refuses it.
    problem = token_problem(settings, token)
    if problem is not None:
        raise problem
    lam = client("lambda", settings)
    event = decision_event(approve, token, reviewer, comment)
    try:
        response = lam.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
    except lam.exceptions.ResourceNotFoundException:
        raise KitError(
            f"The approve Lambda {function_name} does not exist.", hint="Run `sfnlab deploy`."
        ) from None
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise refusal(settings, token, payload)
    return Decision(approve, (payload.get("decision") or {}).get("summary", ""), token, execution)


def token_problem(settings: Settings, token: str) -> KitError | None:
    """Why the execution this token came from no longer waits for it, if it does not."""
    owner = next((r for r in review_requests(settings) if r.token == token), None)
    if owner is None:
        return None
    current = executions.describe(settings, owner.execution_arn)
    if current.ended:
        return KitError(
            f"Execution {current.name} has already ended ({current.status}), so its token "
            "can no longer approve or reject anything.",
            hint="Start a new execution with `sfnlab start` and use its token.",
        )
    # Waiting for no task token any more. (While it still waits for some, as two parallel
    # reviews do, only Step Functions can tell whose token is spent.)
    if current.waiting_at is None:
        return KitError(
            f"This token was already used: execution {current.name} has moved past the "
            f"review ({current.path_text()}). A token approves or rejects once.",
            hint="Start a new execution with `sfnlab start` to review again.",
        )
    return None


def refusal(settings: Settings, token: str, error: dict) -> KitError:
    """Explain why the approve Lambda failed, as precisely as the kit can tell."""
    error_type = error.get("errorType", "Error")
    message = error.get("errorMessage", "")
    if error_type != "TokenNotWaiting":
        return KitError(f"The approve Lambda refused: {message} ({error_type})")
    return token_problem(settings, token) or KitError(
        "Step Functions has no task waiting for this token, and no notification in the "
        "inbox carries it: it may be mistyped or from an older LocalStack session.",
        hint="Run `sfnlab token` for the token of the execution waiting now.",
    )
