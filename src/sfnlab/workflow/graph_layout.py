"""Where each state, arrow and label of the workflow picture goes, and what each box says.

Every box is sized to hold its text whole (`text_measure` wraps what is too long): a
state's name, type, function, retry policy and what happened to it. An arrow's label (a
Choice rule, a Catch's errors) is laid out as a small box of its own in the middle of its
arrow, as the AWS console draws Choice rules: the layered layout (grandalf's Sugiyama)
then keeps labels off the states and off each other, however long a rule is.
"""

from __future__ import annotations

import itertools
import math

from sfnlab.workflow.graph_model import NOT_REACHED, START, STATUS_STYLE, Arrow, Flow, Line, Node
from sfnlab.workflow.text_measure import Font, wrap, wrap_clauses

NAME = Font(13, bold=True)
SMALL = Font(10.5)
CODE = Font(10, mono=True)
LABEL = Font(10, mono=True)
PSEUDO = Font(11)
FONTS = {  # by the CSS class a line is drawn with
    "name": NAME,
    "caption": SMALL,
    "code": CODE,
    "badge": SMALL,
    "status": SMALL,
    "pseudo-text": PSEUDO,
    "legend-text": SMALL,
}

MIN_WIDTH, MAX_WIDTH = 200, 300  # of a state's box
PAD_X, PAD_Y = 10, 8  # inside a state's box
LABEL_ROOM = 220  # the widest line of an arrow's label
LABEL_PAD_X, LABEL_PAD_Y = 6, 4
PSEUDO_HEIGHT = 24
BRANCH_PAD = 12  # inside a branch's frame, and between frames
XSPACE, YSPACE = 36, 34  # between boxes side by side, and between layers


def node_lines(node: Node, run_shown: bool) -> list[Line]:
    """What the state's box says, line by line, each wrapped to fit the widest box."""
    room = MAX_WIDTH - 2 * PAD_X
    lines = [Line(text, "name") for text in wrap(node.name, NAME, room)]
    caption = node.type + (" · waits for a task token" if node.waits_for_token else "")
    lines += [Line(text, "caption") for text in wrap(caption, SMALL, room)]
    if node.function:
        lines += [Line(text, "code") for text in wrap(node.function, CODE, room)]
    if node.retry:
        lines += [Line(text, "badge") for text in wrap(f"↻ {node.retry}", SMALL, room)]
    if run_shown:
        marker = STATUS_STYLE.get(node.status, STATUS_STYLE[NOT_REACHED])[2]
        status = f"{marker} {node.status}"
        if node.entered > 1:
            status += f" · entered {node.entered}x"
        if node.attempts > 1:
            status += f" · retried {node.attempts - 1}x"
        lines += [Line(text, "status") for text in wrap(status, SMALL, room)]
    return lines


def text_height(lines: list[Line]) -> float:
    return sum(FONTS[line.css].line_height for line in lines)


def text_width(lines: list[Line]) -> float:
    return max((FONTS[line.css].width(line.text) for line in lines), default=0)


def size_node(node: Node, run_shown: bool) -> None:
    """The box's size: its lines, and its branches' frames side by side below them."""
    if node.pseudo:
        text = "Start" if node.type == "Start" else "End"
        node.lines = [Line(text, "pseudo-text")]
        node.width, node.height = PSEUDO.width(text) + 24, PSEUDO_HEIGHT
        return
    node.lines = node_lines(node, run_shown)
    node.header = text_height(node.lines) + 2 * PAD_Y
    node.width = min(MAX_WIDTH, max(MIN_WIDTH, text_width(node.lines) + 2 * PAD_X))
    node.height = node.header
    if not node.branches:
        return
    frames = []
    for branch in node.branches:
        layout(branch)
        title = SMALL.line_height
        width = max(branch.width, SMALL.width(branch.label)) + 2 * BRANCH_PAD
        frames.append((width, title + branch.height + 2 * BRANCH_PAD))
    inner = sum(w for w, _ in frames) + BRANCH_PAD * (len(frames) - 1)
    node.width = max(node.width, inner + 2 * BRANCH_PAD)
    x = (node.width - inner) / 2
    for branch, (width, height) in zip(node.branches, frames, strict=True):
        branch.frame = (x, node.header, width, height)
        branch.origin = (
            x + (width - branch.width) / 2,
            node.header + BRANCH_PAD + SMALL.line_height,
        )
        x += width + BRANCH_PAD
    node.height = node.header + max(h for _, h in frames) + BRANCH_PAD


def size_label(arrow: Arrow) -> None:
    if not arrow.label:
        return
    if arrow.kind == "choice":
        arrow.label_lines = wrap_clauses(arrow.label, LABEL, LABEL_ROOM)
    else:
        arrow.label_lines = wrap(arrow.label, LABEL, LABEL_ROOM)
    width = max(LABEL.width(line) for line in arrow.label_lines) + 2 * LABEL_PAD_X
    height = LABEL.line_height * len(arrow.label_lines) + 2 * LABEL_PAD_Y
    arrow.label_box = (0, 0, width, height)


class _View:
    def __init__(self, width: float, height: float) -> None:
        self.w, self.h, self.xy = width, height, (0.0, 0.0)


