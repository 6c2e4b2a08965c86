"""The commands the inbox page shows work when pasted into a fresh terminal in the repo.

Fresh: the kit's virtualenv is not on PATH and nothing was sourced; the page's text is
taken as a person copies it (HTML unescaped, nothing else).
"""

from __future__ import annotations

import html
import os
import re
import subprocess

import pytest
import requests

from sfnlab.settings import PROJECT_ROOT
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution


def fresh_terminal(localstack) -> dict[str, str]:
    venv_bin = str(PROJECT_ROOT / ".sfnlab" / "venv" / "bin")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIRTUAL_ENV", "UV_PROJECT", "PYTHON", "AWS_"))
    }
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    # Where this session's LocalStack and inbox are (a learner's are on the defaults).
    env["SFNLAB_ENDPOINT"] = localstack.endpoint
    env["SFNLAB_INBOX_URL"] = localstack.inbox_url
    env["SFNLAB_STATE_DIR"] = str(localstack.state_dir)
    return env


def commands_on_the_page(localstack, name: str) -> dict[str, list[str]]:
    page = requests.get(f"{localstack.inbox_url}/?channel=reviewers", timeout=5).text
    article = next(a for a in page.split("<article")[1:] if name in a)
    blocks = re.findall(
        r'<p>(To \w+), in a terminal[^<]*</p>\s*<pre class="command">(.*?)</pre>', article, re.S
    )
    return {label: html.unescape(text).splitlines() for label, text in blocks}


@pytest.fixture
def waiting(localstack, deployment):
    started = execution.start(localstack)
    approval.find_review(localstack, started.name, wait=True)
    return started


def paste(command: str, localstack) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=PROJECT_ROOT,
        env=fresh_terminal(localstack),
        capture_output=True,
        text=True,
        timeout=120,
    )


def untracked() -> set[str]:
    listed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line[3:] for line in listed.splitlines() if line.startswith("??")}


def test_the_pages_awslocal_command_approves(localstack, waiting):
    commands = commands_on_the_page(localstack, waiting.name)
    awslocal = next(c for c in commands["To approve"] if c.startswith("scripts/awslocal"))
    before = untracked()
    done = paste(awslocal, localstack)
    assert untracked() == before  # its answer went under .sfnlab/, nothing in the repo
    assert done.returncode == 0, done.stderr
    assert "Approved by" in done.stdout  # the Lambda's answer, printed by the command
    assert "deprecat" not in (done.stdout + done.stderr).lower()  # no banner
    assert execution.wait_for_end(localstack, waiting.arn).status == "SUCCEEDED"


def test_the_pages_sfnlab_command_rejects(localstack, waiting):
    commands = commands_on_the_page(localstack, waiting.name)
    sfnlab = next(c for c in commands["To reject"] if "sfnlab reject" in c)
    done = paste(sfnlab, localstack)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Rejected by")
    ended = execution.wait_for_end(localstack, waiting.arn)
    assert (ended.status, ended.error) == ("FAILED", "ReviewRejected")


def test_a_pasted_command_for_a_spent_token_says_why(localstack, waiting):
    commands = commands_on_the_page(localstack, waiting.name)
    approve = next(c for c in commands["To approve"] if "sfnlab approve" in c)
    assert paste(approve, localstack).returncode == 0
    execution.wait_for_end(localstack, waiting.arn)
    again = paste(approve, localstack)
    assert again.returncode == 4
    assert f"Execution {waiting.name} has already ended (SUCCEEDED)" in again.stderr
    assert "Traceback" not in again.stderr


def notebook_text(name: str) -> str:
    import json

    notebook = json.loads((PROJECT_ROOT / "notebooks" / name).read_text())
    return "\n\n".join("".join(cell["source"]) for cell in notebook["cells"])


def test_the_notebooks_awslocal_invoke_exits_0_when_refused_and_the_text_says_so(
    localstack, deployment
):
    """The approve Lambda refuses the test event's placeholder token; the AWS CLI still
    exits 0. Where notebook 4 shows the command, it says so, and what to look for."""
    text = notebook_text("04-approve-and-reject.ipynb")
    block = re.search(r"```bash\n(scripts/awslocal lambda invoke.*?)\n```", text, re.S).group(1)
    command = "\n".join(line for line in block.splitlines() if not line.startswith("cat "))
    done = paste(command, localstack)
    assert done.returncode == 0, done.stderr
    assert '"FunctionError": "Unhandled"' in done.stdout
    decision = (PROJECT_ROOT / ".sfnlab" / "decision.json").read_text()
    assert "TokenMalformed" in decision
    after = text[text.index(block) :]
    assert "exits 0 even when the approve Lambda refused" in " ".join(after.split())
    assert '"FunctionError": "Unhandled"' in " ".join(after.split())
