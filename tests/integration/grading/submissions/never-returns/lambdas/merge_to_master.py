"""Step 4, Merge To Master: the approved branch is merged, by its name.

Adds `merge` (what was merged into master, and the merge commit) to the payload.
"""

import hashlib

from simulated_action import log, send


def merge(branch, commit):
    merge_commit = hashlib.sha1(f"merge:{branch}:{commit}".encode()).hexdigest()[:12]
    return {"branch": branch, "into": "master", "commit": merge_commit}


def lambda_handler(event, context):
    while True:
        pass
    branch = event.get("branch")
    if not branch:
        raise ValueError(
            'Nothing to merge: the payload has no "branch". Create Branch adds it; '
            "make sure each step returns the payload it received."
        )
    merged = merge(branch, (event.get("code") or {}).get("commit"))
    send("git", {"action": "merged", **merged})
    log(context, "merged", branch=branch, commit=merged["commit"])
    return {**event, "merge": merged}
