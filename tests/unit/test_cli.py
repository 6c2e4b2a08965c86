"""The CLI turns the kit's errors into one paragraph and an exit status, never a traceback."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from tests.helpers import free_port


@pytest.fixture(autouse=True)
def own_state_folder(tmp_path, monkeypatch):
    """Never touch the project's own LocalStack, inbox or state."""
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SFNLAB_INBOX_URL", f"http://127.0.0.1:{free_port()}")


def run(*args: str, endpoint: str):
    return CliRunner().invoke(main, list(args), env={"SFNLAB_ENDPOINT": endpoint})


def test_status_without_localstack_says_so_and_exits_3():
    result = run("status", endpoint=f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 3
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line}
    assert rows["running"] == ["no"]


def test_up_on_a_held_port_prints_one_paragraph_and_exits_1():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run("up", endpoint=f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert f"Port {port} on 127.0.0.1 is held by a program that is not LocalStack" in result.output
    assert "Traceback" not in result.output


def test_smoke_without_localstack_says_how_to_start_it():
    result = run("smoke", endpoint=f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 1
    assert "LocalStack is not reachable" in result.output
    assert "sfnlab up" in result.output
    assert "Traceback" not in result.output


def test_down_with_nothing_running_says_so():
    result = run("down", endpoint=f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 0
    assert "Nothing to stop" in result.output