class _EdgeView:
    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []

    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.points = points


def layout(flow: Flow) -> None:
    """Size and place every box of `flow` (branches first, inside out), route its arrows
    and place their labels; `flow.width` and `.height` are then what it covers."""
    # Imported here: `sfnlab graph` reaches LocalStack first, without waiting for it.
    from grandalf.graphs import Edge, Graph, Vertex

    for node in flow.nodes.values():
        size_node(node, flow.run_shown)
    vertices = {name: Vertex(name) for name in flow.nodes}
    for name, vertex in vertices.items():
        vertex.view = _View(flow.nodes[name].width, flow.nodes[name].height)
    legs: list[tuple[Arrow, list[Edge]]] = []  # each arrow's edges: one, or two via its label
    labels: dict[int, Vertex] = {}
    for number, arrow in enumerate(flow.arrows):
        size_label(arrow)
        if arrow.source == arrow.target:
            legs.append((arrow, []))  # drawn beside its state, after the layout
            continue
        ends = [vertices[arrow.source], vertices[arrow.target]]
        if arrow.label_box is not None:
            middle = Vertex(f"label {number}")
            middle.view = _View(arrow.label_box[2], arrow.label_box[3])
            labels[number] = middle
            ends.insert(1, middle)
        edges = [Edge(a, b) for a, b in itertools.pairwise(ends)]
        for edge in edges:
            edge.view = _EdgeView()
        legs.append((arrow, edges))
    graph = Graph(
        [*vertices.values(), *labels.values()], [edge for _, edges in legs for edge in edges]
    )
    place(graph)
    every = [*vertices.values(), *labels.values()]
    left = min(v.view.xy[0] - v.view.w / 2 for v in every)
    top = min(v.view.xy[1] - v.view.h / 2 for v in every)
    for name, vertex in vertices.items():
        node = flow.nodes[name]
        node.x = vertex.view.xy[0] - node.width / 2 - left
        node.y = vertex.view.xy[1] - node.height / 2 - top
    for number, (arrow, edges) in enumerate(legs):
        if not edges:
            route_loop(arrow, flow.nodes[arrow.source])
            continue
        points = [(x - left, y - top) for x, y in edges[0].view.points]
        for edge in edges[1:]:
            points += [(x - left, y - top) for x, y in edge.view.points[1:]]
        arrow.points = clip(points, flow.nodes[arrow.source], flow.nodes[arrow.target])
        if number in labels:
            view = labels[number].view
            _, _, width, height = arrow.label_box or (0, 0, 0, 0)
            arrow.label_box = (
                view.xy[0] - left - width / 2,
                view.xy[1] - top - height / 2,
                width,
                height,
            )
    boxes = [(n.x, n.y, n.width, n.height) for n in flow.nodes.values()]
    boxes += [a.label_box for a in flow.arrows if a.label_box is not None]
    boxes += [(x, y, 0, 0) for a in flow.arrows for x, y in a.points]
    flow.width = max(x + w for x, _, w, _ in boxes)
    flow.height = max(y + h for _, y, _, h in boxes)


def place(graph) -> None:
    """Lay each connected part out with grandalf's Sugiyama layout, side by side."""
    from grandalf.layouts import SugiyamaLayout

    offset = 0.0
    for component in graph.C:
        sugiyama = SugiyamaLayout(component)
        sugiyama.xspace, sugiyama.yspace = XSPACE, YSPACE
        roots = [v for v in component.sV if v.data == START] or None
        sugiyama.init_all(roots=roots)
        sugiyama.draw(3)
        left = min(v.view.xy[0] - v.view.w / 2 for v in component.sV)
        for vertex in component.sV:
            vertex.view.xy = (vertex.view.xy[0] - left + offset, vertex.view.xy[1])
        for edge in component.sE:
            edge.view.points = [(x - left + offset, y) for x, y in edge.view.points]
        offset = max(v.view.xy[0] + v.view.w / 2 for v in component.sV) + XSPACE


def clip(points: list[tuple[float, float]], source: Node, target: Node) -> list:
    """End the route on the boxes' edges instead of their centres."""
    if len(points) < 2:
        return points
    points = list(points)
    points[0] = border_point(source, points[1])
    points[-1] = border_point(target, points[-2])
    return points


def border_point(node: Node, toward: tuple[float, float]) -> tuple[float, float]:
    """Where the line from the box's centre toward `toward` leaves the box."""
    cx, cy = node.x + node.width / 2, node.y + node.height / 2
    dx, dy = toward[0] - cx, toward[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(
        (node.width / 2) / abs(dx) if dx else math.inf,
        (node.height / 2) / abs(dy) if dy else math.inf,
    )
    return cx + dx * scale, cy + dy * scale


def route_loop(arrow: Arrow, node: Node) -> None:
    """An arrow from a state to itself: out of its right side and back in, the label
    beyond it."""
    right, middle = node.x + node.width, node.y + node.height / 2
    arrow.points = [
        (right, middle - 8),
        (right + 22, middle - 8),
        (right + 22, middle + 8),
        (right, middle + 8),
    ]
    if arrow.label_box is not None:
        _, _, width, height = arrow.label_box
        arrow.label_box = (right + 28, middle - height / 2, width, height)
