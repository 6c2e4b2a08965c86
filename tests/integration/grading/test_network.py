"""The grading stack's network of its own: learners' code reaches what grading started, and
nothing else of the machine (its loopback services, its other addresses, the internet).

Where no such network can be made, grading says so once and goes on as before."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import uuid
from collections.abc import Iterator

import pytest
import requests

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.exercise import RUNTIME
from sfnlab.grading import grade_solution
from sfnlab.grading import network as grading_network
from sfnlab.grading.grading_stack import SandboxUnavailable, grading_stack
from sfnlab.grading.network import network_of
from sfnlab.localstack import embedded
from sfnlab.settings import PROJECT_ROOT, Settings, load_settings
from sfnlab.support.aws import client
from sfnlab.testing.functions import invoke, zip_files
from sfnlab.testing.submissions import CLASSMATE
from tests.integration.grading.conftest import Canary, KitState, machine_addresses

HOSTILE = "scans-the-machine"
# Connects to each target, says what happened, and sends the canary (or whatever answers)
# one request it would record.
PROBE = """
import errno
import os
import socket


def handler(event, context):
    seen = {}
    for name, (host, port) in event["targets"].items():
        try:
            connection = socket.create_connection((host, port), timeout=2)
        except socket.timeout:
            seen[name] = "timeout"
            continue
        except OSError as error:
            seen[name] = errno.errorcode.get(error.errno, str(error))
            continue
        seen[name] = "connected"
        with connection:
            connection.sendall(b"GET /from-a-graded-lambda HTTP/1.0\\r\\n\\r\\n")
            connection.settimeout(1)
            try:
                connection.recv(100)
            except OSError:
                pass
    return {"seen": seen, "network": os.readlink("/proc/self/ns/net")}
"""


def internet_address() -> tuple[str, int] | None:
    """An address on the internet this test process can reach (PyPI's), if any."""
    with contextlib.suppress(OSError):
        address = socket.getaddrinfo("pypi.org", 443, socket.AF_INET, socket.SOCK_STREAM)[0][4]
        socket.create_connection(address, timeout=5).close()
        return address
    return None


def probe(settings: Settings, targets: dict[str, tuple[str, int]]) -> dict:
    """Run PROBE as a Lambda of the LocalStack of `settings` (sandboxed, as graded code is)."""
    lam = client("lambda", settings)
    name = f"network-probe-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime=RUNTIME,
        Role="arn:aws:iam::000000000000:role/network-probe",
        Handler="probe.handler",
        Code={"ZipFile": zip_files({"probe.py": PROBE})},
        Timeout=30,
    )
    try:
        wait_until_ready(lam, name)
        response = invoke(lam, name, {"targets": targets})
        assert "FunctionError" not in response, response["Payload"]
        return response["Payload"]
    finally:
        lam.delete_function(FunctionName=name)


@contextlib.contextmanager
def capture_listener(settings: Settings) -> Iterator[socket.socket]:
    """A listening socket where the grader's capture endpoint would listen."""
    network = network_of(settings.endpoint)
    with network.listener() if network else socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener


def targets_for(
    settings: Settings, canary: Canary, instructor: Settings, listener: socket.socket
) -> dict[str, tuple[str, int]]:
    targets = {
        "grading LocalStack": ("127.0.0.1", settings.port),
        "capture endpoint": ("127.0.0.1", listener.getsockname()[1]),
        "canary on loopback": ("127.0.0.1", canary.port),
        "instructor's LocalStack": ("127.0.0.1", instructor.port),
    }
    for address in machine_addresses()[:1]:
        targets["instructor's LocalStack, other address"] = (address, instructor.port)
    internet = internet_address()
    if internet:
        targets["the internet"] = internet
    return targets


def namespace_of(pid: int | str) -> str:
    return os.readlink(f"/proc/{pid}/ns/net")


