"""What every step shares: simulate an action with one HTTP request to the inbox, and log.

The inbox stands in for a public request catcher: each step POSTs what it did to a
channel (`/reviewers`, `/ops`, ...) and the learner reads it there. Standard library only:
AWS's Python runtime has no `requests`.

Environment (set by `sfnlab deploy`):
    INBOX_URL              where the inbox listens, e.g. http://127.0.0.1:4567
    INBOX_TIMEOUT_SECONDS  how long to wait for it (default 5)
"""

import json
import os
import urllib.error
import urllib.request

INBOX_URL = os.environ.get("INBOX_URL", "http://127.0.0.1:4567").rstrip("/")
INBOX_TIMEOUT_SECONDS = float(os.environ.get("INBOX_TIMEOUT_SECONDS", "5"))


class ActionFailed(Exception):
    """The inbox could not be told about the action."""


def send(channel, message):
    """POST `message` as JSON to the inbox's `channel`; return the inbox's receipt."""
    request = urllib.request.Request(
        f"{INBOX_URL}/{channel}",
        data=json.dumps(message).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=INBOX_TIMEOUT_SECONDS) as response:
            return json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError) as error:
        raise ActionFailed(
            f"Could not reach the inbox at {INBOX_URL}/{channel} ({error}). "
            "Is it running? `sfnlab up` starts it."
        ) from None


def log(context, message, **fields):
    """One JSON line per event, with the request id, for CloudWatch Logs."""
    print(json.dumps({"message": message, "requestId": context.aws_request_id, **fields}))
