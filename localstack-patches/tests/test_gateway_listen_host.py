"""Every server of the embedded LocalStack and the kit listens on loopback only (patch
`gateway_listen_host`, and an audit of every other listening socket).

AWS is not involved here; the behaviour restored is LocalStack's own documented meaning
of GATEWAY_LISTEN ("address and port for the main gateway server to listen on"): with
`GATEWAY_LISTEN=127.0.0.1:<port>` nothing but this machine can reach it. LocalStack
4.14.0's Twisted server dropped the host for IPv4 and listened on 0.0.0.0.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator

import psutil
import pytest

from sfnlab.inbox.service import running_inbox
from sfnlab.localstack import embedded
from sfnlab.localstack.install import venv_python
from sfnlab.settings import load_settings
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution

LOOPBACK = {"127.0.0.1", "::1"}


def kit_processes(settings) -> list[psutil.Process]:
    """LocalStack, everything it started (Lambda runtime processes included), the inbox."""
    localstack = psutil.Process(embedded.running_embedded(settings).pid)
    found = {localstack, *localstack.children(recursive=True)}
    found.update(embedded.runtime_processes(settings))
    found.add(psutil.Process(running_inbox(settings).pid))
    return list(found)


def listening(processes: list[psutil.Process]) -> set[tuple[str, str, int]]:
    sockets = set()
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            for connection in process.net_connections(kind="inet"):
                if connection.status == psutil.CONN_LISTEN:
                    sockets.add((process.name(), connection.laddr.ip, connection.laddr.port))
    return sockets


def test_every_listening_socket_of_the_kit_is_on_loopback(localstack, deployment, sfn_client):
    """With the exercise deployed and run up to its review (so Lambda runtime processes
    are alive and listening for invocations), every listening socket of LocalStack, its
    descendants and the inbox is on 127.0.0.1 or ::1, the gateway and the inbox included."""
    started = execution.start(localstack)
    try:
        approval.find_review(localstack, started.name, wait=True)
        sockets = listening(kit_processes(localstack))
    finally:
        sfn_client.stop_execution(executionArn=started.arn)
    ports = {port for _, _, port in sockets}
    assert {localstack.port, inbox_port(localstack)} <= ports
    assert len(ports) > 2, "no Lambda runtime process was listening: nothing else was audited"
    assert {(name, ip, port) for name, ip, port in sockets if ip not in LOOPBACK} == set()


def inbox_port(settings) -> int:
    return int(settings.inbox_url.rsplit(":", 1)[1])


def connect(host: str, port: int) -> str:
    """'accepted' or 'refused' (never anything else: loopback answers at once)."""
    with socket.socket() as probe:
        probe.settimeout(5)
        try:
            probe.connect((host, port))
        except ConnectionRefusedError:
            return "refused"
    return "accepted"


def test_another_loopback_address_is_refused(localstack):
    """127.0.0.2 is this machine too, but not the address configured: a socket bound to
    127.0.0.1 refuses it (one on 0.0.0.0 would accept; the control below shows 127.0.0.2
    answers when something listens there)."""
    with socket.create_server(("127.0.0.2", 0)) as control:
        if connect("127.0.0.2", control.getsockname()[1]) != "accepted":
            pytest.skip("127.0.0.2 does not reach this machine here (not Linux?)")
    assert connect("127.0.0.1", localstack.port) == "accepted"
    assert connect("127.0.0.2", localstack.port) == "refused"
    assert connect("127.0.0.2", inbox_port(localstack)) == "refused"


@contextlib.contextmanager
def network_namespace() -> Iterator[tuple[str, str]]:
    """A network namespace joined to this host by a veth pair on a /30 of 198.18.0.0/15
    (reserved for network tests); yields (namespace, host-side address). Removed after."""
    if shutil.which("ip") is None:
        pytest.skip("no `ip` command")
    name = f"sfnlab{uuid.uuid4().hex[:6]}"
    third, fourth = random.randrange(256), random.randrange(64) * 4
    host_address, namespace_address = f"198.18.{third}.{fourth + 1}", f"198.18.{third}.{fourth + 2}"
    commands = [
        ["ip", "netns", "add", name],
        ["ip", "link", "add", f"{name}h", "type", "veth", "peer", "name", f"{name}n"],
        ["ip", "link", "set", f"{name}n", "netns", name],
        ["ip", "addr", "add", f"{host_address}/30", "dev", f"{name}h"],
        ["ip", "link", "set", f"{name}h", "up"],
        [
            "ip",
            "netns",
            "exec",
            name,
            "ip",
            "addr",
            "add",
            f"{namespace_address}/30",
            "dev",
            f"{name}n",
        ],
        ["ip", "netns", "exec", name, "ip", "link", "set", f"{name}n", "up"],
    ]
    try:
        for command in commands:
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                pytest.skip(f"cannot make a network namespace here: {result.stderr.strip()}")
        yield name, host_address
    finally:
        subprocess.run(["ip", "link", "del", f"{name}h"], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def connect_from(namespace: str, host: str, ports: list[int]) -> dict[int, str]:
    """Try each port of `host` from inside the namespace: 'accepted', 'refused' or errno."""
    script = textwrap.dedent(
        """
        import json, socket, sys
        host, ports, found = sys.argv[1], json.loads(sys.argv[2]), {}
        for port in ports:
            with socket.socket() as probe:
                probe.settimeout(5)
                found[port] = "accepted" if probe.connect_ex((host, port)) == 0 else "refused"
        print(json.dumps(found))
        """
    )
    result = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", script, host, json.dumps(ports)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {int(port): outcome for port, outcome in json.loads(result.stdout).items()}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="network namespaces are Linux's")
def test_another_host_on_the_network_is_refused(localstack):
    """From a network namespace (another host, as far as the network goes) this machine's
    address answers for a server listening there, and refuses LocalStack's gateway and the
    inbox. Needs root and `ip netns`; skips elsewhere. Only the test's own veth address is
    ever contacted."""
    if os.geteuid() != 0:
        pytest.skip("needs root to make a network namespace")
    with (
        network_namespace() as (namespace, host_address),
        socket.create_server((host_address, 0)) as control,
    ):
        ports = [control.getsockname()[1], localstack.port, inbox_port(localstack)]
        found = connect_from(namespace, host_address, ports)
    assert found == dict(zip(ports, ["accepted", "refused", "refused"], strict=True))


REGISTER_PROBE = """
import json, sys
from rolo.gateway import Gateway
from twisted.internet import reactor
from localstack.config import HostAndPort

