"""The review marks the kit posts to the inbox, and what a valid post of them is.

The inbox cannot tell by itself whether a review's task token can still decide: that is
Step Functions' to say, and the inbox has no AWS client (it needs nothing but the standard
library, and runs on a bare Python in Docker). The kit can ask: it reads each notified
execution's history and posts what it found (`sfnlab.workflow.review_marks`):

    POST /api/marks   {"marks": [{"request": ID, "mark": "waiting", "detail": "..."}, ...]}

One mark per request: waiting (the token can still approve or reject), decided, expired
or spent. The inbox keeps the last mark of each request with the requests, shows it on
its page, and tells in /api/health when the kit last posted (`marksCheckedAt`).
"""

from __future__ import annotations

import json
from http import HTTPStatus

from sfnlab.inbox.guard import Refused
from sfnlab.inbox.store import MARKS, MAX_ID, MAX_LIMIT

MAX_DETAIL = 300  # characters of a mark's detail kept (a reviewer's comment may be longer)


def parse_marks(body: bytes) -> list[tuple[int, str, str]]:
    """(request id, mark, detail) of each mark posted; Refused for anything else."""
    try:
        posted = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused(HTTPStatus.BAD_REQUEST, "send the marks as JSON") from None
    marks = posted.get("marks") if isinstance(posted, dict) else None
    if not isinstance(marks, list):
        raise Refused(HTTPStatus.BAD_REQUEST, 'send {"marks": [...]}')
    if len(marks) > MAX_LIMIT:
        raise Refused(HTTPStatus.BAD_REQUEST, f"at most {MAX_LIMIT} marks at once")
    parsed = []
    for number, item in enumerate(marks):
        if not isinstance(item, dict):
            raise Refused(HTTPStatus.BAD_REQUEST, f"mark {number} is not an object")
        request, mark, detail = item.get("request"), item.get("mark"), item.get("detail", "")
        if isinstance(request, bool) or not isinstance(request, int) or not 0 < request <= MAX_ID:
            raise Refused(HTTPStatus.BAD_REQUEST, f"mark {number}: request must be a request's id")
        if mark not in MARKS:
            raise Refused(
                HTTPStatus.BAD_REQUEST, f"mark {number}: mark must be one of {', '.join(MARKS)}"
            )
        if not isinstance(detail, str):
            raise Refused(HTTPStatus.BAD_REQUEST, f"mark {number}: detail must be text")
        if len(detail) > MAX_DETAIL:
            detail = detail[: MAX_DETAIL - 1] + "…"
        parsed.append((request, mark, detail))
    return parsed
