"""The workflow picture as a web page: the picture, then the path state by state.

Two pages share one body: a file to open (`sfnlab graph --output x.html`), and the live
page the kit serves (`sfnlab graph --watch`, see `live.py`), whose script fetches the body
again each second and swaps it in. Everything is rendered and escaped here, on the kit's
side: the script only replaces one element's contents with what the server rendered, so
nothing an execution carries (a branch name, a reviewer's comment) can become markup.
Nothing is loaded from anywhere else.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from sfnlab.workflow.graph_model import NOT_REACHED, STATUS_STYLE, Picture
from sfnlab.workflow.graph_svg import STYLE

SHOWN_CHARACTERS = 4000  # of one state's input or output: a 256 KB comment is cut short

PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}"
    "header{background:#232f3e;color:#fff;padding:10px 24px;display:flex;gap:16px;"
    "align-items:baseline;flex-wrap:wrap}header h1{font-size:18px;margin:0}"
    "header .live{color:#ffd280;font-size:13px}"
    "main{padding:12px 24px}"
    ".status-line{margin:8px 0 12px;font-size:15px}"
    ".status-line .status{font-weight:bold;padding:1px 8px;border-radius:10px}"
    ".picture{background:#fff;border:1px solid #d5dbe3;border-radius:6px;padding:8px}"
    # A picture wider than the window is drawn smaller, never cut.
    ".picture svg{max-width:100%;height:auto;display:block;margin:auto}"
    "table.path{border-collapse:collapse;margin-top:16px;background:#fff;min-width:60%}"
    "table.path th,table.path td{border:1px solid #d5dbe3;padding:4px 8px;text-align:left;"
    "vertical-align:top;font-size:13px;overflow-wrap:anywhere;max-width:24em}"
    "table.path pre{margin:2px 0;white-space:pre-wrap;overflow-wrap:anywhere;max-width:60em;"
    "font-size:12px}"
    ".problem{background:#fde2e1;border:1px solid #c0392b;border-radius:6px;padding:8px 12px}"
    ".note{color:#5f6b7a;font-size:13px}"
    + "".join(
        f".status-line .status.{look}{{background:{fill};border:1px solid {stroke}}}"
        for look, (fill, stroke, _) in STATUS_STYLE.items()
        if " " not in look
    )
    + STYLE
)

SCRIPT = """
const body = document.getElementById("picture-body");
const clock = document.getElementById("updated");
let version = body.dataset.version;
async function refresh() {
  try {
    const answer = await fetch("fragment" + window.location.search, {cache: "no-store"});
    const fresh = await answer.json();
    if (fresh.version !== version) {
      const open = [...body.querySelectorAll("details[open]")].map((d) => d.dataset.key);
      body.innerHTML = fresh.html;  // rendered and escaped by the kit
      for (const key of open) {
        const again = body.querySelector(`details[data-key="${CSS.escape(key)}"]`);
        if (again) again.open = true;
      }
      version = fresh.version;
      body.dataset.version = version;
    }
    clock.textContent = "live · updated " + new Date().toLocaleTimeString();
  } catch (error) {
    clock.textContent = "the kit's page server does not answer: is `sfnlab graph --watch` running?";
  }
}
setInterval(refresh, 1000);
"""


def shown_json(value: Any) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > SHOWN_CHARACTERS:
        rest = len(text) - SHOWN_CHARACTERS
        text = f"{text[:SHOWN_CHARACTERS]}\n… ({rest} more characters)"
    return text


EXECUTION_LOOK = {  # an execution's status, drawn as the states' are
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "TIMED_OUT": "failed",
    "ABORTED": "cancelled",
}


def status_line(picture: Picture) -> str:
    execution = picture.execution
    if execution is None:
        return (
            f'<p class="status-line">No execution of {escape(picture.machine)} yet: start one '
            "with <code>sfnlab start</code>.</p>"
        )
    look = EXECUTION_LOOK.get(execution.status, "failed")
    waiting = execution.waiting_at
    now = f" · waiting at <strong>{escape(waiting)}</strong>" if waiting else ""
    failure = execution.failure()
    error = f" · {escape(failure)}" if failure else ""
    return (
        f'<p class="status-line" data-execution="{escape(execution.name)}" '
        f'data-status="{escape(execution.status)}">Execution <strong>{escape(execution.name)}'
        f'</strong> of {escape(picture.machine)}: <span class="status {look}">'
        f"{escape(execution.status)}</span>{now}{error}</p>"
    )


def path_table(picture: Picture) -> str:
    execution = picture.execution
    if execution is None or not execution.path:
        return ""
    rows = []
    for number, visit in enumerate(execution.path, 1):
        came = execution.path[visit.came_from].name if visit.came_from is not None else "(start)"
        marker = STATUS_STYLE.get(visit.outcome, STATUS_STYLE[NOT_REACHED])[2]
        retried = f", retried {visit.attempts - 1}x" if visit.attempts > 1 else ""
        cells = [
            str(number),
            escape(visit.name),
            escape(visit.type),
            f"{marker} {escape(visit.outcome)}{retried}",
            escape(came),
            details(f"in-{number}", "input", visit.input),
            details(f"out-{number}", "output", visit.output) if visit.exited else "",
        ]
        rows.append(
            f'<tr data-state="{escape(visit.name)}" data-outcome="{escape(visit.outcome)}">'
            + "".join(f"<td>{cell}</td>" for cell in cells)
            + "</tr>"
        )
    head = "".join(
        f"<th>{title}</th>"
        for title in ("#", "state", "type", "what happened", "entered from", "input", "output")
    )
    return (
        "<h2>The path, state by state</h2>"
        f'<table class="path"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
        "</tbody></table>"
    )


def details(key: str, summary: str, value: Any) -> str:
    return (
        f'<details data-key="{key}"><summary>{summary}</summary>'
        f"<pre>{escape(shown_json(value))}</pre></details>"
    )


def page_body(picture: Picture) -> str:
    """What both pages show: the status, the picture and the path."""
    return (
        status_line(picture)
        + f'<div class="picture">{picture.svg(embed_style=False)}</div>'
        + path_table(picture)
    )


def problem_body(message: str) -> str:
    """What the live page shows while it cannot draw (LocalStack down, nothing deployed)."""
    return f'<p class="problem">{escape(message)}</p>'


def static_page(picture: Picture) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(picture.title)}</title><style>{PAGE_STYLE}</style></head><body>"
        "<header><h1>The workflow picture</h1></header>"
        f'<main id="picture-body">{page_body(picture)}</main></body></html>\n'
    )


def live_page(body: str, version: str, nonce: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<title>sfnlab: the workflow, live</title><style nonce="{nonce}">{PAGE_STYLE}</style>'
        "</head><body><header><h1>The workflow, live</h1>"
        '<span class="live" id="updated">live</span></header>'
        f'<main id="picture-body" data-version="{escape(version)}">{body}</main>'
        f'<script nonce="{nonce}">{SCRIPT}</script></body></html>\n'
    )
