"""`sfnlab up/down/status` on LocalStacks of their own (each test has its own port and state)."""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import psutil
import pytest

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.errors import PortInUse, StartupFailed
from sfnlab.inbox import InboxClient
from sfnlab.lab import lifecycle
from sfnlab.localstack import embedded
from sfnlab.localstack.probe import probe
from sfnlab.support.aws import client
from sfnlab.testing.functions import zip_files
from sfnlab.testing.servers import web_page_server
from sfnlab.testing.settings import settings_for
from sfnlab.testing.waiting import wait_for


@pytest.fixture
def own_localstack(tmp_path: Path, lambda_interpreter):
    """Settings for a LocalStack of this test's own; whatever it starts is stopped after."""
    settings = settings_for(tmp_path / "state")
    yield settings
    lifecycle.down(settings)


def inbox_port(settings) -> int:
    return int(settings.inbox_url.rsplit(":", 1)[1])


def start_a_lambda(settings) -> None:
    """Create and invoke a function, so that Lambda processes exist."""
    lam = client("lambda", settings)
    lam.create_function(
        FunctionName="hello",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="lambda_function.handler",
        Code={"ZipFile": zip_files({"lambda_function.py": "def handler(e, c):\n    return 1\n"})},
    )
    wait_until_ready(lam, "hello")
    assert lam.invoke(FunctionName="hello")["StatusCode"] == 200


def test_up_starts_the_embedded_localstack_and_second_up_changes_nothing(own_localstack):
    first = lifecycle.up(own_localstack)
    assert first.running and first.mode == "embedded" and first.version == "4.14.0"
    assert first.lambda_executor == "process"
    second = lifecycle.up(own_localstack)
    assert second.pid == first.pid
    assert psutil.Process(first.pid).is_running()


def test_status_reports_endpoint_version_mode_and_executor(own_localstack):
    assert not lifecycle.status(own_localstack).running
    lifecycle.up(own_localstack)
    status = lifecycle.status(own_localstack)
    assert status.endpoint == own_localstack.endpoint
    assert status.version == "4.14.0"
    assert (status.mode, status.lambda_executor) == ("embedded", "process")
    assert status.log_file == own_localstack.log_file
    assert "Ready." in lifecycle.logs(own_localstack)


def test_down_stops_localstack_and_every_lambda_process(own_localstack):
    status = lifecycle.up(own_localstack)
    start_a_lambda(own_localstack)
    assert embedded.runtime_processes(own_localstack), "a Lambda process should be running"
    stopped = lifecycle.down(own_localstack)
    assert stopped.stopped and f"pid {status.pid}" in stopped.message
    assert not psutil.pid_exists(status.pid)
    assert embedded.runtime_processes(own_localstack) == []
    assert probe(own_localstack.endpoint) is None
    assert "Stopped the inbox" in stopped.message
    assert InboxClient(own_localstack.inbox_url).health() is None
    assert not lifecycle.down(own_localstack).stopped  # nothing left to stop


def test_lambda_processes_exit_when_localstack_is_killed(own_localstack):
    status = lifecycle.up(own_localstack)
    start_a_lambda(own_localstack)
    processes = embedded.runtime_processes(own_localstack)
    assert processes
    os.killpg(status.pid, signal.SIGKILL)  # no chance to stop anything itself
    assert wait_for(lambda: not any(p.is_running() for p in processes), timeout=10)


def test_up_uses_a_localstack_that_already_answers(own_localstack, tmp_path):
    mine = lifecycle.up(own_localstack)
    # Another state folder, same endpoint: as if LocalStack ran in Docker.
    other = settings_for(tmp_path / "other-state", own_localstack.port, inbox_port(own_localstack))
    status = lifecycle.up(other)
    assert status.mode == "external" and status.pid is None
    stopped = lifecycle.down(other)
    assert not stopped.stopped and "not started by sfnlab" in stopped.message
    assert psutil.Process(mine.pid).is_running()


def test_port_held_by_a_silent_program_is_a_clear_error(own_localstack):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", own_localstack.port))
        holder.listen()
        with pytest.raises(PortInUse) as error:
            lifecycle.up(own_localstack)
    message = str(error.value)
    assert message.startswith(f"Port {own_localstack.port} on 127.0.0.1 is held")
    assert "SFNLAB_ENDPOINT=http://127.0.0.1:" in message


def test_port_held_by_another_web_server_is_a_clear_error(tmp_path):
    with web_page_server() as port:
        settings = settings_for(tmp_path / "state", port)
        with pytest.raises(PortInUse, match="not LocalStack"):
            lifecycle.up(settings)


def test_localstack_dying_during_start_up_is_a_clear_error(own_localstack):
    # The kit's own Python has no LocalStack installed: the process exits at once.
    with pytest.raises(StartupFailed) as error:
        embedded.start(own_localstack, Path(sys.executable))
    message = str(error.value)
    assert "LocalStack exited during start-up" in message
    assert "No module named 'localstack'" in message
    assert str(own_localstack.log_file) in message
    assert not own_localstack.pid_file.exists()
