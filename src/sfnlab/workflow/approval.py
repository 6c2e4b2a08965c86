"""The human step: find the task token the reviewers got, and approve or reject with it.

`decide()` does what a reviewer does by hand: fill the token into the test event
(`test-events/approveTaskTest.json` or `rejectTaskTest.json`) and invoke the approve
Lambda with it. When the token cannot decide anything any more, it says why in the
learner's words: already used, its execution stopped, ended or timed out, or forgotten
by a LocalStack that was restarted.

Two layers of checks. Before invoking, the kit looks at the token's execution (found
through the inbox's notification): LocalStack 4.14 without the kit's patches accepts a
spent token while its execution runs, and leaves a stopped execution's token usable,
where AWS refuses both. After, it maps Step Functions' own refusals (`TaskTimedOut`,
`InvalidToken`, `TaskDoesNotExist`, as AWS and the patched LocalStack answer) to the
same words.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sfnlab.errors import ExecutionGone, LearnerError, PortInUse, TokenRefused
from sfnlab.exercise import APPROVE, APPROVE_EVENT, DEFAULT_PREFIX, REJECT_EVENT
from sfnlab.localstack.log_view import shorten
from sfnlab.settings import Settings
from sfnlab.support.aws import client
from sfnlab.support.polling import poll
from sfnlab.workflow import executions

# Step Functions' answers to a token that can decide nothing (SendTaskSuccess,
# SendTaskFailure and SendTaskHeartbeat alike).
REFUSAL_CODES = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")
REVIEW_TIMEOUTS = ("ReviewTimedOut", "States.Timeout", "States.HeartbeatTimeout")


@dataclass(frozen=True)
class ReviewRequest:
    """A notification the reviewers got: the waiting execution, its branch and token."""

    token: str
    execution: str  # its name ("" when the notification does not say)
    execution_arn: str  # "" when the notification does not say
    branch: str
    inbox_id: int
    received_at: str = ""  # ISO 8601, UTC, as the inbox stored it


@dataclass(frozen=True)
class Decision:
    approved: bool
    summary: str
    token: str
    execution: str | None
    notes: list[str] = field(default_factory=list)  # what the person deciding should know

    @property
    def shown(self) -> str:
        """The summary as `sfnlab approve/reject` prints it (a long comment cut short)."""
        return shorten(self.summary)


def review_requests(settings: Settings) -> list[ReviewRequest]:
    """The reviewers' notifications in the inbox, newest first."""
    from sfnlab.inbox import InboxClient

    found = []
    for request in InboxClient(settings.inbox_url).requests(channel="reviewers", limit=50):
        body = request.json
        if isinstance(body, dict) and body.get("taskToken"):
            arn = str(body.get("executionArn") or "")
            name = str(body.get("execution") or body.get("executionName") or "")
            if name.startswith("arn:"):
                arn, name = arn or name, name.rsplit(":", 1)[1]
            found.append(
                ReviewRequest(
                    token=str(body["taskToken"]),
                    execution=name or arn.rsplit(":", 1)[-1],
                    execution_arn=arn,
                    branch=str(body.get("branch") or ""),
                    inbox_id=request.id,
                    received_at=request.received_at,
                )
            )
    return found


def restart_reason(settings: Settings, review: ReviewRequest) -> str:
    """Why the review's execution is gone, as precisely as the kit can tell."""
    from sfnlab.localstack import embedded

    started = None
    if embedded.running_embedded(settings) is not None:
        # The pid file is written as LocalStack starts: its time is the wall clock's (a
        # process's create time, as the kernel counts it, may be seconds off).
        with contextlib.suppress(OSError):
            started = settings.pid_file.stat().st_mtime
    try:
        received = datetime.fromisoformat(review.received_at).timestamp()
    except ValueError:
        received = None
    if started is not None and received is not None and started > received:
        restarted = datetime.fromtimestamp(started).strftime("%H:%M:%S")
        arrived = datetime.fromtimestamp(received, tz=timezone.utc).astimezone()
        return (
            f"LocalStack was restarted at {restarted}, after this notification arrived "
            f"({arrived:%H:%M:%S}), and a restart forgets every execution (LocalStack keeps "
            "them in memory only): the execution and its token are gone."
        )
    return (
        "LocalStack was most likely restarted since the reviewers were notified (`sfnlab "
        "down` and `up`, or a crash): it keeps executions in memory only, so the execution "
        "and its token are gone."
    )


