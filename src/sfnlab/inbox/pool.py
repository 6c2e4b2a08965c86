"""A fixed set of worker threads serving connections that wait in a bounded line.

The standard library's ThreadingHTTPServer starts a thread per connection, without limit:
a burst (or a hostile page) could start thousands. Here the number of threads is fixed,
and so is the number of connections that may wait for one. Beyond that, one more thread
tells connections the server is busy, and when it has too many of those to tell, the
rest are closed at once.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

Connection = tuple[socket.socket, Any]
Handler = Callable[[socket.socket, Any], None]


class Line:
    """Threads taking connections from a line of bounded length, each given to `handle`
    (which closes it)."""

    def __init__(self, name: str, threads: int, capacity: int, handle: Handler) -> None:
        self.capacity = capacity
        self._handle = handle
        self._queue: queue.SimpleQueue[Connection | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._held = 0  # connections queued or being handled
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def offer(self, connection: socket.socket, address: Any) -> bool:
        """Take a connection for the next free thread; False (and not taken) when full."""
        with self._lock:
            if self._closed or self._held >= self.capacity:
                return False
            self._held += 1
        self._queue.put((connection, address))
        return True

    @property
    def held(self) -> int:
        with self._lock:
            return self._held

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._handle(*item)
            finally:
                with self._lock:
                    self._held -= 1

    def close(self, deadline: float) -> None:
        """Close the connections still waiting; stop the threads once they are done."""
        with self._lock:
            self._closed = True
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].close()  # never handed to a thread: this is its only owner
                with self._lock:
                    self._held -= 1
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class ConnectionPool:
    """`workers` threads serve at most `workers + waiting` connections at once; one more
    thread refuses up to `refusing` connections beyond that."""

    def __init__(
        self, workers: int, waiting: int, serve: Handler, refuse: Handler, refusing: int = 64
    ) -> None:
        if workers < 1 or waiting < 0:
            raise ValueError("a pool needs at least one worker, and a line of zero or more")
        self._serving = Line("inbox-worker", workers, workers + waiting, serve)
        self._refusing = Line("inbox-refuser", 1, refusing, refuse)

    @property
    def held(self) -> int:
        """Connections being served or waiting to be."""
        return self._serving.held

    def offer(self, connection: socket.socket, address: Any) -> bool:
        """Serve the connection, or else refuse it; False when even that is not possible
        (the caller then closes it)."""
        return self._serving.offer(connection, address) or self._refusing.offer(connection, address)

    def close(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        self._serving.close(deadline)
        self._refusing.close(deadline)
