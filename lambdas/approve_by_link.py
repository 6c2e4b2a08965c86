"""Approve or reject from a link: the page behind the two links in the reviewers' message.

API Gateway (REST API, Lambda proxy integration) sends every request for `/review` here:

    GET  /review?decision=approve|reject&execution=<execution ARN>&token=<task token>
         a page that says what the link decides (branch, issue, approve or reject), with
         one button; it decides nothing
    POST /review  the page's form (decision, execution, token, reviewer, comment): decides,
         with SendTaskSuccess and the same decision the approve Lambda sends
    HEAD, OPTIONS and anything else decide nothing

Mail scanners and link previewers fetch every link in a message (GET, HEAD): a link that
decided on GET would approve before anybody looked. A person's click is a POST.

When the token can decide nothing any more (used, timed out, its execution stopped or
ended), the page says so in the words `sfnlab approve` uses (`token_refusals.py`), and
offers no button. The token is a secret (whoever holds the link can decide): it is never
logged here, and the pages are neither cached nor sent on as a Referer.

Its role: states:SendTaskSuccess (to decide), states:DescribeExecution and
states:GetExecutionHistory on the state machine's executions (to say what a link decides,
and whether its token still can).
"""

import base64
import html
import json
from urllib.parse import parse_qs

import token_refusals
from approve_step_with_token import (
    CommentTooLong,
    decision_output,
    explain,
    read_decision,
    stepfunctions,
)
from botocore.exceptions import ClientError

