"""docs/picture.md: its samples are what the commands print, as the README's are (run
the same way: command by command in the kit's folder, what varies normalised)."""

from __future__ import annotations

from sfnlab.settings import PROJECT_ROOT
from tests.integration.exercise.test_readme import SAMPLE, run_block

PAGE = PROJECT_ROOT / "docs" / "picture.md"


def samples() -> list[list[tuple[str, list[str]]]]:
    found = []
    for match in SAMPLE.finditer(PAGE.read_text()):
        steps: list[tuple[str, list[str]]] = []
        for line in match["body"].splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
        found.append(steps)
    return found


def test_the_picture_page_shows_the_graph_command_with_its_output():
    commands = [command for steps in samples() for command, _ in steps]
    assert any(command.startswith("sfnlab graph") for command in commands)
    assert "sfnlab graph --watch" in PAGE.read_text()


def test_the_picture_pages_samples_are_what_the_commands_print(localstack, deployment):
    names: list[str] = []
    for steps in samples():
        run_block(steps, localstack, names)
    assert (PROJECT_ROOT / ".sfnlab" / "picture.html").read_text().startswith("<!doctype html>")
