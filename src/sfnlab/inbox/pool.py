"""A fixed set of worker threads serving connections that wait in a bounded line.

The standard library's ThreadingHTTPServer starts a thread per connection, without limit:
a burst (or a hostile page) could start thousands. Here the number of threads is fixed,
and so is the number of connections that may wait for one; the server answers any
connection beyond that with 503 at once rather than holding it.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

Connection = tuple[socket.socket, Any]


class ConnectionPool:
    """`workers` threads; at most `workers + waiting` connections held at once."""

    def __init__(
        self, workers: int, waiting: int, serve: Callable[[socket.socket, Any], None]
    ) -> None:
        if workers < 1 or waiting < 0:
            raise ValueError("a pool needs at least one worker, and a line of zero or more")
        self.capacity = workers + waiting
        self._serve = serve
        self._line: queue.SimpleQueue[Connection | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._held = 0  # connections queued or being served
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"inbox-worker-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def offer(self, connection: socket.socket, address: Any) -> bool:
        """Hand a connection to the next free worker; False (and not taken) when full."""
        with self._lock:
            if self._closed or self._held >= self.capacity:
                return False
            self._held += 1
        self._line.put((connection, address))
        return True

    @property
    def held(self) -> int:
        with self._lock:
            return self._held

    def _work(self) -> None:
        while (item := self._line.get()) is not None:
            try:
                self._serve(*item)
            finally:
                with self._lock:
                    self._held -= 1

    def close(self, timeout: float = 5.0) -> None:
        """Close the connections still waiting; stop the workers once their requests end."""
        with self._lock:
            self._closed = True
        while True:
            try:
                item = self._line.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].close()  # never handed to a worker: this is its only owner
                with self._lock:
                    self._held -= 1
        for _ in self._threads:
            self._line.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
