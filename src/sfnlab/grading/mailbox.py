"""Where graded Lambdas send their messages: an unguessable address per Lambda.

Each Lambda gets `INBOX_URL=http://<host>/<secret>`, a random secret of its own, so a
message counts only for the step that sent it: no other step, and no other solution,
knows that address. Two kinds:

- `CaptureServer` (the default on an embedded LocalStack): a small write-only HTTP
  endpoint inside the grader. It stores what arrives at a known address and answers 404
  to anything else; nothing can be read back over the network, so a submission can
  neither list other solutions' addresses nor read their task tokens. When the grading
  stack has a network of its own, it listens in there (`network.py`).
- `InboxMailbox`: the kit's inbox, for a LocalStack whose Lambdas cannot reach this
  process (Docker); its addresses are as unguessable, but its API can be read.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sfnlab.inbox import InboxClient
from sfnlab.inbox.store import json_or_none

MAX_BODY = 256 * 1024
SOCKET_TIMEOUT = 5.0


@dataclass(frozen=True)
class Message:
    sequence: int  # order of arrival, over all addresses of one mailbox
    channel: str  # the path after the address, e.g. "reviewers"
    body: str

    @property
    def json(self) -> Any:
        return json_or_none(self.body)

    @property
    def value(self) -> Any:
        """The body as JSON, or as text when it is not JSON."""
        parsed = self.json
        return self.body if parsed is None else parsed


def within(sequence: int, since: int, until: int | None) -> bool:
    """Whether a message numbered `sequence` came after the mark `since`, by the mark `until`."""
    return since < sequence and (until is None or sequence <= until)


class Mailbox:
    """The addresses of one solution's Lambdas, and what arrived at each."""

    def address(self, key: str) -> str:
        raise NotImplementedError

    def mark(self) -> int:
        """A point in time: `messages(key, since=mark)` is what arrived after it."""
        raise NotImplementedError

    def messages(self, key: str, since: int = 0, until: int | None = None) -> list[Message]:
        """What arrived at `key`'s address after the mark `since`, up to the mark `until`."""
        raise NotImplementedError

    def wait(self, key: str, since: int, timeout: float) -> int:
        """Wait up to `timeout` seconds for a message later than `since` at `key`'s
        address; the `sequence` of the newest one there (`since` if none came).

        The grader's waits use it to look again as soon as a step has reported; where
        messages cannot be waited for, it just sleeps.
        """
        time.sleep(timeout)
        return since

    def close(self) -> None:
        """Forget this solution's addresses; whatever arrives there later is dropped."""


class CaptureServer:
    """The write-only endpoint shared by every solution of a grading run."""

    def __init__(self, listener: socket.socket | None = None) -> None:
        """On a free loopback port, or on `listener` (made where graded Lambdas run)."""
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # notified on every message stored
        self._boxes: dict[str, list[Message]] = {}  # secret -> messages
        self._sequence = 0
        self._server = ThreadingHTTPServer(
            ("127.0.0.1", 0), self._handler(), bind_and_activate=listener is None
        )
        if listener is not None:
            self._server.socket.close()
            self._server.socket = listener
            self._server.server_address = listener.getsockname()
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="grading-mailbox", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def open_box(self) -> str:
        secret = secrets.token_urlsafe(18)
        with self._lock:
            self._boxes[secret] = []
        return secret

    def close_box(self, secret: str) -> None:
        with self._lock:
            self._boxes.pop(secret, None)

    def store(self, path: str, body: str) -> Message | None:
        secret, _, channel = path.lstrip("/").partition("/")
        with self._lock:
            box = self._boxes.get(secret)
            if box is None:
                return None
            self._sequence += 1
            message = Message(self._sequence, channel.split("?", 1)[0], body)
            box.append(message)
            self._arrived.notify_all()
            return message

    def read(self, secret: str, since: int = 0, until: int | None = None) -> list[Message]:
        with self._lock:
            return [m for m in self._boxes.get(secret, []) if within(m.sequence, since, until)]

    def sequence(self) -> int:
        with self._lock:
            return self._sequence

    def wait(self, secret: str, since: int, timeout: float) -> int:
        """The newest message's `sequence` in the box, once it is later than `since` or
        `timeout` seconds have passed."""

        def newest() -> int:
            box = self._boxes.get(secret)
            return max(box[-1].sequence if box else 0, since)

        with self._arrived:
            self._arrived.wait_for(lambda: newest() > since, timeout)
            return newest()

    def mailbox(self) -> CapturedMailbox:
        return CapturedMailbox(self)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = SOCKET_TIMEOUT

            def do_POST(self) -> None:
                self.capture()

            def do_PUT(self) -> None:
                self.capture()

            def capture(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length < 0 or length > MAX_BODY:
                    self.answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
                    return
                body = self.rfile.read(length).decode("utf-8", "replace")
                stored = server.store(self.path, body)
                if stored is None:
                    self.answer(HTTPStatus.NOT_FOUND, {"error": "no such address"})
                    return
                received = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
                self.answer(
                    HTTPStatus.OK,
                    {"id": stored.sequence, "channel": stored.channel, "receivedAt": received},
                )

            def do_GET(self) -> None:
                self.answer(HTTPStatus.NOT_FOUND, {"error": "nothing to read here"})

            def answer(self, status: HTTPStatus, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class CapturedMailbox(Mailbox):
    def __init__(self, server: CaptureServer) -> None:
        self._server = server
        self._secrets: dict[str, str] = {}

    def address(self, key: str) -> str:
        if key not in self._secrets:
            self._secrets[key] = self._server.open_box()
        return f"{self._server.url}/{self._secrets[key]}"

    def mark(self) -> int:
        return self._server.sequence()

    def messages(self, key: str, since: int = 0, until: int | None = None) -> list[Message]:
        secret = self._secrets.get(key)
        return self._server.read(secret, since, until) if secret else []

    def wait(self, key: str, since: int, timeout: float) -> int:
        secret = self._secrets.get(key)
        if secret is None:
            return super().wait(key, since, timeout)
        return self._server.wait(secret, since, timeout)

    def close(self) -> None:
        for secret in self._secrets.values():
            self._server.close_box(secret)


class InboxMailbox(Mailbox):
    """Addresses on the kit's inbox: `<inbox>/<secret>/...`, the secret being the channel."""

    def __init__(self, inbox_url: str, lambda_inbox_url: str) -> None:
        self._client = InboxClient(inbox_url)
        self._lambda_inbox_url = lambda_inbox_url.rstrip("/")
        self._secrets: dict[str, str] = {}

    def address(self, key: str) -> str:
        secret = self._secrets.setdefault(key, secrets.token_urlsafe(18))
        return f"{self._lambda_inbox_url}/{secret}"

    def mark(self) -> int:
        return int((self._client.health() or {}).get("latest") or 0)

    def messages(self, key: str, since: int = 0, until: int | None = None) -> list[Message]:
        secret = self._secrets.get(key)
        if secret is None:
            return []
        found = self._client.requests(channel=secret, since=since or None, limit=500)
        return [
            Message(request.id, request.path.split("/", 2)[-1], request.body)
            for request in sorted(found, key=lambda request: request.id)
            if within(request.id, since, until)
        ]

    def close(self) -> None:
        for secret in self._secrets.values():
            with contextlib.suppress(Exception):
                self._client.clear(channel=secret)