def review_state(
    settings: Settings, review: ReviewRequest
) -> tuple[executions.Execution | None, LearnerError | None]:
    """Whether the review's token can still decide: asked once per command.

    Returns its execution as it is now (None when the notification names none, or
    LocalStack has forgotten it) and, when the token can decide nothing, why: the
    execution is gone, has ended, or has moved past the review. (While it still waits
    for some token, as two parallel reviews do, only Step Functions can tell whose token
    is spent.)
    """
    if not review.execution_arn:
        return None, None  # the notification does not say: Step Functions will tell
    try:
        current = executions.describe(settings, review.execution_arn)
    except ExecutionGone:
        return None, executions.gone(settings, review.execution, restart_reason(settings, review))
    if current.ended:
        return current, ended_refusal(current)
    if current.waiting_at is None:
        return current, used_refusal(current)
    return current, None


def find_review(
    settings: Settings,
    execution: str | None = None,
    wait: bool = False,
    timeout: float = 30.0,
) -> ReviewRequest:
    """The review request of `execution`, or of the newest execution still waiting for one.

    Notifications of executions LocalStack no longer has (it was restarted since) are
    skipped, and so are those that name no execution when none is asked for.
    """
    return checked_review(settings, execution, wait, timeout)[0]


def checked_review(
    settings: Settings,
    execution: str | None = None,
    wait: bool = False,
    timeout: float = 30.0,
) -> tuple[ReviewRequest, LearnerError | None]:
    """`find_review`, with what `review_state` found of it (None: its token may decide)."""
    gone: set[str] = set()  # ARNs LocalStack does not know: they never come back
    unchecked: set[int] = set()  # notifications naming no execution ARN
    problems: dict[int, LearnerError | None] = {}

    def found() -> ReviewRequest | None:
        for review in review_requests(settings):
            if execution is not None:
                if execution in (review.execution, review.execution_arn):
                    return review
                continue
            if not review.execution_arn:
                unchecked.add(review.inbox_id)
            elif review.execution_arn not in gone:
                current, problems[review.inbox_id] = review_state(settings, review)
                if problems[review.inbox_id] is None:
                    return review
                if current is None:
                    gone.add(review.execution_arn)
        return None

    review = found()
    if review is None and execution is not None and not executions.known(settings, execution):
        # A mistyped name, or an execution forgotten in a restart: no notification will come.
        raise executions.gone(settings, execution)
    if review is None and wait:
        review = poll(found, timeout, max_delay=0.1)
    if review is not None:
        if review.inbox_id not in problems:
            current, problems[review.inbox_id] = review_state(settings, review)
            # Asked for by name, a review past its decision still gives its token (a spent
            # token is what some lessons show refused); a gone or ended one does not.
            if problems[review.inbox_id] is not None and (current is None or current.ended):
                raise problems[review.inbox_id]
        return review, problems[review.inbox_id]
    if execution is not None:
        raise LearnerError(
            f"The reviewers got no notification for execution {execution} (yet).",
            hint="Check its path with `sfnlab status <execution>`, or wait with --wait.",
        )
    skipped = []
    if gone:
        skipped.append(
            f"{len(gone)} execution(s) with a notification in the inbox no longer exist "
            "(LocalStack was restarted since, and forgot them)"
        )
    if unchecked:
        skipped.append(
            f"{len(unchecked)} notification(s) name no executionArn, so the kit cannot tell "
            "whether they still wait (use `--token` or `--execution` for those)"
        )
    raise LearnerError(
        "No execution is waiting for a review." + (f" {'; '.join(skipped)}." if skipped else ""),
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
    settings: Settings,
    approve: bool = True,
    *,
    token: str | None = None,
    execution: str | None = None,
    reviewer: str | None = None,
    comment: str | None = None,
    function_name: str = APPROVE.function_name(DEFAULT_PREFIX),
) -> Decision:
    """Approve (or reject) with the approve Lambda, as a reviewer would.

    Without `token`, the token comes from the inbox; with it, the inbox is only asked
    which execution the token belongs to, and is not needed.
    """
    notes: list[str] = []
    problem: LearnerError | None = None
    if token is None:
        review, problem = checked_review(settings, execution)
        token, execution = review.token, review.execution
        owner: ReviewRequest | None = review
    else:
        owner = token_owner(settings, token, notes)
        if owner is not None:
            problem = review_state(settings, owner)[1]
    if problem is not None:
        raise problem
    lam = client("lambda", settings)
    event = decision_event(approve, token, reviewer, comment)
    try:
        response = lam.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
    except lam.exceptions.ResourceNotFoundException:
        raise LearnerError(
            f"The approve Lambda {function_name} does not exist.",
            hint="Run `sfnlab deploy` (after a restart of LocalStack, `sfnlab up` does it).",
        ) from None
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise refusal(settings, payload, owner)
    summary = (payload.get("decision") or {}).get("summary", "")
    return Decision(approve, summary, token, execution or (owner and owner.execution), notes)


