"""The CLI: one paragraph and an exit status for the kit's errors, never a traceback;
results on standard output, everything else on standard error; a quick start."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sfnlab import cli
from sfnlab.cli import main
from sfnlab.errors import ExecutionGone, LearnerError, LocalStackNotReachable, TokenRefused
from sfnlab.support.network import free_port
from sfnlab.testing.servers import web_page_server


@pytest.fixture(autouse=True)
def own_state_folder(tmp_path, monkeypatch):
    """Never touch the project's own LocalStack, inbox or state."""
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SFNLAB_INBOX_URL", f"http://127.0.0.1:{free_port()}")


def run(*args: str, endpoint: str):
    return CliRunner().invoke(main, list(args), env={"SFNLAB_ENDPOINT": endpoint})


def nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_status_without_localstack_says_so_on_stdout_and_exits_3():
    result = run("status", endpoint=nowhere())
    assert result.exit_code == 3
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line}
    assert rows["running"] == ["no"]
    assert result.stderr == ""


def test_up_on_a_held_port_prints_one_paragraph_on_stderr_and_exits_1():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run("up", endpoint=f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: Port {port} on 127.0.0.1 is held by a program")
    assert "Traceback" not in result.output


def test_port_advice_names_a_free_port_that_is_not_the_inboxs(monkeypatch):
    with socket.socket() as holder, socket.socket() as next_one:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        # The inbox is configured on port + 1, and port + 2 is taken too.
        monkeypatch.setenv("SFNLAB_INBOX_URL", f"http://127.0.0.1:{port + 1}")
        try:
            next_one.bind(("127.0.0.1", port + 2))
        except OSError:
            pytest.skip("port + 2 is busy already")
        next_one.listen()
        result = run("up", endpoint=f"http://127.0.0.1:{port}")
    advised = int(result.stderr.split("SFNLAB_ENDPOINT=http://127.0.0.1:")[1].split("`")[0])
    assert advised not in (port, port + 1, port + 2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", advised))  # free indeed


def test_smoke_without_localstack_says_how_to_start_it_and_exits_3():
    result = run("smoke", endpoint=nowhere())
    assert result.exit_code == 3
    assert "LocalStack is not reachable" in result.stderr
    assert "sfnlab up" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args", [("start",), ("status", "solve-1"), ("graph",), ("approve", "--token", "x" * 36)]
)
def test_a_foreign_web_server_on_the_endpoint_is_named_not_a_traceback(args):
    with web_page_server() as port:
        result = run(*args, endpoint=f"http://127.0.0.1:{port}")
    assert result.exit_code == 1, result.output
    assert f"Something answers at http://127.0.0.1:{port}, but it is not LocalStack" in (
        result.stderr
    )
    assert "Traceback" not in result.output and "botocore" not in result.output


def test_down_with_nothing_running_says_so():
    result = run("down", endpoint=nowhere())
    assert result.exit_code == 0
    assert "Nothing to stop" in result.stdout


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (LearnerError("x"), 1),
        (LocalStackNotReachable("x"), 3),
        (TokenRefused("x"), 4),
        (ExecutionGone("x"), 4),
    ],
)
def test_the_exit_status_is_the_error_classs(monkeypatch, error, code):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr("sfnlab.workflow.approval.decide", refuse)
    result = run("approve", "--token", "t" * 36, endpoint=nowhere())
    assert (result.exit_code, result.stderr) == (code, "Error: x\n")


def test_a_bug_in_the_kit_still_shows_its_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("sfnlab.workflow.approval.decide", broken)
    result = run("approve", "--token", "t" * 36, endpoint=nowhere())
    assert isinstance(result.exception, ZeroDivisionError)


def test_settings_are_loaded_once_for_every_command():
    source = Path(cli.__file__).read_text()
    assert source.count("load_settings()") == 1  # in the group's callback, into ctx.obj
    assert "friendly_errors" not in source


def test_a_bad_setting_is_one_paragraph_too(monkeypatch):
    monkeypatch.setenv("SFNLAB_TARGET", "mars")
    result = run("status", endpoint=nowhere())
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: SFNLAB_TARGET is 'mars'")


def test_help_imports_neither_boto3_nor_rich():
    code = (
        "import sys; from sfnlab.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('boto3', 'botocore', 'rich', 'requests', 'psutil') "
        "if m in sys.modules]\n"
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]"), done.stdout


def test_a_held_inbox_port_is_refused_before_localstack_starts(monkeypatch, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        monkeypatch.setenv("SFNLAB_INBOX_URL", f"http://127.0.0.1:{port}")
        endpoint = nowhere()
        result = run("up", endpoint=endpoint)
    assert result.exit_code == 1
    assert f"Port {port} on 127.0.0.1, the inbox's, is held" in result.stderr
    assert "SFNLAB_INBOX_URL=http://127.0.0.1:" in result.stderr
    assert not (tmp_path / "state" / "localstack.json").exists()  # nothing was started


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["deploy", "--review-timeout", "-5"], "--review-timeout"),
        (["deploy", "--review-timeout", "0"], "--review-timeout"),
        (["deploy", "--review-timeout", "999999999999"], "--review-timeout"),
        (["deploy", "--review-heartbeat", "-1"], "--review-heartbeat"),
        (["deploy", "--stack", "--review-heartbeat", "100000000"], "--review-heartbeat"),
        (["logs", "-n", "0"], "--lines"),
        (["logs", "--lines", "-3"], "--lines"),
        (["token", "--wait", "--timeout", "-1"], "--timeout"),
        (["grade", "--jobs", "0", "."], "--jobs"),
        (["grade", "--time-limit", "-1", "."], "--time-limit"),
        (["notebook", "--port", "70000"], "--port"),
    ],
)
def test_a_number_out_of_range_is_a_command_line_mistake_before_anything_runs(args, option):
    """Not a Step Functions parse error blamed on the definition, nor a whole log for -n 0."""
    result = run(*args, endpoint=nowhere())
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr or (
        option == "--lines" and "Invalid value for '-n' / '--lines'" in result.stderr
    )
    assert "is not in the range" in result.stderr
    assert "Traceback" not in result.output


def another_web_server(status: int):
    """An HTTP server that is not the inbox: it answers every path with `status` and HTML."""
    return web_page_server(status, b"<html>somebody else's server</html>")


@pytest.mark.parametrize("status", [404, 200, 500])
@pytest.mark.parametrize(
    "command", [["token"], ["approve"], ["reject", "--execution", "solve-1"], ["up"]]
)
def test_every_command_that_reads_the_inbox_says_what_up_says_of_another_server(
    monkeypatch, status, command
):
    """Another HTTP server on the inbox's port: one paragraph, the same as `sfnlab up`'s,
    never a traceback (which a 404 or an HTML page used to give)."""
    with another_web_server(status) as port:
        monkeypatch.setenv("SFNLAB_INBOX_URL", f"http://127.0.0.1:{port}")
        result = run(*command, endpoint=nowhere())
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(
        f"Error: Port {port} on 127.0.0.1, the inbox's, is held by a program that is not the inbox."
    )
    assert "SFNLAB_INBOX_URL=http://127.0.0.1:" in result.stderr
