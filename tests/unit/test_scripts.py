"""The shell scripts a learner runs or sources: they leave the learner's shell alone."""

from __future__ import annotations

import os
import subprocess

from sfnlab.settings import PROJECT_ROOT

SHOW_SHELL = "set -o; shopt; echo options-end"


def interactive_bash(script: str, **env: str) -> subprocess.CompletedProcess:
    """`script` in an interactive bash, as a learner's terminal runs what they type."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SFNLAB_")}
    environment.update(env)
    return subprocess.run(
        ["bash", "--norc", "-i", "-c", script],
        cwd=PROJECT_ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sourcing_kit_env_changes_no_shell_option_and_puts_sfnlab_on_path():
    done = interactive_bash(
        f'{SHOW_SHELL}; source scripts/kit-env.sh; echo "sourced: $?"; {SHOW_SHELL}; '
        "command -v sfnlab awslocal; declare -F | grep -c _sfnlab; true"
    )
    before, middle, after = done.stdout.split("options-end\n")[:3]
    status, options = middle.split("\n", 1)
    assert status == "sourced: 0", done.stderr
    assert before == options  # set -o and shopt, unchanged
    venv_bin = PROJECT_ROOT / ".sfnlab" / "venv" / "bin"
    assert after.splitlines()[:2] == [str(venv_bin / "sfnlab"), str(venv_bin / "awslocal")]
    assert after.splitlines()[2] == "0"  # no helper function left behind


def test_a_failure_while_sourcing_returns_and_keeps_the_shell(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    done = interactive_bash(
        f'{SHOW_SHELL}; source scripts/kit-env.sh; echo "sourced: $?"; {SHOW_SHELL}',
        SFNLAB_HOME=str(not_a_folder),
    )
    before, middle = done.stdout.split("options-end\n")[:2]
    status, after = middle.split("\n", 1)
    assert status.startswith("sourced: ") and status != "sourced: 0"
    assert before == after  # errexit and the rest as they were; the shell went on


def test_a_failed_exercise_that_started_nothing_says_nothing_keeps_running(tmp_path):
    """Another program on LocalStack's port: `run_exercise.sh` fails before it starts
    anything, and must not tell the learner that LocalStack and the inbox keep running."""
    from sfnlab.support.network import free_port
    from sfnlab.testing.servers import web_page_server

    with web_page_server() as port:
        done = interactive_bash(
            "scripts/run_exercise.sh",
            SFNLAB_ENDPOINT=f"http://127.0.0.1:{port}",
            SFNLAB_INBOX_URL=f"http://127.0.0.1:{free_port()}",
            SFNLAB_STATE_DIR=str(tmp_path / "state"),
        )
    assert done.returncode != 0
    assert f"Port {port}" in done.stderr and "Traceback" not in done.stderr
    assert "keep running" not in done.stderr
