"""The documentation, read as its tests check it: its pages, their samples, links, headings.

The pages are the README, every Markdown file under `docs/` and `benchmarks/README.md`
(other READMEs are linked from them and checked as link targets). A *sample* is a
```console block right after a `<!-- sample -->` comment (`<!-- sample: note -->`
carries a note): its `$ ...` lines are commands, the lines under each are what it prints.
"""

from __future__ import annotations

import re
from pathlib import Path

from sfnlab.settings import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
DOCS = PROJECT_ROOT / "docs"
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
COG_BLOCK = re.compile(r"\[\[\[cog.*?\[\[\[end\]\]\]", re.S)
SAMPLE = re.compile(r"<!-- sample(?:: (?P<note>[^>]*?))? -->\n```console\n(?P<body>.*?)```", re.S)
CONSOLE_BLOCK = re.compile(r"(?P<before>[^\n]*)\n```console\n", re.S)
HEADING = re.compile(r"^#{1,6}[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$", re.M)
LINK = re.compile(
    r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\((?P<target><[^>]*>|[^)\s]*)(?:\s+\"[^\"]*\")?\)"
)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
# A path in the repository a page names: one of its top-level folders, then the rest. A
# path cut short in a sample's table (`…` after it) is not one.
REPO_PATH = re.compile(
    r"(?<![\w./-])((?:src|tests|benchmarks|scripts|definitions|lambdas|test-events|notebooks"
    r"|starter|docker|requirements|localstack-process-executor|localstack-patches)/[\w./*-]*)"
    r"(?![\w./*-]|…)"
)


def pages() -> list[Path]:
    """The README, every page of docs/, and the benchmarks' figures, in a stable order."""
    return [README, *sorted(DOCS.rglob("*.md")), PROJECT_ROOT / "benchmarks" / "README.md"]


def shown(page: Path) -> str:
    """A page's path as a test names it: relative to the kit's folder."""
    return page.relative_to(PROJECT_ROOT).as_posix()


def prose(text: str) -> str:
    """The text a reader reads as prose: without code blocks, generated parts or comments."""
    return HTML_COMMENT.sub("", FENCE.sub("", COG_BLOCK.sub("", text)))


def samples(page: Path) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """(note, [(command, expected lines)]) for each sample block of a page, in its order."""
    found = []
    for match in SAMPLE.finditer(page.read_text()):
        steps: list[tuple[str, list[str]]] = []
        for line in match["body"].splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
        found.append((match["note"] or "", steps))
    return found


def unchecked_console_blocks(text: str) -> list[str]:
    """Console blocks that are neither a sample, generated (cog) nor marked `not run`."""
    unchecked = []
    for match in CONSOLE_BLOCK.finditer(text):
        before = match["before"]
        if not re.fullmatch(r"<!-- (sample(: [^>]*)?|not run: [^>]+) -->|.*\]\]\] -->", before):
            following = text[match.end() :].split("\n", 1)[0]
            unchecked.append(following)
    return unchecked


def slug(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*_]|<[^>]*>", "", title).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor of a Markdown page's headings (a repeated one gets -1, -2, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for match in HEADING.finditer(FENCE.sub("", text)):
        base = slug(match["title"])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(page: Path) -> list[str]:
    """Each relative link of a page whose file, or heading in that file, does not exist."""
    text = page.read_text()
    broken = []
    for match in LINK.finditer(FENCE.sub("", COG_BLOCK.sub("", text))):
        target = match["target"].strip("<>")
        if not target or re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # a web address, mailto:, ...
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text()):
            broken.append(f"{target} (no such heading)")
    return broken


def without_sample_output(text: str) -> str:
    """The page less what its samples print (a tool's output, compared with what it prints
    by the sample test: a path there may be folded to the terminal's width)."""

    def commands_only(match: re.Match) -> str:
        lines = [line for line in match["body"].splitlines() if line.startswith("$ ")]
        return "\n".join(lines)

    return SAMPLE.sub(commands_only, text)


def missing_paths(page: Path) -> list[str]:
    """Each path of the repository a page names (globs allowed) that matches no file."""
    missing = []
    for match in REPO_PATH.finditer(without_sample_output(page.read_text())):
        path = match[1].rstrip(".")
        if not any(PROJECT_ROOT.glob(path)) and not (PROJECT_ROOT / path).exists():
            missing.append(path)
    return missing
