"""Step 1, Create Code: somebody writes the code that solves the issue.

Adds `code` to the payload (the commit that solves the issue) and tells the inbox's
`code` channel. Returns everything it received, plus `code`.
"""

import hashlib

from simulated_action import log, send

CHANGED_FILES = ["src/checkout/login.py", "tests/checkout/test_login.py"]


def create_code(issue):
    """The simulated commit for `issue`: the same issue always gives the same commit."""
    issue_id = issue.get("id", "ISSUE-1")
    digest = hashlib.sha1(f"{issue_id}:{issue.get('title', '')}".encode()).hexdigest()
    return {
        "commit": digest[:12],
        "author": issue.get("author", "developer"),
        "message": f"Fix {issue_id}: {issue.get('title', 'the issue')}",
        "files": CHANGED_FILES,
    }


def lambda_handler(event, context):
    code = create_code(event.get("issue") or {})
    send("code", {"action": "code created", "repository": event.get("repository"), "code": code})
    log(context, "code created", commit=code["commit"])
    return {**event, "code": code}
