"""The workflow picture: a state machine's states and transitions, each state marked by
what happened to it in one execution, in the spirit of the AWS console's graph view.

One model, three renderings: SVG (inline in Jupyter, or a file), a self-contained HTML
page, and text for the terminal. Parallel branches and Map processors are drawn inside
their state; Catch transitions are dashed; retries show as a badge on their state. The
layered layout comes from grandalf (a Sugiyama layout: layers, fewer crossings, routed
back edges); nothing is fetched from the internet to draw it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from sfnlab.exercise import STATE_MACHINE_NAME
from sfnlab.settings import Settings
from sfnlab.support.aws import client
from sfnlab.workflow import executions
from sfnlab.workflow.executions import Execution
from sfnlab.workflow.history import Visit

NOT_REACHED = "not reached"
STATUS_STYLE = {  # fill, stroke, marker for the terminal
    "succeeded": ("#dff3e3", "#2e8540", "✓"),
    "failed": ("#fde2e1", "#c0392b", "✗"),
    "caught": ("#fff0d6", "#d9822b", "!"),
    "waiting": ("#dbeafe", "#1d4ed8", "…"),
    "running": ("#dbeafe", "#1d4ed8", "…"),
    "stopped": ("#ede9fe", "#6d28d9", "■"),  # ended by StopExecution
    NOT_REACHED: ("#f3f4f6", "#9ca3af", "·"),
}
NODE_WIDTH, NODE_HEIGHT = 230, 54
CHAR_WIDTH = 6.1  # of the 10.5px caption font, to cut captions to their box
PAD, HEADER = 16, 48


@dataclass
class Node:
    name: str
    type: str
    status: str = NOT_REACHED
    detail: str = ""
    attempts: int = 0
    retry: str = ""
    branches: list[Flow] = field(default_factory=list)
    # Set by the layout: top-left corner and size.
    x: float = 0
    y: float = 0
    width: float = NODE_WIDTH
    height: float = NODE_HEIGHT

    @property
    def pseudo(self) -> bool:
        return self.type in ("Start", "End")


@dataclass
class Arrow:
    source: str
    target: str
    kind: str = "next"  # next, choice, default, catch
    label: str = ""
    points: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class Flow:
    """One level of states: the machine itself, a Parallel branch, or a Map's processor."""

    label: str
    nodes: dict[str, Node]
    arrows: list[Arrow]
    width: float = 0
    height: float = 0


# Building the model ----------------------------------------------------------------------


COMPARISONS = [  # the longest suffix first: GreaterThanEquals before Equals
    ("GreaterThanEquals", ">="),
    ("LessThanEquals", "<="),
    ("GreaterThan", ">"),
    ("LessThan", "<"),
    ("Equals", "=="),
    ("Matches", "matches"),
]


def choice_label(rule: dict) -> str:
    """A short reading of a Choice rule: `$.review.approved == true`."""
    if "Condition" in rule:  # JSONata: the expression, without its {% %}
        return jsonata_text(rule["Condition"])
    for key in ("And", "Or"):
        if key in rule:
            return f" {key.lower()} ".join(choice_label(r) for r in rule[key])
    if "Not" in rule:
        return f"not ({choice_label(rule['Not'])})"
    variable = rule.get("Variable", "")
    for key, value in rule.items():
        if key in ("Variable", "Next"):
            continue
        if key.startswith("Is"):  # IsPresent, IsNull, IsString, ...
            return f"{variable} {'is' if value else 'is not'} {key[2:].lower()}"
        compared = value if key.endswith("Path") else json.dumps(value)
        operator = next(
            (op for suffix, op in COMPARISONS if key.removesuffix("Path").endswith(suffix)), key
        )
        return f"{variable} {operator} {compared}"
    return variable or "rule"


def jsonata_text(value: Any) -> str:
    """`{% $review.approved %}` as `$review.approved`; anything else as it is."""
    text = str(value).strip()
    if text.startswith("{%") and text.endswith("%}"):
        return text[2:-2].strip()
    return text


def task_detail(state: dict) -> str:
    """What a Task does, briefly: the function it invokes, and whether it waits for a token."""
    resource = str(state.get("Resource", ""))
    # JSONPath states pass Parameters, JSONata states Arguments (possibly one expression).
    arguments = state.get("Parameters") or state.get("Arguments")
    function = (
        jsonata_text(arguments.get("FunctionName", "")) if isinstance(arguments, dict) else ""
    )
    function = function.split(":function:")[-1] if function else ""
    if ":function:" in resource:
        function = resource.split(":function:")[-1]
    service = resource.removeprefix("arn:aws:states:::") if "states:::" in resource else ""
    if service.endswith(".waitForTaskToken"):
        return f"waits for a task token · {function or service}"
    return function or service or resource


