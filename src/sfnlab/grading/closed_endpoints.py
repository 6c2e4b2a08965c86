"""What a solution's code tried of LocalStack's own endpoints, which LocalStack refused.

The kit's LocalStack closes its own endpoints (kill, restart, config, other accounts'
data: `docs/reference/localstack-endpoints.md`) and logs each request it refuses as one
line naming the function that sent it (one line in the log, two here):

    ... sfnlab refused POST /_localstack/health from
        arn:aws:lambda:us-east-1:123456789012:function:sfnlab-create-code:$LATEST

The grader reads the lines of the solution's account written while it was graded and
reports them beside its score: nothing was reached and no requirement depends on it,
but an instructor wants to know a submission tried.
"""

from __future__ import annotations

import re

from sfnlab.exercise import APPROVE, STEPS
from sfnlab.settings import Settings

REFUSED = re.compile(
    r"sfnlab refused (?P<what>.+?) from "
    r"arn:aws:lambda:[^:\s]+:(?P<account>\d{12}):function:(?P<function>[^:\s]+)"
)
MOST_SHOWN = 12  # distinct attempts listed; the rest are counted
MOST_READ = 16 * 1024 * 1024  # of the log, from where the solution's grading began


def log_position(settings: Settings) -> int:
    """Where LocalStack's log ends now (0 when there is none: not an embedded LocalStack)."""
    try:
        return settings.log_file.stat().st_size
    except OSError:
        return 0


def refused(settings: Settings, since: int, prefix: str) -> list[str]:
    """`Create Code tried POST /_localstack/health` for each distinct request of the
    account's functions refused since `since`, in the order they came."""
    try:
        with settings.log_file.open("rb") as log:
            log.seek(since)
            text = log.read(MOST_READ).decode("utf-8", "replace")
    except OSError:
        return []
    titles = {step.function_name(prefix): step.title for step in [*STEPS, APPROVE]}
    found: dict[str, None] = {}
    for match in REFUSED.finditer(text):
        if match["account"] == settings.account_id:
            who = titles.get(match["function"], match["function"])
            found[f"{who} tried {match['what']}"] = None
    lines = list(found)
    if len(lines) > MOST_SHOWN:
        lines = [*lines[:MOST_SHOWN], f"and {len(lines) - MOST_SHOWN} more"]
    return lines
