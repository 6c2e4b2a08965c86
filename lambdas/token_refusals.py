"""Why a task token can decide nothing any more, in the words a reviewer reads.

One wording wherever a reviewer is told: `sfnlab approve` and `sfnlab reject` (the kit's
`sfnlab.workflow.approval` loads this file) and the approval page behind a link
(`approve_by_link.py`). Each function returns the message and what to do next.
Standard library only, and no imports at all: it runs in a Lambda and in the kit.
"""

AGAIN = "Start a new execution with `sfnlab start` and use its token."
REVIEW_AGAIN = "Start a new execution with `sfnlab start` to review again."
HEARTBEAT = (
    " A reviewer who needs longer sends heartbeats "
    '(`{"token": ..., "heartbeat": true}` to the approve Lambda).'
)
# How an execution whose review timed out ended (the kit's definition catches the timeout).
REVIEW_TIMEOUTS = ("ReviewTimedOut", "States.Timeout", "States.HeartbeatTimeout")


def stopped(execution):
    return (
        f"Execution {execution} was stopped (ABORTED), and a stopped execution refuses its "
        "tokens: this one can no longer approve or reject anything.",
        AGAIN,
    )


def timed_out(execution, status, error):
    return (
        f"The review of execution {execution} timed out: nobody decided within the review's "
        "TimeoutSeconds (or sent a heartbeat within its HeartbeatSeconds), so the execution "
        f"ended {status} ({error or 'timed out'}) and its token expired.",
        AGAIN + HEARTBEAT,
    )


def ended(execution, status):
    return (
        f"Execution {execution} has already ended ({status}), so its token can no longer "
        "approve or reject anything.",
        AGAIN,
    )


def ended_somehow(execution, status, error):
    """The words for a token whose execution is over, by how it ended."""
    if status == "ABORTED":
        return stopped(execution)
    if status == "TIMED_OUT" or error in REVIEW_TIMEOUTS:
        return timed_out(execution, status, error)
    return ended(execution, status)


def used(execution, path="", still_waiting=False):
    """A token whose task is closed while its execution goes on."""
    where = (
        f"execution {execution} still waits, but for another reviewer's token"
        if still_waiting
        else f"execution {execution} has moved past the review" + (f" ({path})" if path else "")
    )
    hint = (
        "The other reviewer's token still decides: `sfnlab token --all --execution "
        f"{execution}` lists every token it waits for, with its reviewer."
        if still_waiting
        else REVIEW_AGAIN
    )
    return f"This token was already used: {where}. A token approves or rejects once.", hint
