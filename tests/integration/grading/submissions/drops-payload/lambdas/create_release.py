"""Step 5, Create Release: a release is cut from master after the merge.

Adds `release` to the payload; its `name` is what Notify Ops asks to deploy.
"""

import datetime

from simulated_action import log, send


def release_for(event, today=None):
    today = today or datetime.date.today()
    issue_id = (event.get("issue") or {}).get("id", "ISSUE-1")
    commit = (event.get("merge") or {}).get("commit", "unknown")
    return {
        "name": f"release-{today:%Y.%m.%d}-{issue_id}",
        "commit": commit,
        "notes": f"Solves {issue_id}",
    }


def lambda_handler(event, context):
    release = release_for(event)
    send("releases", {"action": "release created", "release": release})
    log(context, "release created", release=release["name"])
    return {"release": release, "issue": event.get("issue")}
