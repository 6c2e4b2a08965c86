"""The workflow picture as SVG: boxes, arrows and labels where `graph_layout` put them.

Every text is escaped here. Each text sits in a group marked `data-box` whose first
rectangle is the shape it must fit in (a state's box, a label's, a branch's frame, a
legend's item): the browser tests check that it does. Arrows carry `data-from`,
`data-to`, `data-kind` and `data-taken` (how many times the execution went that way).
"""

from __future__ import annotations

from html import escape

from sfnlab.workflow.graph_layout import (
    BRANCH_PAD,
    FONTS,
    LABEL,
    LABEL_PAD_Y,
    PAD_X,
    PAD_Y,
    PSEUDO,
    SMALL,
)
from sfnlab.workflow.graph_model import NOT_REACHED, STATUS_STYLE, Arrow, Flow, Line, Node, Picture
from sfnlab.workflow.text_measure import MONO, SANS, Font, wrap

TITLE = Font(14, bold=True)
MARGIN = 16
LEGEND_GAP = 8
# The arrows' looks (colour, width) by how the execution went; a Catch's are dashed.
ARROW_LOOKS = {
    "plain": ("#4b5563", 1.4),
    "taken": ("#111827", 2.6),
    "muted": ("#cfd4dc", 1.2),
    "catch-plain": ("#c2410c", 1.4),
    "catch-taken": ("#c2410c", 2.6),
    "catch-muted": ("#f3cfb3", 1.2),
}


def slug(status: str) -> str:
    return status.replace(" ", "-")


STYLE = (
    f".sfnlab-picture text{{font-family:{SANS};fill:#111827}}"
    ".sfnlab-picture .name{font-size:13px;font-weight:bold}"
    ".sfnlab-picture .caption,.sfnlab-picture .badge,.sfnlab-picture .status,"
    ".sfnlab-picture .legend-text,.sfnlab-picture .branch-text{font-size:10.5px}"
    ".sfnlab-picture .caption,.sfnlab-picture .branch-text{fill:#374151}"
    f".sfnlab-picture .code,.sfnlab-picture .label-text{{font-family:{MONO};font-size:10px}}"
    ".sfnlab-picture .code{fill:#374151}"
    ".sfnlab-picture .badge{fill:#92400e}"
    ".sfnlab-picture .pseudo-text{font-size:11px}"
    ".sfnlab-picture .title{font-size:14px;font-weight:bold}"
    ".sfnlab-picture .muted text{fill:#9ca3af}"
    ".sfnlab-picture .edge-label.taken text{fill:#111827;font-weight:bold}"
    + "".join(
        f".sfnlab-picture .status.s-{slug(status)}{{fill:{stroke}}}"
        for status, (_, stroke, _) in STATUS_STYLE.items()
    )
)


def baseline(top: float, font: Font) -> float:
    """The baseline that centres a line of `font` in its line box starting at `top`."""
    return top + font.line_height / 2 + 0.35 * font.size


def text_lines(lines: list[Line], x: float, top: float, extra: str = "") -> list[str]:
    """Each line as a `<text>`, one below the other from `top`; `extra`: more classes."""
    parts = []
    for line in lines:
        font = FONTS[line.css]
        css = f"{line.css} {extra}".strip()
        parts.append(
            f'<text x="{x:.1f}" y="{baseline(top, font):.1f}" class="{css}">'
            f"{escape(line.text)}</text>"
        )
        top += font.line_height
    return parts


def arrow_look(arrow: Arrow, flow: Flow) -> str:
    how = "plain" if not flow.run_shown else "taken" if arrow.taken else "muted"
    return f"catch-{how}" if arrow.kind == "catch" else how


def svg_flow(flow: Flow, dx: float, dy: float) -> list[str]:
    lines, labels = [], []
    for arrow in flow.arrows:
        if len(arrow.points) < 2:
            continue
        look = arrow_look(arrow, flow)
        colour, width = ARROW_LOOKS[look]
        path = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for x, y in arrow.points)
        dashed = ' stroke-dasharray="6 4"' if arrow.kind == "catch" else ""
        ends = f'data-from="{escape(arrow.source)}" data-to="{escape(arrow.target)}"'
        times = f"taken {arrow.taken}x" if arrow.taken else "not taken"
        title = f"{arrow.source} → {arrow.target}" + (f": {times}" if flow.run_shown else "")
        lines.append(
            f'<g class="arrow {look}" {ends} data-kind="{arrow.kind}" '
            f'data-taken="{arrow.taken}"><title>{escape(title)}</title>'
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{width}"'
            f'{dashed} stroke-linejoin="round" marker-end="url(#sfnlab-{look})"/></g>'
        )
        if arrow.label_box is not None:
            labels += svg_label(arrow, look, dx, dy)
    parts = lines + labels
    for node in flow.nodes.values():
        parts += svg_node(node, node.x + dx, node.y + dy, flow.run_shown)
    return parts


