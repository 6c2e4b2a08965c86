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
from sfnlab.exercise import (
    APPROVE,
    APPROVE_EVENT,
    DEFAULT_PREFIX,
    REJECT_EVENT,
    kit_lambda_module,
)
from sfnlab.localstack.log_view import shorten
from sfnlab.settings import Settings
from sfnlab.support.aws import client
from sfnlab.support.polling import poll
from sfnlab.workflow import executions

# Step Functions' answers to a token that can decide nothing (SendTaskSuccess,
# SendTaskFailure and SendTaskHeartbeat alike).
REFUSAL_CODES = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")
# The words for a token that can decide nothing: shared with the approval page behind a
# link (lambdas/token_refusals.py), so that a reviewer reads the same everywhere.
_words = kit_lambda_module("token_refusals")
REVIEW_TIMEOUTS = _words.REVIEW_TIMEOUTS


@dataclass(frozen=True)
class ReviewRequest:
    """A notification the reviewers got: the waiting execution, its branch and token."""

    token: str
    execution: str  # its name ("" when the notification does not say)
    execution_arn: str  # "" when the notification does not say
    branch: str
    inbox_id: int
    received_at: str = ""  # ISO 8601, UTC, as the inbox stored it
    reviewer: str = ""  # who was asked, when the notification says (two reviewers)


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
                    reviewer=str(body.get("reviewer") or ""),
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
    LocalStack has forgotten it) and, when the token can decide nothing, why (see
    `token_problem`).
    """
    if not review.execution_arn:
        return None, None  # the notification does not say: Step Functions will tell
    try:
        current = executions.describe(settings, review.execution_arn)
    except ExecutionGone:
        return None, executions.gone(settings, review.execution, restart_reason(settings, review))
    return current, token_problem(current, review.token)


def token_problem(current: executions.Execution, token: str) -> LearnerError | None:
    """Why `token` can decide nothing in the execution as it is now, or None if it can.

    The execution has ended, has moved past the review, or waits for other tokens only:
    its history says which token each waiting task was handed, so of two reviewers the
    one who has decided holds a spent token while the other's still decides.
    """
    if current.ended:
        return ended_refusal(current)
    if any(call.holds(token) for call in current.waiting):
        return None  # its task waits (or is about to: its Lambda still runs)
    if current.waiting:
        return used_refusal(current, still_waiting=True)
    if current.waiting_at is None:
        return used_refusal(current)
    return None  # it waits for something the history does not tie to a token


@dataclass
class Chosen:
    """The review a command acts on, with what was read to choose it."""

    review: ReviewRequest
    current: executions.Execution | None  # its execution now (None: gone, or not named)
    problem: LearnerError | None  # why its token can decide nothing (None: it can)
    reviews: list[ReviewRequest]  # the notifications it was chosen from, newest first


def find_review(
    settings: Settings,
    execution: str | None = None,
    wait: bool = False,
    timeout: float = 30.0,
) -> ReviewRequest:
    """The review request of `execution`, or of the newest execution still waiting for one.

    Notifications of executions LocalStack no longer has (it was restarted since) are
    skipped, and so are those that name no execution when none is asked for; of an
    execution's notifications, one whose token can still decide comes first (of two
    reviewers, the one who has not decided yet).
    """
    return choose_review(settings, execution, wait, timeout).review


def choose_review(
    settings: Settings,
    execution: str | None = None,
    wait: bool = False,
    timeout: float = 30.0,
) -> Chosen:
    """`find_review`, with its execution as it is now, why its token can decide nothing (if
    it cannot: see `review_state`), and the notifications it was chosen from."""
    gone: set[str] = set()  # ARNs LocalStack does not know: they never come back
    unchecked: set[int] = set()  # notifications naming no execution ARN
    described: dict[str, tuple[executions.Execution | None, LearnerError | None]] = {}
    states: dict[int, tuple[executions.Execution | None, LearnerError | None]] = {}
    read: list[ReviewRequest] = []

    def state_of(review: ReviewRequest) -> LearnerError | None:
        """The review's state, each execution described once per command."""
        arn = review.execution_arn
        if arn not in described:
            described[arn] = review_state(settings, review)
        current, problem = described[arn]
        if current is not None:
            problem = token_problem(current, review.token)
        states[review.inbox_id] = (current, problem)
        return problem

    def found() -> ReviewRequest | None:
        described.clear()  # each look sees the executions as they are now
        read[:] = review_requests(settings)
        if execution is not None:
            mine = [r for r in read if execution in (r.execution, r.execution_arn)]
            for review in mine:
                if not review.execution_arn or state_of(review) is None:
                    return review
            return mine[0] if mine else None  # the newest, past its decision
        for review in read:
            if not review.execution_arn:
                unchecked.add(review.inbox_id)
            elif review.execution_arn not in gone:
                if state_of(review) is None:
                    return review
                if states[review.inbox_id][0] is None:
                    gone.add(review.execution_arn)
        return None

    review = found()
    if review is None and execution is not None and not executions.known(settings, execution):
        # A mistyped name, or an execution forgotten in a restart: no notification will come.
        raise executions.gone(settings, execution)
    if review is None and wait:
        review = poll(found, timeout, max_delay=0.1)
    if review is not None:
        if review.inbox_id not in states:
            if review.execution_arn:
                state_of(review)
            else:
                states[review.inbox_id] = (None, None)
        current, problem = states[review.inbox_id]
        # Asked for by name, a review past its decision still gives its token (a spent
        # token is what some lessons show refused); a gone or ended one does not.
        if problem is not None and (current is None or current.ended):
            raise problem
        return Chosen(review, current, problem, list(read))
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