def retry_summary(state: dict) -> str:
    rules = state.get("Retry") or []
    if not rules:
        return ""
    attempts = max(int(rule.get("MaxAttempts", 3)) for rule in rules)
    return f"retries up to {attempts}x"


def build_flow(definition: dict, visits: dict[str, Visit], label: str = "") -> Flow:
    states: dict[str, Any] = definition.get("States") or {}
    nodes = {"(start)": Node("(start)", "Start"), "(end)": Node("(end)", "End")}
    arrows: list[Arrow] = []
    start = definition.get("StartAt")
    if start in states:
        arrows.append(Arrow("(start)", start))
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        kind = str(state.get("Type", "?"))
        visit = visits.get(name)
        node = Node(
            name,
            kind,
            status=visit.outcome if visit else NOT_REACHED,
            detail=task_detail(state) if kind == "Task" else "",
            attempts=visit.attempts if visit else 0,
            retry=retry_summary(state),
        )
        for number, branch in enumerate(state.get("Branches") or [], 1):
            node.branches.append(build_flow(branch, visits, f"branch {number}"))
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                node.branches.append(build_flow(state[key], visits, "each item"))
        nodes[name] = node
        if "Next" in state and state["Next"] in states:
            arrows.append(Arrow(name, state["Next"]))
        for rule in state.get("Choices") or []:
            if isinstance(rule, dict) and rule.get("Next") in states:
                arrows.append(Arrow(name, rule["Next"], "choice", choice_label(rule)))
        if state.get("Default") in states:
            arrows.append(Arrow(name, state["Default"], "default", "otherwise"))
        for catcher in state.get("Catch") or []:
            if isinstance(catcher, dict) and catcher.get("Next") in states:
                errors = ", ".join(catcher.get("ErrorEquals") or [])
                arrows.append(Arrow(name, catcher["Next"], "catch", f"catch {errors}"))
        if state.get("End") is True or kind in ("Succeed", "Fail"):
            arrows.append(Arrow(name, "(end)"))
    reached = any(node.status != NOT_REACHED for node in nodes.values() if not node.pseudo)
    for pseudo in ("(start)", "(end)"):
        nodes[pseudo].width = nodes[pseudo].height = 28
        nodes[pseudo].status = "succeeded" if reached else NOT_REACHED
    return Flow(label, nodes, arrows)


# Layout ----------------------------------------------------------------------------------


class _View:
    def __init__(self, width: float, height: float) -> None:
        self.w, self.h, self.xy = width, height, (0.0, 0.0)


class _EdgeView:
    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []

    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.points = points


def layout(flow: Flow) -> None:
    """Place every node of `flow` (branches first, inside out) and route its arrows."""
    # Imported here: `sfnlab graph` reaches LocalStack first, without waiting for it.
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    for node in flow.nodes.values():
        if node.branches:
            for branch in node.branches:
                layout(branch)
            node.width = max(
                NODE_WIDTH, sum(b.width for b in node.branches) + PAD * (len(node.branches) + 1)
            )
            node.height = HEADER + max(b.height for b in node.branches) + PAD * 2
    vertices = {name: Vertex(name) for name in flow.nodes}
    for name, vertex in vertices.items():
        vertex.view = _View(flow.nodes[name].width, flow.nodes[name].height)
    edges = []
    for arrow in flow.arrows:
        edge = Edge(vertices[arrow.source], vertices[arrow.target])
        edge.view = _EdgeView()
        edges.append((arrow, edge))
    graph = Graph(list(vertices.values()), [edge for _, edge in edges])
    offset = 0.0
    for component in graph.C:
        sugiyama = SugiyamaLayout(component)
        sugiyama.xspace, sugiyama.yspace = 40, 46
        roots = [v for v in component.sV if v.data == "(start)"] or None
        sugiyama.init_all(roots=roots)
        sugiyama.draw(3)
        left = min(v.view.xy[0] - v.view.w / 2 for v in component.sV)
        for vertex in component.sV:
            vertex.view.xy = (vertex.view.xy[0] - left + offset, vertex.view.xy[1])
        for arrow, edge in edges:
            if edge.v[0] in component.sV:
                arrow.points = [(x - left + offset, y) for x, y in (edge.view.points or [])]
        offset = max(v.view.xy[0] + v.view.w / 2 for v in component.sV) + 40
    top = min(v.view.xy[1] - v.view.h / 2 for v in vertices.values())
    for name, vertex in vertices.items():
        node = flow.nodes[name]
        node.x = vertex.view.xy[0] - node.width / 2
        node.y = vertex.view.xy[1] - node.height / 2 - top
    for arrow in flow.arrows:
        arrow.points = clip(arrow, flow.nodes)
        arrow.points = [(x, y - top) for x, y in arrow.points]
    flow.width = max(node.x + node.width for node in flow.nodes.values())
    flow.height = max(node.y + node.height for node in flow.nodes.values())


