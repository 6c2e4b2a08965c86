"""The documentation keeps up with the code: every command documented, the generated pages
current, every relative link resolving, every console block checked one way or another.

(Whether each sample prints what the page shows is tests/integration/exercise/test_readme.py.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from sfnlab.cli import main
from sfnlab.settings import PROJECT_ROOT
from tests import docs

CLI_REFERENCE = docs.DOCS / "reference" / "cli.md"
TUTORIAL = docs.DOCS / "tutorial.md"
GRADING_GUIDE = docs.DOCS / "grading" / "README.md"  # and the how-tos beside it
# Commands for operators rather than learners or instructors, and the page that explains each.
OPERATOR_PAGES = {
    ("settings",): docs.DOCS / "reference" / "settings.md",
    ("smoke",): docs.DOCS / "reference" / "process-executor.md",
}


def commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command under `group`, as the words after `sfnlab`; subcommands included."""
    found = []
    for name, command in group.commands.items():
        found.append((*path, name))
        if isinstance(command, click.Group):
            found.extend(commands(command, (*path, name)))
    return found


def generated_pages() -> list[Path]:
    return [page for page in docs.pages() if "[[[cog" in page.read_text()]


def cog_check(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", *map(str, files)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_commands_walks_subcommands_of_groups():
    group = click.Group(
        "top",
        commands=[click.Command("a"), click.Group("g", commands=[click.Command("b")])],
    )
    assert commands(group) == [("a",), ("g",), ("g", "b")]


@pytest.mark.parametrize("path", commands(main), ids=" ".join)
def test_every_command_has_its_help_in_the_cli_reference(path):
    headings = set(docs.HEADING.findall(docs.FENCE.sub("", CLI_REFERENCE.read_text())))
    assert " ".join(("sfnlab", *path)) in headings, f"run: cog -r {docs.shown(CLI_REFERENCE)}"


@pytest.mark.parametrize("path", commands(main), ids=" ".join)
def test_every_command_is_explained_where_its_audience_reads(path):
    """Learners' and instructors' commands in the tutorial or the grading guide (docs/grading/),
    in prose; the operators' on the page of their concern."""
    named = f"sfnlab {' '.join(path)}"
    grading = sorted(GRADING_GUIDE.parent.rglob("*.md"))
    pages = [OPERATOR_PAGES[path]] if path in OPERATOR_PAGES else [TUTORIAL, *grading]
    assert any(named in docs.prose(page.read_text()) for page in pages), (
        f"`{named}` is not explained in {' or '.join(map(docs.shown, pages))}"
    )


def test_the_generated_pages_are_what_the_code_generates_now():
    generated = generated_pages()
    assert CLI_REFERENCE in generated
    done = cog_check(*generated)
    assert done.returncode == 0, f"{done.stdout}{done.stderr}\nRegenerate them: cog -r " + " ".join(
        docs.shown(page) for page in generated
    )


def test_a_generated_page_out_of_date_fails_the_check(tmp_path):
    stale = tmp_path / "cli.md"
    text = CLI_REFERENCE.read_text()
    assert "## sfnlab token\n" in text
    stale.write_text(text.replace("## sfnlab token\n", "## sfnlab token-of-old\n"))
    assert cog_check(stale).returncode != 0
    shutil.copy(CLI_REFERENCE, stale)
    assert cog_check(stale).returncode == 0


@pytest.mark.parametrize("page", docs.pages(), ids=docs.shown)
def test_every_relative_link_resolves(page):
    assert docs.broken_links(page) == []


def test_a_broken_link_or_anchor_is_found(tmp_path):
    (tmp_path / "there.md").write_text("# A `heading`, here\n\n```bash\n# not a heading\n```\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md#a-heading-here) [gone](missing.md) [bad anchor](there.md#not-a-heading)"
        " [web](https://example.com/x) [self](#title)\n\n# Title\n\n"
        "```text\n[in code](nowhere.md)\n```\n"
    )
    assert docs.broken_links(page) == [
        "missing.md (no such file)",
        "there.md#not-a-heading (no such heading)",
    ]


@pytest.mark.parametrize("page", docs.pages(), ids=docs.shown)
def test_every_path_a_page_names_exists(page):
    """Module paths, scripts, tests: a page names them as the repository lays them out now."""
    assert docs.missing_paths(page) == []


def test_a_path_that_moved_is_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "`src/sfnlab/cli.py`, `src/sfnlab/config.py`, lambdas/*.py, `tests/unit/`, "
        "`scripts/nothing.sh`.\n│ tests/integration/grading/submi… │\n"
    )
    assert docs.missing_paths(page) == ["src/sfnlab/config.py", "scripts/nothing.sh"]


@pytest.mark.parametrize("page", docs.pages(), ids=docs.shown)
def test_every_console_block_is_a_sample_generated_or_says_why_it_is_not_run(page):
    assert docs.unchecked_console_blocks(page.read_text()) == [], (
        "mark it <!-- sample --> (the suite runs it) or <!-- not run: why -->"
    )


def test_the_readme_stays_short_and_names_its_two_commands():
    text = docs.README.read_text()
    assert len(text.splitlines()) <= 160
    for command in ("scripts/run_exercise.sh", "scripts/run_tests.sh", "sfnlab exercise"):
        assert command in text
    assert "scripts/run_tests.sh" in (PROJECT_ROOT / ".ci" / "run").read_text()
