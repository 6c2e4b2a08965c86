"""The inbox's pool: a fixed number of threads, a bounded line, and then a busy answer."""

from __future__ import annotations

import socket
import threading

import pytest

from sfnlab.inbox.pool import ConnectionPool
from sfnlab.testing.waiting import wait_for


@pytest.fixture
def connections():
    """Connected sockets, as the server would accept them; all closed afterwards."""
    pairs: list[tuple[socket.socket, socket.socket]] = []

    def make(count: int) -> list[socket.socket]:
        pairs.extend(socket.socketpair() for _ in range(count))
        return [ours for ours, _ in pairs[-count:]]

    yield make
    for ours, theirs in pairs:
        ours.close()  # a no-op for those the pool closed
        theirs.close()


def test_beyond_the_workers_and_the_line_connections_are_refused_then_dropped(connections):
    release = threading.Event()
    served, refused = [], []

    def serve(connection, address):
        served.append(address)
        release.wait(5)
        connection.close()

    def refuse(connection, address):
        refused.append(address)
        release.wait(5)
        connection.close()

    threads_before = threading.active_count()
    pool = ConnectionPool(workers=1, waiting=1, serve=serve, refuse=refuse, refusing=1)
    sockets = connections(4)
    try:
        assert threading.active_count() == threads_before + 2  # one worker, one refuser
        assert [pool.offer(s, n) for n, s in enumerate(sockets[:4])] == [True, True, True, False]
        assert wait_for(lambda: served == [0] and refused == [2])
        assert pool.held == 2  # one served, one waiting
        release.set()
        assert wait_for(lambda: served == [0, 1] and pool.held == 0)
    finally:
        release.set()
        pool.close()
    assert threading.active_count() == threads_before


def test_closing_closes_what_still_waits_and_serves_it_never(connections):
    release = threading.Event()
    served = []

    def serve(connection, address):
        served.append(address)
        release.wait(5)
        connection.close()

    pool = ConnectionPool(workers=1, waiting=3, serve=serve, refuse=serve)
    ours = connections(4)
    for n, connection in enumerate(ours):
        assert pool.offer(connection, n)
    assert wait_for(lambda: served == [0])
    closer = threading.Thread(target=pool.close)
    closer.start()
    assert wait_for(lambda: all(c.fileno() == -1 for c in ours[1:]))  # closed, once
    release.set()
    closer.join(5)
    assert served == [0] and not closer.is_alive()
    (late,) = connections(1)
    assert not pool.offer(late, 9)