def svg_label(arrow: Arrow, look: str, dx: float, dy: float) -> list[str]:
    x, y, width, height = arrow.label_box or (0, 0, 0, 0)
    x, y = x + dx, y + dy
    colour, _ = ARROW_LOOKS[look]
    fill = "#fff7ed" if arrow.kind == "catch" else "#ffffff"
    state = "taken" if look.endswith("taken") else "muted" if look.endswith("muted") else ""
    parts = [
        f'<g class="edge-label {state}" data-box="label" data-from="{escape(arrow.source)}" '
        f'data-to="{escape(arrow.target)}" data-taken="{arrow.taken}">',
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" rx="5" '
        f'fill="{fill}" stroke="{colour}" stroke-width="1.2"/>',
    ]
    top = y + LABEL_PAD_Y
    for line in arrow.label_lines:
        parts.append(
            f'<text x="{x + width / 2:.1f}" y="{baseline(top, LABEL):.1f}" class="label-text" '
            f'text-anchor="middle">{escape(line)}</text>'
        )
        top += LABEL.line_height
    parts.append("</g>")
    return parts


def svg_node(node: Node, x: float, y: float, run_shown: bool) -> list[str]:
    fill, stroke, _ = STATUS_STYLE.get(node.status, STATUS_STYLE[NOT_REACHED])
    if not run_shown:
        fill, stroke = "#ffffff", "#6b7280"
    if node.pseudo:
        text = node.lines[0].text if node.lines else node.type
        return [
            f'<g class="pseudo" data-box="pseudo" data-state="{escape(node.name)}" '
            f'data-status="{escape(node.status)}">'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{node.width:.1f}" height="{node.height:.1f}" '
            f'rx="{node.height / 2:.1f}" fill="{fill}" stroke="{stroke}" stroke-width="1.4"/>'
            f'<text x="{x + node.width / 2:.1f}" '
            f'y="{baseline(y + (node.height - PSEUDO.line_height) / 2, PSEUDO):.1f}" '
            f'class="pseudo-text" text-anchor="middle">{escape(text)}</text></g>'
        ]
    entered = f", entered {node.entered} times" if node.entered > 1 else ""
    title = f"{node.name}: {node.type}, {node.status}{entered}"
    dashed = ' stroke-dasharray="4 3"' if run_shown and node.status == NOT_REACHED else ""
    muted = " muted" if run_shown and node.status == NOT_REACHED else ""
    parts = [
        f'<g class="state{muted}" data-box="state" data-state="{escape(node.name)}" '
        f'data-type="{escape(node.type)}" data-status="{escape(node.status)}" '
        f'data-entered="{node.entered}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{node.width:.1f}" height="{node.height:.1f}" '
        f'rx="8" fill="{fill}" stroke="{stroke}" stroke-width="1.6"{dashed}/>',
    ]
    top = y + PAD_Y
    for line in node.lines:
        extra = f"s-{slug(node.status)}" if line.css == "status" else ""
        parts += text_lines([line], x + PAD_X, top, extra)
        top += FONTS[line.css].line_height
    for branch in node.branches:
        fx, fy, fw, fh = branch.frame
        parts.append(
            f'<g class="branch" data-box="branch" data-branch="{escape(branch.label)}">'
            f'<rect x="{x + fx:.1f}" y="{y + fy:.1f}" width="{fw:.1f}" height="{fh:.1f}" rx="6" '
            f'fill="#ffffff" fill-opacity="0.85" stroke="#cbd5e1"/>'
        )
        parts += text_lines(
            [Line(branch.label, "caption")], x + fx + BRANCH_PAD / 2, y + fy + BRANCH_PAD / 2
        )
        parts += svg_flow(branch, x + branch.origin[0], y + branch.origin[1])
        parts.append("</g>")
    parts.append("</g>")
    return parts


