"""The workflow picture's model: states as nodes, transitions as arrows, each marked with
what happened in one execution; and the picture as text for the terminal.

`graph` builds it from a definition and an execution's path; `graph_layout` places it,
`graph_svg` draws it, `picture_page` puts it in a page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sfnlab.workflow.executions import Execution

NOT_REACHED = "not reached"
STATUS_STYLE = {  # fill, stroke, marker (terminal and picture)
    "succeeded": ("#dff3e3", "#2e8540", "✓"),
    "failed": ("#fde2e1", "#c0392b", "✗"),
    "caught": ("#fff0d6", "#c2410c", "!"),
    "waiting": ("#dbeafe", "#1d4ed8", "…"),
    "running": ("#dbeafe", "#1d4ed8", "…"),
    "cancelled": ("#ececf1", "#6b7280", "⊘"),
    "stopped": ("#ede9fe", "#6d28d9", "■"),  # ended by StopExecution
    NOT_REACHED: ("#f6f7f9", "#9ca3af", "·"),
}
START, END = "(start)", "(end)"


@dataclass
class Line:
    """One line of text in the picture, with the CSS class it is drawn with."""

    text: str
    css: str


@dataclass
class Node:
    name: str
    type: str
    status: str = NOT_REACHED
    function: str = ""  # what a Task invokes
    waits_for_token: bool = False
    attempts: int = 0  # tasks scheduled in its last visit: more than one means retries
    entered: int = 0  # how many times the execution entered it
    retry: str = ""
    branches: list[Flow] = field(default_factory=list)
    # Set by the layout: top-left corner, size, the lines drawn in the box, and where the
    # branches' frames sit (relative to the box).
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0
    lines: list[Line] = field(default_factory=list)
    header: float = 0  # the height of the lines above the branches

    @property
    def pseudo(self) -> bool:
        return self.type in ("Start", "End")

    @property
    def detail(self) -> str:
        """What a Task does, briefly: whether it waits for a task token, and what it calls."""
        if self.waits_for_token:
            return f"waits for a task token · {self.function}".rstrip(" ·")
        return self.function


@dataclass
class Arrow:
    source: str
    target: str
    kind: str = "next"  # next, choice, default, catch
    label: str = ""
    errors: tuple[str, ...] = ()  # a catch's ErrorEquals
    taken: int = 0  # how many times the execution went this way
    # Set by the layout: the route, the label's lines and its box (x, y, width, height).
    points: list[tuple[float, float]] = field(default_factory=list)
    label_lines: list[str] = field(default_factory=list)
    label_box: tuple[float, float, float, float] | None = None


@dataclass
class Flow:
    """One level of states: the machine itself, a Parallel branch, or a Map's processor."""

    label: str
    nodes: dict[str, Node]
    arrows: list[Arrow]
    run_shown: bool = False  # marked with an execution: the arrows not taken are muted
    width: float = 0
    height: float = 0
    # Set by the layout for a branch: its frame and where its own (0, 0) is, both
    # relative to the top-left corner of the state it belongs to.
    frame: tuple[float, float, float, float] = (0, 0, 0, 0)
    origin: tuple[float, float] = (0, 0)

    def states(self) -> Iterator[Node]:
        return (node for node in self.nodes.values() if not node.pseudo)


# Building the model ----------------------------------------------------------------------


@dataclass
class Picture:
    """The picture of one state machine, marked with one execution (if any)."""

    machine: str
    flow: Flow
    execution: Execution | None = None

    @property
    def title(self) -> str:
        if self.execution is None:
            return f"{self.machine} (no execution)"
        return f"{self.machine}: {self.execution.name} {self.execution.status}"

    def lines(self) -> list[tuple[str, str]]:
        """(status, line) per state, in the order the flow reaches them: for the terminal."""
        return list(text_lines(self.flow, ""))


def text_lines(flow: Flow, indent: str) -> Iterator[tuple[str, str]]:
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
            if a.source == name and a.target != END
        ]
        ends = any(a.source == name and a.target == END for a in flow.arrows)
        where = " -> " + "; ".join(going) if going else (" (end)" if ends else "")
        extra = f" [{node.detail}]" if node.detail else ""
        entered = f" entered {node.entered}x" if node.entered > 1 else ""
        retried = f" retried {node.attempts - 1}x" if node.attempts > 1 else ""
        yield (
            node.status,
            f"{indent}{marker} {name:<18} {node.type:<8} {node.status}{entered}{retried}"
            f"{extra}{where}",
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

    visit(START)
    return order + [name for name in flow.nodes if name not in order]