def clip(arrow: Arrow, nodes: dict[str, Node]) -> list[tuple[float, float]]:
    """End the arrow on the boxes' edges instead of their centres."""
    points = list(arrow.points)
    if len(points) < 2:
        return points
    source, target = nodes[arrow.source], nodes[arrow.target]
    points[0] = (
        points[0][0],
        points[0][1] + source.height / 2 * (1 if points[1][1] > points[0][1] else -1),
    )
    points[-1] = (
        points[-1][0],
        points[-1][1] - target.height / 2 * (1 if points[-1][1] > points[-2][1] else -1),
    )
    return points


# Rendering -------------------------------------------------------------------------------


def svg_flow(flow: Flow, dx: float, dy: float) -> list[str]:
    parts = []
    for arrow in flow.arrows:
        if len(arrow.points) < 2:
            continue
        path = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for x, y in arrow.points)
        dashed = ' stroke-dasharray="5 4"' if arrow.kind == "catch" else ""
        color = "#d9822b" if arrow.kind == "catch" else "#4b5563"
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.4"'
            f'{dashed} marker-end="url(#arrow)"/>'
        )
        if arrow.label:
            # Along the last leg, near its target: labels of diverging arrows stay apart.
            (x1, y1), (x2, y2) = arrow.points[-2], arrow.points[-1]
            lx, ly = x1 + (x2 - x1) * 0.7 + dx + 6, y1 + (y2 - y1) * 0.7 + dy
            short = arrow.label if len(arrow.label) <= 32 else arrow.label[:31] + "…"
            parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" class="label">{escape(short)}</text>')
    for node in flow.nodes.values():
        parts += svg_node(node, node.x + dx, node.y + dy)
    return parts


def svg_node(node: Node, x: float, y: float) -> list[str]:
    fill, stroke, _ = STATUS_STYLE.get(node.status, STATUS_STYLE[NOT_REACHED])
    title = f"<title>{escape(node.name)}: {escape(node.type)}, {escape(node.status)}</title>"
    if node.pseudo:
        cx, cy = x + node.width / 2, y + node.height / 2
        return [
            f'<g class="pseudo" data-state="{escape(node.name)}">{title}'
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="12" fill="{fill}" stroke="{stroke}"/>'
            f'<text x="{cx:.1f}" y="{cy + 4:.1f}" class="small" text-anchor="middle">'
            f"{'Start' if node.type == 'Start' else 'End'}</text></g>"
        ]
    dashed = ' stroke-dasharray="4 3"' if node.status == NOT_REACHED else ""
    parts = [
        f'<g class="state" data-state="{escape(node.name)}" data-status="{escape(node.status)}">',
        title,
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{node.width:.1f}" height="{node.height:.1f}" '
        f'rx="8" fill="{fill}" stroke="{stroke}" stroke-width="1.6"{dashed}/>',
        f'<text x="{x + 10:.1f}" y="{y + 18:.1f}" class="name">{escape(node.name)}</text>',
    ]
    room = int((node.width - 20) / CHAR_WIDTH)
    caption = " · ".join(part for part in (node.type, node.detail) if part)
    caption = caption if len(caption) <= room else caption[: room - 1] + "…"
    parts.append(f'<text x="{x + 10:.1f}" y="{y + 33:.1f}" class="small">{escape(caption)}</text>')
    if node.attempts > 1 or node.retry:
        badge = f"↻ retried {node.attempts - 1}x" if node.attempts > 1 else f"↻ {node.retry}"
        parts.append(
            f'<text x="{x + 10:.1f}" y="{y + 47:.1f}" class="badge">{escape(badge)}</text>'
        )
    offset = x + PAD
    for branch in node.branches:
        parts.append(
            f'<rect x="{offset - 6:.1f}" y="{y + HEADER - 6:.1f}" width="{branch.width + 12:.1f}" '
            f'height="{branch.height + 12:.1f}" rx="6" fill="#ffffff" stroke="#cbd5e1"/>'
        )
        label = escape(branch.label)
        parts.append(
            f'<text x="{offset:.1f}" y="{y + HEADER + 2:.1f}" class="small">{label}</text>'
        )
        parts += svg_flow(branch, offset, y + HEADER + PAD)
        offset += branch.width + PAD
    parts.append("</g>")
    return parts


SVG_STYLE = (
    "text{font-family:system-ui,sans-serif;fill:#111827}"
    ".name{font-size:13px;font-weight:600}.small{font-size:10.5px;fill:#374151}"
    ".label{font-size:10.5px;fill:#4b5563;paint-order:stroke;stroke:#fff;stroke-width:3px}"
    ".badge{font-size:10px;fill:#92400e}"
)


