"""Requests as bytes on a socket: what `http.client` and `requests` refuse to send."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfnlab.inbox.server import InboxServer
from sfnlab.inbox.store import RequestStore


@dataclass
class Answer:
    status: int | None  # None: the server closed without a word
    headers: dict[str, str]
    body: bytes
    reset: bool = False

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RunningInbox:
    server: InboxServer
    store: RequestStore
    errors: list[BaseException]

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def send(self, data: bytes, **options: Any) -> Answer:
        return exchange(self.port, data, **options)


@contextmanager
def running_inbox(database: Path, **options: Any) -> Iterator[RunningInbox]:
    """A real inbox server on a free loopback port, in this process, with `options`
    (max_body, workers, waiting, idle_timeout, allowed_hosts); records its errors."""
    store = RequestStore(database)
    server = InboxServer(("127.0.0.1", 0), store, **options)
    errors: list[BaseException] = []

    def record_error(request: object, client_address: object) -> None:
        import sys

        errors.append(sys.exc_info()[1])

    server.handle_error = record_error  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield RunningInbox(server, store, errors)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        store.close()


def request(
    method: str,
    path: str,
    host: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    add_length: bool = True,
) -> bytes:
    """A request as bytes, with a Content-Length for a body unless told not to add one or
    `headers` names one."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    headers = dict(headers or {})
    named = any(name.lower() == "content-length" for name in headers)
    if body and add_length and not named:
        headers["Content-Length"] = str(len(body))
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(port: int, data: bytes, *, shut_write: bool = False, timeout: float = 5.0) -> Answer:
    """Send `data`, read until the server closes, and parse what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        received, reset = b"", False
        try:
            connection.sendall(data)
            if shut_write:
                connection.shutdown(socket.SHUT_WR)
        except OSError:
            reset = True  # the server answered and closed before reading it all
        while True:
            try:
                chunk = connection.recv(65536)
            except ConnectionResetError:
                reset = True
                break
            if not chunk:
                break
            received += chunk
    return parse(received, reset)


def parse(received: bytes, reset: bool = False) -> Answer:
    if not received:
        return Answer(None, {}, b"", reset)
    head, _, body = received.partition(b"\r\n\r\n")
    # A 100 Continue comes before the real answer.
    while head.startswith(b"HTTP/1.1 100"):
        head, _, body = body.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), headers, body, reset)
