"""The live picture's server, on its own: loopback only, read only, its own script only,
and a page that says what is wrong when it cannot draw (here: no LocalStack at all)."""

from __future__ import annotations

import socket

import pytest
import requests

from sfnlab.errors import PortInUse
from sfnlab.support.network import free_port
from sfnlab.testing.settings import settings_for
from sfnlab.workflow import live


@pytest.fixture
def server(tmp_path):
    # Nothing listens at this endpoint: every drawing fails, as with LocalStack stopped.
    settings = settings_for(tmp_path / "state", port=free_port())
    with live.running(settings, port=0, marks=False) as running:
        yield running


def test_it_listens_on_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.server_address[1]}/"


def test_the_page_runs_its_own_script_only_and_says_why_it_cannot_draw(server):
    answer = requests.get(server.url, timeout=10)
    assert answer.status_code == 200
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'nonce-" in policy and "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "LocalStack is not reachable" in answer.text
    for fetched in ('src="', "href=", "url(http", "@import"):
        assert fetched not in answer.text  # nothing loaded from anywhere
    fragment = requests.get(f"{server.url}fragment", timeout=10).json()
    assert set(fragment) == {"version", "html"}
    assert fragment["html"].startswith('<p class="problem">')


def test_other_host_names_and_methods_are_refused(server):
    port = server.server_address[1]
    for host in ("evil.example", f"evil.example:{port}", "192.168.1.5"):
        answer = requests.get(server.url, headers={"Host": host}, timeout=5)
        assert answer.status_code == 421, host
        assert f"http://127.0.0.1:{port}/ only" in answer.json()["error"]
    assert requests.get(server.url, headers={"Host": f"localhost:{port}"}, timeout=5).ok
    assert requests.post(server.url, data=b"x", timeout=5).status_code == 501
    assert requests.get(f"{server.url}elsewhere", timeout=5).status_code == 404


def test_a_name_that_cannot_be_one_is_refused(server):
    for name in ("a" * 300, "name\x07bell"):
        answer = requests.get(server.url, params={"execution": name}, timeout=5)
        assert answer.status_code == 400


def test_what_a_query_names_is_escaped_in_the_page(server):
    answer = requests.get(server.url, params={"execution": "<b>x</b>"}, timeout=10)
    assert "<b>x</b>" not in answer.text


def test_a_port_in_use_is_said_as_such(tmp_path):
    holder = socket.create_server(("127.0.0.1", 0))
    try:
        settings = settings_for(tmp_path / "state")
        port = holder.getsockname()[1]
        with pytest.raises(PortInUse, match="--port"), live.running(settings, port=port):
            pass
    finally:
        holder.close()