def token_owner(settings: Settings, token: str, notes: list[str]) -> ReviewRequest | None:
    """The notification that carried `token`, if the inbox answers and has one."""
    try:
        return next((r for r in review_requests(settings) if r.token == token), None)
    except PortInUse as error:  # another program holds the inbox's port
        notes.append(
            f"{error} {error.hint} The kit could not look up which execution this token "
            "belongs to; the decision went to Step Functions all the same."
        )
        return None
    except LearnerError:
        notes.append(
            f"The inbox is not reachable at {settings.inbox_url}, so the kit could not look "
            "up which execution this token belongs to; the decision went to Step Functions "
            "all the same. Nothing the inbox stored is lost: `sfnlab up` starts it again "
            "with every message (the next steps of the workflow report to it)."
        )
        return None


def ended_refusal(current: executions.Execution) -> TokenRefused:
    """The words for a token whose execution is over, by how it ended."""
    again = "Start a new execution with `sfnlab start` and use its token."
    if current.status == "ABORTED":
        return TokenRefused(
            f"Execution {current.name} was stopped (ABORTED), and a stopped execution "
            "refuses its tokens: this one can no longer approve or reject anything.",
            hint=again,
        )
    if current.status == "TIMED_OUT" or current.error in REVIEW_TIMEOUTS:
        return TokenRefused(
            f"The review of execution {current.name} timed out: nobody decided within the "
            "review's TimeoutSeconds (or sent a heartbeat within its HeartbeatSeconds), so "
            f"the execution ended {current.status} ({current.error or 'timed out'}) and its "
            "token expired.",
            hint=again + " A reviewer who needs longer sends heartbeats "
            '(`{"token": ..., "heartbeat": true}` to the approve Lambda).',
        )
    return TokenRefused(
        f"Execution {current.name} has already ended ({current.status}), so its token "
        "can no longer approve or reject anything.",
        hint=again,
    )


def used_refusal(current: executions.Execution, still_waiting: bool = False) -> TokenRefused:
    where = (
        f"execution {current.name} still waits, but for another reviewer's token"
        if still_waiting
        else f"execution {current.name} has moved past the review ({current.path_text()})"
    )
    return TokenRefused(
        f"This token was already used: {where}. A token approves or rejects once.",
        hint="Start a new execution with `sfnlab start` to review again.",
    )


def refusal_code(error: dict) -> str | None:
    """Step Functions' refusal behind the approve Lambda's error, if it was one."""
    error_type = str(error.get("errorType", ""))
    if error_type in REFUSAL_CODES:
        return error_type
    found = re.search(r"\b(" + "|".join(REFUSAL_CODES) + r")\b", str(error.get("errorMessage")))
    return found.group(1) if found else None


def refusal(settings: Settings, error: dict, owner: ReviewRequest | None) -> LearnerError:
    """Explain why the approve Lambda failed, as precisely as the kit can tell."""
    code = refusal_code(error)
    if code is None:
        message = error.get("errorMessage", "")
        return LearnerError(f"The approve Lambda refused: {message} ({error.get('errorType')})")
    if owner is not None and owner.execution_arn:
        current, problem = review_state(settings, owner)
        if problem is not None:
            return problem
        # Still waiting (at another reviewer's task, in a Parallel state): this one's is closed.
        if code == "TaskTimedOut" and current is not None:
            return used_refusal(current, True)
    if code == "InvalidToken":
        return TokenRefused(
            "Step Functions does not know this token (InvalidToken): it was mistyped or cut "
            "short when copied, or it is from before LocalStack was restarted (a restart "
            "forgets every execution and its tokens).",
            hint="Run `sfnlab token` for the token of the execution waiting now.",
        )
    if code == "TaskDoesNotExist":
        return TokenRefused(
            "No task waits for this token any more (TaskDoesNotExist): its execution was "
            "stopped or has ended.",
            hint="Start a new execution with `sfnlab start` and use its token.",
        )
    return TokenRefused(
        "Step Functions refused this token (TaskTimedOut): its task is closed. It was "
        "already used (a token decides once), its review timed out, or its execution was "
        "stopped.",
        hint="Start a new execution with `sfnlab start` and use its token.",
    )