@dataclass
class ExecutionGraph:
    """The picture of one state machine, marked with one execution (if any)."""

    machine: str
    flow: Flow
    execution: Execution | None = None

    @property
    def title(self) -> str:
        if self.execution is None:
            return f"{self.machine} (no execution)"
        return f"{self.machine}: {self.execution.name} {self.execution.status}"

    def svg(self) -> str:
        margin = 20
        labels = 180  # room on the right for the labels of arrows
        width = self.flow.width + 2 * margin + labels
        height = self.flow.height + 2 * margin + 24
        body = "\n".join(svg_flow(self.flow, margin, margin + 24))
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(self.title)}">'
            f"<style>{SVG_STYLE}</style>"
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
            'fill="#4b5563"/></marker></defs>'
            f'<text x="{margin}" y="{margin + 4}" class="name">{escape(self.title)}</text>'
            f"\n{body}\n</svg>"
        )

    def _repr_svg_(self) -> str:
        return self.svg()

    def html(self) -> str:
        legend = " ".join(
            f'<span style="background:{fill};border:1.5px solid {stroke};padding:2px 8px;'
            f'border-radius:6px;margin-right:6px">{escape(status)}</span>'
            for status, (fill, stroke, _) in STATUS_STYLE.items()
            if status != "running"
        )
        return (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(self.title)}</title></head>"
            f'<body style="font-family:system-ui,sans-serif;margin:24px">'
            f'<p class="legend">{legend}</p>{self.svg()}</body></html>\n'
        )

    def save(self, path: Path) -> Path:
        """Write the picture as .svg or .html (by the file's suffix)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.svg() if path.suffix == ".svg" else self.html())
        return path

    def lines(self) -> list[tuple[str, str]]:
        """(status, line) per state, in the order the flow reaches them: for the terminal."""
        return list(text_lines(self.flow, ""))


def text_lines(flow: Flow, indent: str):
    order = reach_order(flow)
    for name in order:
        node = flow.nodes[name]
        if node.pseudo:
            continue
        marker = STATUS_STYLE.get(node.status, STATUS_STYLE[NOT_REACHED])[2]
        going = [
            (
                f"{a.target} if {a.label}"
                if a.kind == "choice"
                else f"{a.target} ({a.label})"
                if a.kind in ("catch", "default")
                else a.target
            )
            for a in flow.arrows
            if a.source == name and a.target != "(end)"
        ]
        ends = any(a.source == name and a.target == "(end)" for a in flow.arrows)
        where = " -> " + "; ".join(going) if going else (" (end)" if ends else "")
        extra = f" [{node.detail}]" if node.detail else ""
        retried = f" retried {node.attempts - 1}x" if node.attempts > 1 else ""
        yield (
            node.status,
            f"{indent}{marker} {name:<18} {node.type:<8} {node.status}{retried}{extra}{where}",
        )
        for branch in node.branches:
            yield "", f"{indent}    {branch.label}:"
            yield from text_lines(branch, indent + "      ")


def reach_order(flow: Flow) -> list[str]:
    """States in reading order: follow the main path first (Next, then Choice rules), then
    the Default and Catch ways out; states nothing reaches come last."""
    rank = {"next": 0, "choice": 1, "default": 2, "catch": 3}
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        order.append(name)
        for arrow in sorted(
            (a for a in flow.arrows if a.source == name), key=lambda a: rank.get(a.kind, 4)
        ):
            visit(arrow.target)

    visit("(start)")
    return order + [name for name in flow.nodes if name not in order]


def visits_by_state(path: list[Visit]) -> dict[str, Visit]:
    """The last visit of each state (a loop may enter one more than once)."""
    return {visit.name: visit for visit in path}


def draw(machine: str, definition: dict, execution: Execution | None = None) -> ExecutionGraph:
    """The picture of `definition`, marked with what happened in `execution`."""
    flow = build_flow(definition, visits_by_state(execution.path) if execution else {})
    layout(flow)
    return ExecutionGraph(machine, flow, execution)


def graph(
    settings: Settings,
    execution: str | None = None,
    machine: str = STATE_MACHINE_NAME,
) -> ExecutionGraph:
    """The picture of `execution` (a name or ARN), or of the machine's latest execution."""
    sfn = client("stepfunctions", settings)
    if execution is None:
        latest = executions.latest(settings, count=1, machine=machine)
        if not latest:
            arn = executions.state_machine_arn(settings, machine)
            definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
            return draw(machine, json.loads(definition))
        execution = latest[0]["executionArn"]
    # A name is resolved within `machine`: execution names are unique per state machine.
    found = executions.describe(settings, executions.execution_arn(settings, execution, machine))
    described = sfn.describe_state_machine_for_execution(executionArn=found.arn)
    return draw(described["name"], json.loads(described["definition"]), found)