if sys.argv[2] == "patched":
    from localstack_sfnlab_patches import gateway_listen_host
    gateway_listen_host.apply()
from localstack.runtime.server.twisted import TwistedRuntimeServer

calls = []
reactor.listenTCP = lambda port, factory, backlog=50, interface="": calls.append([port, interface])
listen = [HostAndPort(host, port) for host, port in json.loads(sys.argv[1])]
TwistedRuntimeServer().register(gateway=Gateway(), listen=listen, ssl_creds=None)
print(json.dumps(calls))
"""


def interfaces_bound(listen: list[tuple[str, int]], patched: bool) -> list[list]:
    """[port, interface] for each socket TwistedRuntimeServer.register asks Twisted for.

    Runs in the embedded LocalStack's own Python with Twisted's listenTCP replaced by a
    recorder: no socket is opened.
    """
    python = venv_python(load_settings().runtime_venv)
    result = subprocess.run(
        [str(python), "-c", REGISTER_PROBE, json.dumps(listen), "patched" if patched else "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_the_patch_ipv4_listens_on_every_interface(lambda_interpreter):
    """The defect itself, in LocalStack 4.14.0 as shipped: the IPv4 host is dropped."""
    assert interfaces_bound([("127.0.0.1", 4566)], patched=False) == [[4566, ""]]


@pytest.mark.parametrize(
    ("listen", "bound"),
    [
        ([("127.0.0.1", 4566)], [[4566, "127.0.0.1"]]),
        ([("0.0.0.0", 4566)], [[4566, "0.0.0.0"]]),
        ([("::1", 4566)], [[4566, "::1"]]),
        ([("::", 4566)], [[4566, "::"]]),
        (
            [("127.0.0.1", 4566), ("::1", 4566), ("127.0.0.2", 4566), ("192.0.2.7", 4567)],
            [[4566, "127.0.0.1"], [4566, "::1"], [4566, "127.0.0.2"], [4567, "192.0.2.7"]],
        ),
    ],
    ids=["loopback", "all-ipv4-as-asked", "ipv6-loopback", "all-ipv6-as-asked", "several"],
)
def test_the_patch_binds_what_was_configured_and_changes_nothing_else(
    lambda_interpreter, listen, bound
):
    """Each IPv4 entry is bound to its own host; an explicit 0.0.0.0 still means every
    interface, and IPv6 entries are bound exactly as LocalStack binds them unpatched."""
    assert interfaces_bound(listen, patched=True) == bound
    ipv6 = [entry for entry in listen if ":" in entry[0]]
    if ipv6:
        unpatched = interfaces_bound(ipv6, patched=False)
        assert unpatched == [[port, host] for host, port in ipv6]
