"""The inbox's web page: requests newest first, JSON pretty-printed, task tokens copyable,
each review marked by whether its token can still decide (as the kit last found: see
`marks.py`).

Everything shown is escaped here, on the server; the page's script only swaps in lists
the server rendered (and sets plain text), so nothing a learner typed (a branch name, a
reviewer's comment) can become markup.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

from sfnlab.inbox.store import CapturedRequest, Mark

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
header { background: #232f3e; color: #fff; padding: 12px 24px; display: flex; gap: 24px;
         align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 20px; margin: 0; }
header a { color: #ffd280; margin-right: 12px; }
main { padding: 16px 24px; max-width: 1100px; }
.request { background: #fff; border: 1px solid #d5dbe3; border-radius: 6px; margin: 12px 0;
           padding: 12px 16px; }
.request h2 { font-size: 15px; margin: 0 0 8px; font-weight: 600; }
.channel { background: #e8eefc; color: #1b4bb5; border-radius: 10px; padding: 1px 8px; }
.time { color: #5f6b7a; font-weight: normal; font-size: 13px; }
.token { background: #fff7e0; border: 1px solid #f0c36d; border-radius: 4px; padding: 8px;
         margin: 8px 0; display: flex; gap: 8px; align-items: center; }
.token input { flex: 1; font-family: monospace; font-size: 12px; padding: 4px; }
.token button { padding: 4px 12px; cursor: pointer; }
pre { background: #f7f8fa; padding: 8px; font-size: 13px; margin: 4px 0;
      white-space: pre-wrap; overflow-wrap: anywhere; }
.empty { color: #5f6b7a; }
.checked { color: #d5dbe3; font-size: 13px; }
.mark { display: inline-block; border-radius: 10px; padding: 2px 10px; margin: 4px 0;
        font-size: 13px; border: 1px solid; }
.mark strong { text-transform: uppercase; font-size: 12px; letter-spacing: .04em; }
.mark-waiting { background: #dbeafe; border-color: #1d4ed8; color: #1e3a8a; }
.mark-decided { background: #dff3e3; border-color: #2e8540; color: #14532d; }
.mark-expired { background: #fff0d6; border-color: #c2410c; color: #7c2d12; }
.mark-spent { background: #ececf1; border-color: #6b7280; color: #374151; }
.mark-unchecked { background: #fff; border-color: #9ca3af; border-style: dashed;
                  color: #5f6b7a; }
.token.spent input, .token.expired input, .token.decided input { color: #6b7280;
        text-decoration: line-through; background: #f3f4f6; }
.token.spent, .token.expired, .token.decided { background: #f7f7f8; border-color: #d5dbe3; }
.links a { margin-right: 12px; font-weight: 600; }
"""

SCRIPT = """
const list = document.getElementById("requests");
const checked = document.getElementById("marks-checked");
let latest = Number(list.dataset.latest);
let marks = Number(list.dataset.marks);
function checkedText(at) {
  const keep = "sfnlab graph --watch keeps them current";
  if (!at) return `Review marks: not checked since the inbox started (${keep}).`;
  const seconds = Math.round((Date.now() - Date.parse(at)) / 1000);
  const when = at.slice(11, 19) + " UTC";
  if (seconds > 10) return `Review marks: last checked ${seconds} s ago, at ${when} (${keep}).`;
  return `Review marks: checked by the kit at ${when}.`;
}
async function refresh() {
  try {
    const health = await (await fetch("/api/health")).json();
    if (health.latest !== latest || health.marks !== marks) {
      const response = await fetch("/fragment" + window.location.search);
      list.innerHTML = await response.text();  // rendered and escaped by the server
      latest = health.latest;
      marks = health.marks;
    }
    checked.textContent = checkedText(health.marksCheckedAt);
  } catch (error) { /* the inbox restarted or stopped: try again shortly */ }
}
refresh();
setInterval(refresh, 1000);
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  field.select();
  try { await navigator.clipboard.writeText(field.value); }
  catch (error) { document.execCommand("copy"); }
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy token"; }, 1500);
});
"""


def pretty(request: CapturedRequest) -> str:
    body = request.json
    return json.dumps(body, indent=2, ensure_ascii=False) if body is not None else request.body


def find_token(body: Any) -> str | None:
    """A task token anywhere in a JSON body (`taskToken` or `token`)."""
    if isinstance(body, dict):
        for key in ("taskToken", "token"):
            if isinstance(body.get(key), str):
                return body[key]
        for value in body.values():
            found = find_token(value)
            if found:
                return found
    return None


MARK_WORDS = {  # what each mark says at a glance, before the kit's detail
    "waiting": "this token can still approve or reject",
    "decided": "",
    "expired": "this token can no longer decide",
    "spent": "this token can no longer decide",
}


