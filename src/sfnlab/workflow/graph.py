"""The workflow picture: a state machine's states and transitions, each state marked by
what happened to it in one execution, as the AWS console's graph inspector shows it.

The edges the execution took are drawn as taken and the others muted; a state entered
more than once (a loop, a Map's items) says how many times, and one retried says how
often. One model, three renderings: SVG (inline in Jupyter, or a file), an HTML page (a
file, or the live page `sfnlab graph --watch` serves), and text for the terminal.
Parallel branches and Map processors are drawn inside their state; Catch transitions are
dashed. The layout (`graph_layout`) is grandalf's; nothing is fetched from the internet
to draw it. The path comes from the execution's history (`history.Visit.came_from`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfnlab.exercise import STATE_MACHINE_NAME
from sfnlab.settings import Settings
from sfnlab.support.aws import client
from sfnlab.workflow import executions
from sfnlab.workflow.executions import Execution
from sfnlab.workflow.graph_layout import layout
from sfnlab.workflow.graph_model import (
    END,
    NOT_REACHED,
    START,
    Arrow,
    Flow,
    Node,
    Picture,
)
from sfnlab.workflow.graph_svg import render_svg
from sfnlab.workflow.history import Visit
from sfnlab.workflow.picture_page import static_page

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


def task_function(state: dict) -> tuple[str, bool]:
    """What a Task invokes (a function's name, else the service), and whether it waits
    for a task token."""
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
    waits = service.endswith(".waitForTaskToken")
    return function or service or resource, waits


def retry_summary(state: dict) -> str:
    rules = [rule for rule in state.get("Retry") or [] if isinstance(rule, dict)]
    if not rules:
        return ""
    attempts = max(int(rule.get("MaxAttempts", 3)) for rule in rules)
    return f"retries up to {attempts}x"


def build_flow(definition: dict, path: list[Visit] | None = None, label: str = "") -> Flow:
    """The flow of `definition`, marked with the visits of `path` (None: no execution)."""
    states: dict[str, Any] = definition.get("States") or {}
    nodes = {START: Node(START, "Start"), END: Node(END, "End")}
    arrows: list[Arrow] = []
    start = definition.get("StartAt")
    if start in states:
        arrows.append(Arrow(START, start))
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        kind = str(state.get("Type", "?"))
        function, waits = task_function(state) if kind == "Task" else ("", False)
        node = Node(name, kind, function=function, waits_for_token=waits)
        node.retry = retry_summary(state)
        for number, branch in enumerate(state.get("Branches") or [], 1):
            if isinstance(branch, dict):
                node.branches.append(build_flow(branch, path, f"branch {number}"))
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                node.branches.append(build_flow(state[key], path, "each item"))
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
                errors = tuple(str(e) for e in catcher.get("ErrorEquals") or [])
                label = f"catch {', '.join(errors)}"
                arrows.append(Arrow(name, catcher["Next"], "catch", label, errors))
        if state.get("End") is True or kind in ("Succeed", "Fail"):
            arrows.append(Arrow(name, END))
    flow = Flow(label, nodes, arrows)
    if path is not None:
        mark(flow, path)
    return flow


def mark(flow: Flow, path: list[Visit]) -> None:
    """Mark `flow` with what happened: each state's last outcome and how often it was
    entered, each arrow how often it was taken."""
    flow.run_shown = True
    for visit in path:
        node = flow.nodes.get(visit.name)
        if node is None or node.pseudo:
            continue
        node.status, node.attempts = visit.outcome, visit.attempts
        node.entered += 1
    for arrow in taken_arrows(flow, path):
        arrow.taken += 1
    reached = any(node.status != NOT_REACHED for node in flow.states())
    for pseudo in (START, END):
        flow.nodes[pseudo].status = NOT_REACHED
    if reached:
        flow.nodes[START].status = "succeeded"
    ended = [flow.nodes[a.source] for a in flow.arrows if a.target == END and a.taken]
    if ended:  # reached by a Fail state only: the flow failed
        failed = all(node.type == "Fail" for node in ended)
        flow.nodes[END].status = "failed" if failed else "succeeded"


def taken_arrows(flow: Flow, path: list[Visit]) -> Iterator[Arrow]:
    """Each arrow of `flow` the execution went along, once per time it did."""
    followed = {visit.came_from for visit in path if visit.came_from is not None}
    for number, visit in enumerate(path):
        if visit.name not in flow.nodes:
            continue
        source = path[visit.came_from] if visit.came_from is not None else None
        if source is not None and source.name in flow.nodes:
            found = arrow_between(flow, source, visit.name)
        else:  # the first state of the execution, of a branch or of an iteration
            found = arrow_between(flow, None, visit.name)
        if found is not None:
            yield found
        ended = (visit.exited and visit.outcome == "succeeded") or visit.type == "Fail"
        if ended and number not in followed:
            yield from (a for a in flow.arrows if (a.source, a.target) == (visit.name, END))


def arrow_between(flow: Flow, source: Visit | None, target: str) -> Arrow | None:
    """The arrow from `source` (None: Start) to `target`: a Catch's if the source's
    failure was caught (the first catcher whose errors name it), else its Next, its first
    Choice rule to `target`, or its Default."""
    name = source.name if source is not None else START
    arrows = [a for a in flow.arrows if a.source == name and a.target == target]
    if len(arrows) <= 1 or source is None:
        return arrows[0] if arrows else None
    catches = [a for a in arrows if a.kind == "catch"]
    if source.outcome == "caught" and catches:
        return next(
            (a for a in catches if source.error in a.errors or "States.ALL" in a.errors),
            catches[0],
        )
    others = [a for a in arrows if a.kind != "catch"] or arrows
    order = {"next": 0, "choice": 1, "default": 2}
    return min(others, key=lambda a: order.get(a.kind, 3))


# The picture -----------------------------------------------------------------------------


@dataclass
class ExecutionGraph(Picture):
    """The picture of one state machine, marked with one execution (if any), in each of
    its renderings."""

    def svg(self, *, embed_style: bool = True) -> str:
        """The picture as SVG; without `embed_style`, for a page that brings the style."""
        return render_svg(self, embed_style=embed_style)

    def _repr_svg_(self) -> str:
        return self.svg()

    def html(self) -> str:
        """A page of its own: the picture and the execution's path, state by state."""
        return static_page(self)

    def save(self, path: Path) -> Path:
        """Write the picture as .svg or .html (by the file's suffix)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.svg() if path.suffix == ".svg" else self.html())
        return path


def draw(machine: str, definition: dict, execution: Execution | None = None) -> ExecutionGraph:
    """The picture of `definition`, marked with what happened in `execution`."""

    flow = build_flow(definition, execution.path if execution else None)
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
