"""The documentation's sample outputs are what the commands print: the README and every
page of docs/.

Each ```console block after a `<!-- sample -->` comment is run command by command (`$ ...`
lines) in the kit's folder, and each command's output (standard output and error, as a
terminal shows them) is compared with the lines under it. What differs from run to run
is normalised on both sides (tokens, execution names, times, pids, ports, the state
folder), and a `...` line stands for any number of lines. A page's execution names stand
for the executions its own samples started, in order. `<!-- sample: own LocalStack -->`
blocks run against a LocalStack of their own (they start and stop it);
`<!-- sample: needs bubblewrap -->` blocks (grading) are skipped where `bwrap` is missing,
`<!-- sample: needs Node.js -->` blocks (the JavaScript track) where Node.js 20+ is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sfnlab.lab import lifecycle
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.nodejs_runtime_api import NODE_HINT, node_missing
from sfnlab.testing.settings import settings_for
from tests import docs

OWN_LOCALSTACK = "own LocalStack"
NEEDS_BUBBLEWRAP = "needs bubblewrap"
NEEDS_NODE = "needs Node.js"
EXECUTION_NAME = re.compile(r"solve-\d{6}-[0-9a-f]{6}")
VARYING = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<token>"),
    (EXECUTION_NAME, "<execution>"),
    (re.compile(r"\(\d+\.\d s\)"), "(<seconds>)"),
    (re.compile(r"\b\d+ ms\b"), "<n> ms"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"), "<time>"),
    (re.compile(r"\d{4}\.\d\d\.\d\d"), "<date>"),
    (re.compile(r"\bpid( +)\d+"), r"pid\1<pid>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"/restapis/[a-z0-9]+/"), "/restapis/<api>/"),  # the approval link's API
]
PAGES_WITH_SAMPLES = [page for page in docs.pages() if docs.samples(page)]


def normalised(lines: list[str], state_dir: Path) -> list[str]:
    result = []
    for line in lines:
        line = line.replace(str(state_dir), ".sfnlab/state")
        for pattern, replacement in VARYING:
            line = pattern.sub(replacement, line)
        result.append(line.rstrip())
    return result


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether `actual` reads as `expected`, where a `...` line stands for any lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[skip:]) for skip in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


def run_block(steps, settings, names: list[str], page: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SFNLAB_", "AWS_")) and k not in ("COLUMNS", "LINES")
    }
    env["PATH"] = f"{PROJECT_ROOT / '.sfnlab' / 'venv' / 'bin'}{os.pathsep}{env['PATH']}"
    env.update(
        SFNLAB_ENDPOINT=settings.endpoint,
        SFNLAB_INBOX_URL=settings.inbox_url,
        SFNLAB_STATE_DIR=str(settings.state_dir),
    )
    for command, expected in steps:
        if names:  # the page's execution stands for the one this run started
            command = EXECUTION_NAME.sub(names[-1], command)
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
        output = done.stdout.splitlines()
        names += re.findall(r"(?:Started|Execution) (solve-\d{6}-[0-9a-f]{6})", done.stdout)
        want = normalised(expected, settings.state_dir)
        got = normalised(output, settings.state_dir)
        assert matches(want, got), (
            f"{docs.shown(page)}\n$ {command}\n--- the page\n"
            + "\n".join(want)
            + ("\n--- printed\n" + "\n".join(got))
        )


def test_the_docs_have_samples_of_the_exercise_and_each_step():
    def commands_of(page: Path) -> list[str]:
        return [command for _, steps in docs.samples(page) for command, _ in steps]

    assert "scripts/run_exercise.sh" in commands_of(docs.README)
    commands = [command for page in docs.pages() for command in commands_of(page)]
    verbs = ("up", "deploy", "start", "token --wait", "approve", "reject", "status", "graph")
    for verb in (*verbs, "down", "exercise", "smoke", "grade"):
        assert any(c.startswith(f"sfnlab {verb}") for c in commands), verb


def test_the_main_pages_keep_their_samples():
    """The pages that show `sfnlab` at work show it in samples the suite runs."""
    for page in (docs.README, docs.DOCS / "tutorial.md", docs.DOCS / "reference" / "localstack.md"):
        assert page in PAGES_WITH_SAMPLES, docs.shown(page)


@pytest.mark.parametrize("page", PAGES_WITH_SAMPLES, ids=docs.shown)
def test_the_samples_are_what_the_commands_print(page, localstack, deployment):
    names: list[str] = []
    skipped = []
    no_node = node_missing()
    for note, steps in docs.samples(page):
        if note == NEEDS_BUBBLEWRAP and not shutil.which("bwrap"):
            skipped.append("bubblewrap (bwrap): apt-get install bubblewrap")
        elif note == NEEDS_NODE and no_node is not None:
            skipped.append(f"Node.js 20 or newer (found {no_node}): {NODE_HINT}")
        elif note != OWN_LOCALSTACK:
            run_block(steps, localstack, names, page)
    if skipped:  # the others passed; say what was not run
        pytest.skip(f"{len(skipped)} sample(s) need " + "; ".join(sorted(set(skipped))))


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES_WITH_SAMPLES if any(note == OWN_LOCALSTACK for note, _ in docs.samples(p))],
    ids=docs.shown,
)
def test_the_lifecycle_samples_are_what_the_commands_print(page, tmp_path, lambda_interpreter):
    settings = settings_for(tmp_path / "state")
    try:
        for note, steps in docs.samples(page):
            if note == OWN_LOCALSTACK:
                run_block(steps, settings, [], page)
    finally:
        lifecycle.down(settings)


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        (["a", "...", "d"], ["a", "b", "c", "d"], True),
        (["a", "...", "d"], ["a", "d"], True),
        (["a", "...", "d"], ["a", "b"], False),
        (["a", "b"], ["a", "b", "c"], False),
    ],
)
def test_an_ellipsis_stands_for_any_lines(expected, actual, same):
    assert matches(expected, actual) is same
