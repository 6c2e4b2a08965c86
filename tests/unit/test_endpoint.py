"""Telling apart nothing, LocalStack and another program at the endpoint."""

from __future__ import annotations

import socket

import pytest

from sfnlab.errors import NotLocalStack
from sfnlab.localstack.probe import probe
from sfnlab.support.network import accepts_connections, free_port, port_is_free
from sfnlab.testing.servers import web_page_server


def test_nothing_listening_is_none():
    assert probe(f"http://127.0.0.1:{free_port()}") is None


def test_another_web_server_is_not_localstack():
    with web_page_server() as port, pytest.raises(NotLocalStack):
        probe(f"http://127.0.0.1:{port}")


def test_a_listening_port_is_not_free():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
        assert accepts_connections("127.0.0.1", port)
    assert port_is_free("127.0.0.1", port)
    assert not accepts_connections("127.0.0.1", port)
