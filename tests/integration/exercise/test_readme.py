"""The README's sample outputs are what the commands print.

Each ```console block after a `<!-- sample -->` comment is run command by command (`$ ...`
lines) in the kit's folder, and each command's output (standard output and error, as a
terminal shows them) is compared with the lines under it. What differs from run to run
is normalised on both sides (tokens, execution names, times, pids, ports, the state
folder), and a `...` line stands for any number of lines. `<!-- sample: own LocalStack -->`
blocks run against a LocalStack of their own (they start and stop it).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from sfnlab.lab import lifecycle
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.settings import settings_for

README = PROJECT_ROOT / "README.md"
SAMPLE = re.compile(r"<!-- sample(?:: (?P<note>[^>]*?))? -->\n```console\n(?P<body>.*?)```", re.S)
EXECUTION_NAME = re.compile(r"solve-\d{6}-[0-9a-f]{6}")
VARYING = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<token>"),
    (EXECUTION_NAME, "<execution>"),
    (re.compile(r"\(\d+\.\d s\)"), "(<seconds>)"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"), "<time>"),
    (re.compile(r"\d{4}\.\d\d\.\d\d"), "<date>"),
    (re.compile(r"\bpid( +)\d+"), r"pid\1<pid>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
]


def samples() -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """(note, [(command, expected lines)]) for each sample block, in the README's order."""
    found = []
    for match in SAMPLE.finditer(README.read_text()):
        steps: list[tuple[str, list[str]]] = []
        for line in match["body"].splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
        found.append((match["note"] or "", steps))
    return found


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


def run_block(steps, settings, names: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFNLAB_", "AWS_"))}
    env["PATH"] = f"{PROJECT_ROOT / '.sfnlab' / 'venv' / 'bin'}{os.pathsep}{env['PATH']}"
    env.update(
        SFNLAB_ENDPOINT=settings.endpoint,
        SFNLAB_INBOX_URL=settings.inbox_url,
        SFNLAB_STATE_DIR=str(settings.state_dir),
    )
    for command, expected in steps:
        if names:  # the README's execution stands for the one this run started
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
            f"$ {command}\n--- README\n" + "\n".join(want) + ("\n--- printed\n" + "\n".join(got))
        )


def test_the_readme_has_samples_of_the_exercise_and_each_step():
    commands = [command for _, steps in samples() for command, _ in steps]
    assert "scripts/run_exercise.sh" in commands
    for verb in ("up", "deploy", "start", "token --wait", "approve", "status", "graph", "down"):
        assert any(c.startswith(f"sfnlab {verb}") for c in commands), verb


def test_the_samples_are_what_the_commands_print(localstack, deployment):
    names: list[str] = []
    for note, steps in samples():
        if note != "own LocalStack":
            run_block(steps, localstack, names)


def test_the_lifecycle_sample_is_what_the_commands_print(tmp_path, lambda_interpreter):
    settings = settings_for(tmp_path / "state")
    try:
        for note, steps in samples():
            if note == "own LocalStack":
                run_block(steps, settings, [])
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