def legend_items(run_shown: bool) -> list[tuple[str, str, str, str]]:
    """(kind, text, fill, stroke) of each item of the legend."""
    items = []
    if run_shown:
        for status, (fill, stroke, marker) in STATUS_STYLE.items():
            if status != "running":
                items.append(("status", f"{marker} {status}", fill, stroke))
        items.append(("arrow taken", "path taken", "#ffffff", ARROW_LOOKS["taken"][0]))
        items.append(("arrow muted", "not taken", "#ffffff", ARROW_LOOKS["muted"][0]))
    items.append(("arrow catch", "Catch", "#fff7ed", ARROW_LOOKS["catch-plain"][0]))
    return items


SAMPLE = 22  # the length of an arrow's sample in the legend


def svg_legend(run_shown: bool, room: float, top: float) -> tuple[list[str], float, float]:
    """The legend's items in rows no wider than `room`; its parts, width and height."""
    parts = ['<g class="legend">']
    x, y, widest = 0.0, top, 0.0
    height = SMALL.line_height + 6
    for kind, text, fill, stroke in legend_items(run_shown):
        sample = SAMPLE + 6 if kind.startswith("arrow") else 0
        width = SMALL.width(text) + sample + 16
        if x and x + width > room:
            x, y = 0.0, y + height + LEGEND_GAP
        left = MARGIN + x
        parts.append(
            f'<g class="legend-item" data-box="legend" data-legend="{escape(kind)}">'
            f'<rect x="{left:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" rx="6" '
            f'fill="{fill}" stroke="{stroke if kind == "status" else "#d1d5db"}"/>'
        )
        if sample:
            look = {"arrow taken": "taken", "arrow muted": "muted"}.get(kind, "catch-plain")
            colour, stroke_width = ARROW_LOOKS[look]
            dashed = ' stroke-dasharray="6 4"' if "catch" in look else ""
            middle = y + height / 2
            parts.append(
                f'<line x1="{left + 8:.1f}" y1="{middle:.1f}" x2="{left + 8 + SAMPLE:.1f}" '
                f'y2="{middle:.1f}" stroke="{colour}" stroke-width="{stroke_width}"{dashed}/>'
            )
        parts += text_lines([Line(text, "legend-text")], left + 8 + sample, y + 3)
        parts.append("</g>")
        x += width + LEGEND_GAP
        widest = max(widest, x - LEGEND_GAP)
    parts.append("</g>")
    return parts, widest, y + height - top


def markers() -> str:
    defs = []
    for look, (colour, _) in ARROW_LOOKS.items():
        defs.append(
            f'<marker id="sfnlab-{look}" viewBox="0 0 10 10" refX="9" refY="5" '
            'markerWidth="6" markerHeight="6" markerUnits="userSpaceOnUse" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    return "<defs>" + "".join(defs) + "</defs>"


def render_svg(picture: Picture, *, embed_style: bool = True) -> str:
    flow = picture.flow
    room = max(flow.width, 560)
    title_lines = wrap(picture.title, TITLE, room)
    title_height = TITLE.line_height * len(title_lines)
    legend, legend_width, legend_height = svg_legend(
        flow.run_shown, room, MARGIN + title_height + LEGEND_GAP
    )
    body_top = MARGIN + title_height + LEGEND_GAP + legend_height + 2 * LEGEND_GAP
    title_width = max(TITLE.width(line) for line in title_lines)
    width = max(flow.width, title_width, legend_width) + 2 * MARGIN
    height = body_top + flow.height + MARGIN
    heading = [
        '<g class="heading" data-box="heading">',
        f'<rect x="{MARGIN}" y="{MARGIN}" width="{width - 2 * MARGIN:.1f}" '
        f'height="{title_height:.1f}" fill="none"/>',
    ]
    top = float(MARGIN)
    for line in title_lines:
        heading.append(
            f'<text x="{MARGIN}" y="{baseline(top, TITLE):.1f}" class="title">{escape(line)}</text>'
        )
        top += TITLE.line_height
    heading.append("</g>")
    body = svg_flow(flow, MARGIN + (width - 2 * MARGIN - flow.width) / 2, body_top)
    style = f"<style>{STYLE}</style>" if embed_style else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sfnlab-picture" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(picture.title)}">{style}{markers()}'
        + "\n".join([*heading, *legend, *body])
        + "\n</svg>"
    )
