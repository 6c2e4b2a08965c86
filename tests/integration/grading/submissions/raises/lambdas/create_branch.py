"""Step 2, Create Branch: the code goes on a branch of its own.

Adds `branch` (its name) to the payload: the `branch` of the start event if it has one,
else one made from the issue, like `feature/ISSUE-42-login-button-does-nothing`.
"""

import re

from simulated_action import log, send


def branch_name(event):
    if event.get("branch"):
        return str(event["branch"])
    issue = event.get("issue") or {}
    slug = re.sub(r"[^a-z0-9]+", "-", str(issue.get("title", "")).lower()).strip("-")
    return "-".join(part for part in (f"feature/{issue.get('id', 'ISSUE-1')}", slug[:40]) if part)


def lambda_handler(event, context):
    raise RuntimeError('no branches today')
    commit = (event.get("code") or {}).get("commit")
    send("git", {"action": "branch created", "branch": branch, "from": "master", "commit": commit})
    log(context, "branch created", branch=branch)
    return {**event, "branch": branch}