def render_mark(mark: Mark | None) -> str:
    if mark is None:
        return (
            '<p class="mark mark-unchecked">not checked yet: while <code>sfnlab graph '
            "--watch</code> runs, the kit marks here whether this token can still decide</p>"
        )
    said = [MARK_WORDS.get(mark.mark, ""), mark.detail if mark.mark != "waiting" else ""]
    words = ": ".join(part for part in said if part)
    return (
        f'<p class="mark mark-{escape(mark.mark)}"><strong>{escape(mark.mark)}</strong> · '
        f'{escape(words)} <span class="since">(since {escape(mark.since[11:19])} UTC)</span></p>'
    )


def render_request(request: CapturedRequest, mark: Mark | None = None) -> str:
    body = request.json
    token = find_token(body)
    shown_mark = mark.mark if mark else ("unchecked" if token else "")
    parts = [
        f'<article class="request" id="request-{request.id}" '
        f'data-channel="{escape(request.channel)}" data-mark="{escape(shown_mark)}">',
        f"<h2>#{request.id} {escape(request.method)} {escape(request.path)} "
        f'<span class="channel">{escape(request.channel)}</span> '
        f'<span class="time">{escape(request.received_at)}</span></h2>',
    ]
    if isinstance(body, dict) and body.get("subject"):
        parts.append(f"<p><strong>{escape(str(body['subject']))}</strong></p>")
    if token:
        field = f"token-{request.id}"
        parts.append(render_mark(mark))
        parts.append(
            f'<div class="token {escape(shown_mark)}"><label for="{field}">Task token</label>'
            f'<input id="{field}" class="task-token" readonly value="{escape(token)}">'
            f'<button type="button" data-copy="{field}">Copy token</button></div>'
        )
    links = body.get("links") if isinstance(body, dict) else None
    if isinstance(links, dict):
        parts.append(render_links(links))
    for key, label in (("toApprove", "To approve"), ("toReject", "To reject")):
        commands = body.get(key) if isinstance(body, dict) else None
        if isinstance(commands, dict):  # shown as typed, not JSON-escaped, to paste as is
            lines = "\n".join(value for value in commands.values() if isinstance(value, str))
            parts.append(f"<p>{label}, in a terminal in the kit's folder:</p>")
            parts.append(f'<pre class="command">{escape(lines)}</pre>')
    parts.append(f"<pre>{escape(pretty(request))}</pre>")
    headers = json.dumps(request.headers, indent=2)
    parts.append(f"<details><summary>Headers</summary><pre>{escape(headers)}</pre></details>")
    if request.query:
        query = json.dumps(request.query, indent=2)
        parts.append(f"<details><summary>Query</summary><pre>{escape(query)}</pre></details>")
    parts.append("</article>")
    return "\n".join(parts)


def render_links(links: dict) -> str:
    """The reviewers' approval links: each opens a page that asks before it decides.

    Only http(s) URLs become links (a message is anybody's POST: no `javascript:`), and
    they are not sent on as a Referer: the token in them is a secret.
    """
    anchors = [
        f'<a class="approval-link" data-decision="{escape(decision)}" href="{escape(url)}" '
        f'rel="noreferrer noopener" target="_blank">{escape(decision.capitalize())}</a>'
        for decision, url in links.items()
        if decision in ("approve", "reject")
        and isinstance(url, str)
        and urlsplit(url).scheme in ("http", "https")
    ]
    if not anchors:
        return ""
    return (
        '<p class="links">Or by link (a page that asks first; whoever holds a link can '
        f"decide): {' '.join(anchors)}</p>"
    )


def render_list(requests: list[CapturedRequest], marks: dict[int, Mark] | None = None) -> str:
    if not requests:
        return '<p class="empty">Nothing has arrived yet. Requests show up here as they come.</p>'
    marks = marks or {}
    return "\n".join(render_request(request, marks.get(request.id)) for request in requests)


def render_page(
    requests: list[CapturedRequest],
    latest: int,
    channels: list[str],
    nonce: str,
    marks: dict[int, Mark] | None = None,
    marks_version: int = 0,
) -> str:
    # A channel is whatever the first segment of a path was: in a link it is a query
    # value (URL-encoded, then escaped for the attribute), on screen it is text (escaped).
    links = " ".join(
        f'<a href="/?channel={escape(quote(channel, safe=""))}">{escape(channel)}</a>'
        for channel in channels
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sfnlab inbox</title>
<style nonce="{nonce}">{STYLE}</style>
</head>
<body>
<header><h1>sfnlab inbox</h1><nav><a href="/">all</a> {links}</nav>
<span class="checked" id="marks-checked"></span></header>
<main>
<section id="requests" data-latest="{latest}" data-marks="{marks_version}">
{render_list(requests, marks)}
</section>
</main>
<script nonce="{nonce}">{SCRIPT}</script>
</body>
</html>
"""