DECISIONS = ("approve", "reject")
# The events that close a waiting task, whatever decided it.
TASK_CLOSED = ("TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskSubmitFailed")
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
ALLOWED = "GET, HEAD, POST, OPTIONS"
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d2330; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
.secret { background: #fff7e0; border: 1px solid #f0c36d; padding: .6rem; border-radius: 4px; }
.refused { background: #fdecea; border: 1px solid #e0a39c; padding: .6rem; border-radius: 4px; }
button { font-size: 1.1rem; padding: .5rem 1.2rem; margin-top: 1rem; cursor: pointer; }
label { display: block; margin-top: .6rem; }
input, textarea { width: 100%; box-sizing: border-box; }
"""


class LinkBroken(Exception):
    """The link lacks what it must carry: cut short when copied, most likely."""


def lambda_handler(event, context):
    method = (event.get("httpMethod") or "GET").upper()
    try:
        status, body = answer(method, event)
    except LinkBroken as broken:
        status, body = 400, page("This link is incomplete", paragraph(str(broken)))
    log(context, method, status)
    headers = dict(HEADERS)
    if method == "OPTIONS" or status == 405:
        headers["Allow"] = ALLOWED
    return {
        "statusCode": status,
        "headers": headers,
        "body": "" if method in ("HEAD", "OPTIONS") else body,
    }


def answer(method, event):
    """(status, page) for one request; only a POST may decide."""
    if method == "HEAD":
        return 200, ""
    if method == "OPTIONS":
        return 204, ""
    if method == "GET":
        link = read_link(event.get("queryStringParameters") or {})
        return 200, confirmation_page(link, review_of(link))
    if method == "POST":
        link = read_link(form_fields(event))
        return decide(link)
    return 405, page("Not here", paragraph(f"{method} decides nothing; open the link instead."))


def read_link(fields):
    """The decision, execution ARN and task token a link (or its page's form) carries."""
    decision = str(fields.get("decision") or "")
    execution = str(fields.get("execution") or "")
    token = str(fields.get("token") or "")
    if decision not in DECISIONS or not execution.startswith("arn:") or len(token) < 16:
        raise LinkBroken(
            "It must say approve or reject, name its execution and carry the whole task "
            "token. Open the link exactly as the reviewers' message gives it."
        )
    return {
        "decision": decision,
        "execution": execution,
        "token": token,
        "reviewer": str(fields.get("reviewer") or "").strip()[:200],
        "comment": str(fields.get("comment") or "").strip(),
    }


def form_fields(event):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    return {key: values[-1] for key, values in parse_qs(body, keep_blank_values=True).items()}


# --- what a link's token can still do -----------------------------------------------------


def review_of(link):
    """What the link's review is, from its execution's history: branch, issue, and why its
    token can decide nothing (None while it can)."""
    execution = link["execution"]
    name = execution.rsplit(":", 1)[-1]
    try:
        described = stepfunctions.describe_execution(executionArn=execution)
        events = history(execution)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("ExecutionDoesNotExist", "InvalidArn"):
            return {"name": name, "refused": unknown_execution(name)}
        raise
    review = {"name": name, "refused": None, **what_is_reviewed(events, link["token"])}
    if review.get("scheduled") is None:
        review["refused"] = (
            f"Execution {name} never asked for a review with this token: the link was "
            "changed, or mixes two messages' links.",
            "Open the link exactly as the reviewers' message gives it.",
        )
    elif described["status"] != "RUNNING":
        review["refused"] = token_refusals.ended_somehow(
            name, described["status"], described.get("error")
        )
    elif review["closed"]:
        review["refused"] = token_refusals.used(
            name, path(events), still_waiting=review["others_waiting"]
        )
    return review


def unknown_execution(name):
    return (
        f"Step Functions does not know execution {name}: it was deleted, or it ran on a "
        "LocalStack that has been restarted since (a restart forgets every execution).",
        token_refusals.AGAIN,
    )


def history(execution):
    events, token = [], None
    while True:
        page_args = {"executionArn": execution, "maxResults": 1000}
        if token:
            page_args["nextToken"] = token
        answer_page = stepfunctions.get_execution_history(**page_args)
        events += answer_page["events"]
        token = answer_page.get("nextToken")
        if not token:
            return events


def what_is_reviewed(events, token):
    """The task that got this token (its parameters: the branch and issue), whether that
    task has closed since, and whether another review task still waits."""
    scheduled, payload = None, {}
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if details:
            parameters = json.loads(details.get("parameters") or "{}")
            if token in leaves(parameters):
                scheduled, payload = event["id"], parameters.get("Payload") or {}
    if scheduled is None:
        return {"scheduled": None}
    tasks = task_of_each_event(events)
    closed = {tasks.get(e["id"]) for e in events if e["type"] in TASK_CLOSED}
    waiting = {e["id"] for e in events if e["type"] == "TaskScheduled"} - closed - {scheduled}
    given = payload.get("input") if isinstance(payload.get("input"), dict) else payload
    return {
        "scheduled": scheduled,
        "closed": scheduled in closed,
        "others_waiting": bool(waiting),
        "branch": given.get("branch"),
        "issue": given.get("issue"),
    }


def task_of_each_event(events):
    """Event id -> the id of the TaskScheduled event it follows from (its task)."""
    task = {}
    for event in events:  # oldest first: each follows an earlier one
        if event["type"] == "TaskScheduled":
            task[event["id"]] = event["id"]
        elif event.get("previousEventId") in task and event["type"].startswith("Task"):
            task[event["id"]] = task[event["previousEventId"]]
    return task


def leaves(value):
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def path(events):
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]
    return " -> ".join(entered)


# --- deciding ---------------------------------------------------------------------------


def decide(link):
    """The POST from the page: the same decision the approve Lambda sends."""
    review = review_of(link)
    if review["refused"]:
        return 409, refused_page(link, review)
    decision = read_decision(
        {
            "approve": link["decision"] == "approve",
            "reviewer": link["reviewer"] or "a reviewer (by link)",
            "comment": link["comment"],
        }
    )
    try:
        output = decision_output(decision)
    except CommentTooLong as error:  # the approve Lambda's own words
        return 400, page("Not decided", paragraph(str(error)))
    try:
        stepfunctions.send_task_success(taskToken=link["token"], output=output)
    except ClientError as error:
        again = review_of(link)  # decided by someone else meanwhile, most likely
        if again["refused"]:
            return 409, refused_page(link, again)
        return 409, page("Not decided", paragraph(str(explain(error))))
    verdict = "Approved" if decision["approved"] else "Rejected"
    body = paragraph(f"{decision['summary']}.") + details(link, review)
    return 200, page(f"{verdict}: the execution goes on", body)


# --- pages ------------------------------------------------------------------------------


def confirmation_page(link, review):
    if review["refused"]:
        return refused_page(link, review)
    verb = "Approve" if link["decision"] == "approve" else "Reject"
    branch = review.get("branch") or "(no branch)"
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(link[name])}">'
        for name in ("decision", "execution", "token")
    )
    form = (
        f'<form method="post" action="?">{hidden}'
        '<label>Your name <input name="reviewer" autocomplete="name"></label>'
        '<label>Comment <textarea name="comment" rows="3"></textarea></label>'
        f'<button type="submit" name="confirm" value="yes">{verb} branch {escape(branch)}'
        "</button></form>"
    )
    secret = (
        '<p class="secret">Whoever holds this link can decide this review: do not forward '
        "it. Opening it decides nothing; the button does.</p>"
    )
    question = f"{verb} branch {branch}?"
    return page(question, secret + details(link, review) + form)


def refused_page(link, review):
    message, hint = review["refused"]
    body = f'<p class="refused">{escape(message)}</p>' + paragraph(hint)
    return page("This link can no longer decide", body + details(link, review))


def details(link, review):
    rows = [
        ("Decision", "approve" if link["decision"] == "approve" else "reject"),
        ("Branch", review.get("branch") or "(unknown)"),
        ("Issue", describe_issue(review.get("issue"))),
        ("Execution", review["name"]),
    ]
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows) + "</dl>"


def describe_issue(issue):
    if isinstance(issue, dict):
        return " ".join(str(issue[key]) for key in ("id", "title") if issue.get(key)) or "(none)"
    return str(issue) if issue else "(unknown)"


def paragraph(text):
    return f"<p>{escape(text)}</p>"


def escape(value):
    return html.escape(str(value), quote=True)


def page(title, body):
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def log(context, method, status):
    """One JSON line per request: never the token, nor the query that carries it."""
    print(
        json.dumps(
            {
                "message": "approval link",
                "method": method,
                "status": status,
                "requestId": getattr(context, "aws_request_id", None),
            }
        )
    )
