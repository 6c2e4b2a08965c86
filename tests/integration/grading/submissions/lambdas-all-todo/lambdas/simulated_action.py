"""What every step shares: simulate an action with one HTTP request to the inbox, and log.

The inbox stands in for a public request catcher: each step POSTs what it did to a
channel (`/reviewers`, `/ops`, ...) and the learner reads it there. Standard library only:
AWS's Python runtime has no `requests`.

Two kinds of failure, told apart so that the state machine can retry one of them:
    InboxUnreachable  the inbox did not answer (refused, reset, timed out) or said it is
                      busy (503): a moment later it may work. The definition's Retry
                      catches exactly this error name.
    ActionFailed      the inbox answered and refused the message, or its address is
                      wrong: trying again would fail again.

Environment (set by `sfnlab deploy`):
    INBOX_URL              where the inbox listens, e.g. http://127.0.0.1:4567
    INBOX_TIMEOUT_SECONDS  how long to wait for it (default 5)
"""

import http.client
import json
import os
import socket
import urllib.error
import urllib.request

INBOX_URL = os.environ.get("INBOX_URL", "http://127.0.0.1:4567").rstrip("/")
INBOX_TIMEOUT_SECONDS = float(os.environ.get("INBOX_TIMEOUT_SECONDS", "5"))
# Answers that say "not now" rather than "no".
TRANSIENT_STATUSES = {429, 502, 503, 504}


class ActionFailed(Exception):
    """The inbox could not be told about the action, and trying again will not help."""


class InboxUnreachable(ActionFailed):
    """The inbox did not answer, or was too busy to: trying again shortly may work."""


def send(channel, message):
    """POST `message` as JSON to the inbox's `channel`; return the inbox's receipt."""
    url = f"{INBOX_URL}/{channel}"
    request = urllib.request.Request(
        url,
        data=json.dumps(message).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=INBOX_TIMEOUT_SECONDS) as response:
            answer = response.read()
    except urllib.error.HTTPError as error:
        raise refusal(url, error) from None
    except (urllib.error.URLError, OSError) as error:
        cause = getattr(error, "reason", error)
        failure = InboxUnreachable if is_transient(cause) else ActionFailed
        raise failure(
            f"Could not reach the inbox at {url} ({cause}). Is it running? `sfnlab up` starts it."
        ) from None
    except http.client.IncompleteRead:
        raise InboxUnreachable(f"The inbox at {url} stopped in the middle of its answer.") from None
    except http.client.HTTPException as error:
        raise ActionFailed(
            f"What answers at {url} does not answer as the inbox does ({error!r})."
        ) from None
    try:
        return json.loads(answer or b"{}")
    except ValueError:
        raise ActionFailed(
            f"What answers at {url} is not the inbox: its answer is not JSON ({answer[:80]!r})."
        ) from None


def refusal(url, error):
    """The failure an HTTP error answer means: busy is transient, anything else is not."""
    reason = error.read(500).decode("utf-8", "replace").strip() or error.reason
    if error.code in TRANSIENT_STATUSES:
        return InboxUnreachable(
            f"The inbox at {url} is busy (HTTP {error.code}: {reason}); the state machine tries "
            "again."
        )
    return ActionFailed(f"The inbox at {url} refused the message (HTTP {error.code}: {reason}).")


def is_transient(cause):
    """Whether a failure to reach the inbox may pass: refused, reset, timed out (but not a
    host name that does not exist, or a malformed URL)."""
    if isinstance(cause, socket.gaierror):
        return cause.errno == socket.EAI_AGAIN  # the name server did not answer in time
    return isinstance(cause, (ConnectionError, TimeoutError))


def log(context, message, **fields):
    """One JSON line per event, with the request id, for CloudWatch Logs."""
    print(json.dumps({"message": message, "requestId": context.aws_request_id, **fields}))