def test_a_graded_class_with_a_hostile_scan_leaves_the_machine_untouched(graded_class, canary):
    """`scans-the-machine` knocked at a canary on loopback and at the instructor's own
    LocalStack and inbox (loopback and another address), ready to post LocalStack's kill
    request to whatever answered: nothing did, the canary saw nothing, the instructor's kit
    runs on as it was, and the classmate graded beside it scores 100."""
    if not graded_class.isolated:
        pytest.skip("this machine cannot give the grading stack a network of its own")
    hostile = graded_class.reports[HOSTILE]
    feedback = hostile.verdict("reaches_review").feedback
    for target in graded_class.targets:
        assert target in feedback, feedback  # knocked at, and refused
    assert len(graded_class.targets) >= 3
    assert graded_class.canary_saw == []
    assert graded_class.kit_after == graded_class.kit_before
    assert graded_class.kit_before.localstack is not None and graded_class.kit_before.answers
    assert graded_class.kit_before.inbox_latest is not None
    assert graded_class.reports[CLASSMATE].score == 100


def test_graded_code_reaches_the_grading_stack_and_nothing_else(
    grading_localstack, canary, localstack
):
    """From inside a sandboxed Lambda of the grading LocalStack: its LocalStack and the
    capture endpoint answer; the canary on the machine's loopback, the instructor's
    LocalStack (on loopback and on another address) and the internet do not."""
    network = network_of(grading_localstack.endpoint)
    if network is None:
        pytest.skip("this machine cannot give the grading stack a network of its own")
    grading_pid = embedded.running_embedded(grading_localstack).pid
    assert namespace_of(grading_pid) == network.namespace != namespace_of("self")
    with capture_listener(grading_localstack) as listener:
        targets = targets_for(grading_localstack, canary, localstack, listener)
        seen = probe(grading_localstack, targets)
    expected = {
        "grading LocalStack": "connected",
        "capture endpoint": "connected",
        "canary on loopback": "ECONNREFUSED",  # nothing listens there, in there
        "instructor's LocalStack": "ECONNREFUSED",
        "instructor's LocalStack, other address": "ENETUNREACH",  # no route out
        "the internet": "ENETUNREACH",
    }
    assert seen["seen"] == {name: expected[name] for name in targets}
    assert seen["network"] == network.namespace
    assert canary.connections == []


def test_where_no_network_of_its_own_can_be_made_grading_says_so_once_and_goes_on(
    monkeypatch, capsys, localstack
):
    """As on macOS: one plain line says learners' code shares the machine's network, and
    grading goes on as before. The same probe then does reach the machine (what the
    network of its own keeps out)."""
    monkeypatch.setattr(grading_network, "PLATFORM", "darwin")
    canary = Canary()  # its own: the class's must see nothing, whatever runs first
    with grading_stack(load_settings(), network="auto") as settings:
        said = capsys.readouterr().err
        assert network_of(settings.endpoint) is None
        assert namespace_of(embedded.running_embedded(settings).pid) == namespace_of("self")
        with capture_listener(settings) as listener:
            seen = probe(settings, targets_for(settings, canary, localstack, listener))
        report = grade_solution(PROJECT_ROOT, settings)
    assert said.count("A network of its own for grading is not available here") == 1
    assert "(network namespaces exist on Linux only (this is darwin))" in said
    assert "can reach what any local program reaches" in said
    assert seen["seen"]["canary on loopback"] == "connected"
    assert seen["seen"]["instructor's LocalStack"] == "connected"
    assert canary.requests == ["GET /from-a-graded-lambda HTTP/1.0"]
    canary.close()
    assert report.score == 100 and report.graded


def test_isolated_refuses_to_grade_where_no_network_of_its_own_can_be_made(monkeypatch, tmp_path):
    """Before anything starts: no LocalStack, not even its folder."""
    monkeypatch.setattr(grading_network, "PLATFORM", "darwin")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with (
        pytest.raises(SandboxUnavailable, match="SFNLAB_GRADING_NETWORK=isolated") as refused,
        grading_stack(load_settings(), network="isolated"),
    ):
        pass
    assert "Linux only (this is darwin)" in str(refused.value)
    assert "Unset SFNLAB_GRADING_NETWORK" in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_kit_state_sees_a_changed_inbox(localstack):
    """KitState, which the class test compares, does tell a new inbox request apart."""
    before = KitState.of(localstack)
    requests.post(f"{localstack.inbox_url}/kit-state-check", json={"x": 1}, timeout=5)
    assert KitState.of(localstack) != before
