"""The inbox as `sfnlab up` runs it: a background process that keeps what it received."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest
import requests

from sfnlab.errors import PortInUse
from sfnlab.inbox import InboxClient
from sfnlab.inbox.service import ensure_inbox, running_inbox, stop_inbox
from sfnlab.support.network import free_port
from sfnlab.testing.servers import web_page_server
from sfnlab.testing.settings import settings_for
from sfnlab.testing.waiting import wait_for


@pytest.fixture
def settings(tmp_path):
    settings = settings_for(tmp_path / "state")
    yield settings
    stop_inbox(settings)


def test_inbox_survives_a_restart_with_nothing_lost(settings):
    first = ensure_inbox(settings)
    for n in range(3):
        requests.post(f"{settings.inbox_url}/reviewers", json={"n": n, "taskToken": f"t{n}"})
    stop_inbox(settings)
    assert not psutil.pid_exists(first.pid)
    assert InboxClient(settings.inbox_url).health() is None
    second = ensure_inbox(settings)
    assert second.pid != first.pid
    kept = InboxClient(settings.inbox_url).requests(channel="reviewers")
    assert [r.json["n"] for r in kept] == [2, 1, 0]


def test_inbox_listens_on_loopback_only(settings):
    record = ensure_inbox(settings)
    listening = [
        c.laddr for c in psutil.Process(record.pid).net_connections() if c.status == "LISTEN"
    ]
    assert [address.ip for address in listening] == ["127.0.0.1"]


def test_second_ensure_is_a_no_op(settings):
    first = ensure_inbox(settings)
    assert ensure_inbox(settings).pid == first.pid
    assert running_inbox(settings).pid == first.pid


def test_inbox_port_held_by_another_server_is_a_clear_error(tmp_path):
    with web_page_server() as port:
        settings = settings_for(tmp_path / "state", inbox_port=port)
        with pytest.raises(PortInUse, match=f"Port {port} on 127.0.0.1, the inbox's"):
            ensure_inbox(settings)


def test_the_inbox_answers_to_the_names_it_is_given_and_to_no_other(tmp_path):
    # As Docker Compose runs it: Lambdas and JupyterLab call it `inbox`.
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sfnlab.inbox", "--port", str(port), "--allow-host", "inbox",
         "--database", str(tmp_path / "inbox.sqlite3")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api/health"
    try:
        assert wait_for(lambda: InboxClient(f"http://127.0.0.1:{port}").health() is not None)
        answers = {
            host: requests.get(url, headers={"Host": host}, timeout=5).status_code
            for host in (f"inbox:{port}", f"localhost:{port}", "evil.example", "inbox.evil.example")
        }
    finally:
        server.terminate()
        server.wait(timeout=5)
    assert answers == {
        f"inbox:{port}": 200,
        f"localhost:{port}": 200,
        "evil.example": 421,
        "inbox.evil.example": 421,
    }