@dataclass(frozen=True)
class WaitingToken:
    """A task token an execution still waits for, and whom it was sent to."""

    token: str
    state: str  # the task waiting for it (AskAna, NotifyReviewers, ...)
    reviewer: str  # "" when neither the notification nor the task's event names one
    review: ReviewRequest | None  # the notification that carried it, if the inbox has it


def waiting_tokens(
    settings: Settings, execution: str | None = None, wait: bool = False, timeout: float = 30.0
) -> tuple[executions.Execution, list[WaitingToken]]:
    """Every token that can still decide in `execution` (default: the newest execution
    still waiting for a review), one per task waiting for it, with its reviewer.

    The history tells which tasks still wait and which token each was handed; the
    notifications tell whom it was sent to.
    """
    chosen = choose_review(settings, execution, wait, timeout)
    if chosen.current is None:
        raise LearnerError(
            f"The notification of review {chosen.review.inbox_id} names no executionArn, so "
            "the kit cannot tell which tokens its execution still waits for.",
            hint="Name the execution: `sfnlab token --all --execution <name>`.",
        )
    if chosen.problem is not None and not chosen.current.waiting:
        raise chosen.problem  # past its review: no token of it decides any more
    found = []
    for call in chosen.current.waiting:
        review = next(
            (
                r
                for r in chosen.reviews
                if r.execution_arn == chosen.current.arn and call.holds(r.token)
            ),
            None,
        )
        token = review.token if review else call.token
        if not token:
            continue
        named = call.received.get("reviewer") if isinstance(call.received, dict) else None
        reviewer = (review.reviewer if review else "") or str(named or "")
        found.append(WaitingToken(token, call.state, reviewer, review))
    return chosen.current, found


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
        chosen = choose_review(settings, execution)
        review, problem = chosen.review, chosen.problem
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
    message, hint = _words.ended_somehow(current.name, current.status, current.error)
    return TokenRefused(message, hint=hint)


def used_refusal(current: executions.Execution, still_waiting: bool = False) -> TokenRefused:
    message, hint = _words.used(current.name, current.path_text(), still_waiting)
    return TokenRefused(message, hint=hint)


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
