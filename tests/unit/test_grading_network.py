"""The grading network on its own (no LocalStack): what is made inside stays inside, the
keeper carries the grader's connections in, and goes when the grader goes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from sfnlab.errors import LearnerError
from sfnlab.grading import network as grading_network
from sfnlab.grading.grading_stack import SandboxUnavailable, own_network
from sfnlab.grading.network import GradingNetwork, Unavailable
from sfnlab.settings import load_settings
from sfnlab.testing.waiting import wait_for

ECHO = textwrap.dedent(
    """
    import socket, sys
    server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    print("listening", flush=True)
    while True:
        connection, _ = server.accept()
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)
    """
)


@pytest.fixture
def network() -> Iterator[GradingNetwork]:
    try:
        made = GradingNetwork.start()
    except Unavailable as e:
        pytest.skip(f"no network namespace can be made here: {e}")
    yield made
    made.close()


def inside(network: GradingNetwork, code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        network.enter([sys.executable, "-c", code, *args]),
        pass_fds=network.pass_fds,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_the_network_is_another_one_with_its_loopback_up(network):
    own = os.readlink("/proc/self/ns/net")
    assert network.namespace != own
    code = "import os, socket; print(os.readlink('/proc/self/ns/net'), socket.if_nameindex())"
    shown = inside(network, code).communicate(timeout=30)[0].splitlines()
    assert shown == [f"{network.namespace} [(1, 'lo')]"]


def test_a_listener_made_inside_is_reached_from_inside_and_not_from_outside(network):
    with network.listener() as listener:
        port = listener.getsockname()[1]
        listener.setblocking(False)
        with socket.socket() as outside:
            outside.settimeout(2)
            outside.connect_ex(("127.0.0.1", port))  # whatever answers here, it is not ours
        with pytest.raises(BlockingIOError):
            listener.accept()
        code = "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])))"
        assert inside(network, code, str(port)).wait(30) == 0
        listener.setblocking(True)
        listener.settimeout(5)
        connection, _ = listener.accept()
        connection.close()


def test_the_keeper_carries_connections_in_both_ways_and_ends_them(network):
    port = network.forward()
    echo = inside(network, ECHO, str(port))
    try:
        assert echo.stdout.readline() == "listening\n"
        payload = os.urandom(3 * 1024 * 1024)
        for _ in range(2):  # a second connection after the first ended
            with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                connection.sendall(payload)
                connection.shutdown(socket.SHUT_WR)
                received = bytearray()
                while data := connection.recv(65536):
                    received += data
            assert bytes(received) == payload
    finally:
        echo.kill()
        echo.wait()


def test_a_connection_to_a_port_nothing_listens_on_inside_is_closed(network):
    port = network.forward()  # nothing started inside
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        assert connection.recv(1) == b""


def test_two_grading_networks_are_apart(network):
    other = GradingNetwork.start()
    try:
        assert other.namespace != network.namespace
    finally:
        other.close()


def test_the_keeper_and_its_namespace_go_with_the_grader():
    """A grader killed outright leaves no keeper behind."""
    grader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from sfnlab.grading.network import GradingNetwork as N; import time; "
            "n = N.start(); print(n.keeper_pid, flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = grader.stdout.readline().strip()
    if not line:
        grader.wait(30)
        pytest.skip("no network namespace can be made here")
    keeper = int(line)
    assert os.path.exists(f"/proc/{keeper}")
    os.kill(grader.pid, signal.SIGKILL)
    grader.wait()
    assert wait_for(lambda: not os.path.exists(f"/proc/{keeper}"), 10)


def test_where_namespaces_do_not_exist_the_reason_is_given(monkeypatch):
    monkeypatch.setattr(grading_network, "PLATFORM", "darwin")
    with pytest.raises(Unavailable, match=r"Linux only \(this is darwin\)"):
        GradingNetwork.start()


def test_auto_says_once_why_grading_shares_the_machines_network(monkeypatch, capsys):
    monkeypatch.setattr(grading_network, "PLATFORM", "darwin")
    assert own_network("auto") is None
    said = capsys.readouterr().err
    assert said.count("\n") == 1
    assert said.startswith("A network of its own for grading is not available here (network ")


def test_isolated_refuses_where_no_network_can_be_made(monkeypatch):
    monkeypatch.setattr(grading_network, "PLATFORM", "darwin")
    with pytest.raises(SandboxUnavailable, match="SFNLAB_GRADING_NETWORK=isolated"):
        own_network("isolated")


def test_shared_is_said_and_makes_nothing(capsys):
    assert own_network("shared") is None
    assert capsys.readouterr().err.startswith("SFNLAB_GRADING_NETWORK=shared: Learners' code is")


@pytest.mark.parametrize("value", ["open", "none", " "])
def test_an_unknown_grading_network_setting_is_refused(value):
    if not value.strip():
        assert load_settings({"SFNLAB_GRADING_NETWORK": value}).grading_network == "auto"
        return
    with pytest.raises(LearnerError, match="SFNLAB_GRADING_NETWORK is"):
        load_settings({"SFNLAB_GRADING_NETWORK": value})


def test_the_setting_is_read_whatever_its_case():
    assert load_settings({"SFNLAB_GRADING_NETWORK": "Isolated"}).grading_network == "isolated"


@pytest.mark.skipif(os.geteuid() != 0, reason="locking a process down this way needs root")
def test_where_the_system_forbids_namespaces_bubblewraps_reason_is_given():
    """Root of a user namespace with no capabilities and no user namespaces left, as in an
    unprivileged container: bubblewrap fails at once, and says why."""
    locked_down = (
        "echo 0 > /proc/sys/user/max_user_namespaces\n"
        'exec setpriv --inh-caps=-all --bounding-set=-all "$@"'
    )
    code = (
        "from sfnlab.grading.network import GradingNetwork, Unavailable\n"
        "try:\n    GradingNetwork.start()\nexcept Unavailable as e:\n    print(e)"
    )
    wrapper = ["unshare", "--user", "--map-root-user", "sh", "-ec", locked_down, "sh"]
    result = subprocess.run(
        [*wrapper, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout == (
        "bubblewrap: Creating new namespace failed: Operation not permitted\n"
    ), result.stderr
