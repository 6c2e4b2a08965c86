"""The inbox's HTTP server.

Built on the standard library's HTTPServer: it parses HTTP for us, and for one learner on
loopback a web framework would add dependencies and nothing else. One request per
connection (HTTP/1.0), served by a fixed pool of threads.

    any POST/PUT to any path (but /api/...)   stored; answers {"id", "channel", ...}
    GET  /                                     the web page (?channel=NAME filters)
    GET  /api/requests?channel=&path=&since=&limit=   newest first, as JSON
    GET  /api/requests/ID                      one request
    DELETE /api/requests[?channel=NAME]        clear (one channel, or all)
    POST /api/marks                            the kit's review marks (see marks.py)
    GET  /api/health                           {"status": "ok", "latest": ID, "marks": N,
                                                "marksCheckedAt": ISO time or null}

What it refuses, and why, is in `guard.py`.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import socketserver
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sfnlab.inbox.guard import (
    Refused,
    body_length,
    check_same_origin,
    checked_host,
    declared_length,
    served_hosts,
    whole_number,
)
from sfnlab.inbox.marks import parse_marks
from sfnlab.inbox.page import render_list, render_page
from sfnlab.inbox.pool import ConnectionPool
from sfnlab.inbox.store import MAX_ID, MAX_LIMIT, RequestStore, now

DEFAULT_MAX_BODY_BYTES = 256 * 1024
DEFAULT_WORKERS = 16
DEFAULT_WAITING = 496  # with the workers, 512 connections at most: well under 1,024 fds
DEFAULT_IDLE_TIMEOUT = 10.0  # seconds a connection may stay silent
REQUEST_PATH = re.compile(r"^/api/requests/([0-9]{1,19})$")
# How much of a refused request's body is read (and dropped) so that the client, still
# sending it, gets to read the answer: as much as a Lambda payload can be.
DRAIN_LIMIT = 8 * 1024 * 1024

BUSY = json.dumps({"error": "the inbox is busy: try again in a moment"}).encode()
BUSY_RESPONSE = (
    b"HTTP/1.0 503 Service Unavailable\r\n"
    b"Content-Type: application/json\r\n"
    b"Retry-After: 1\r\n"
    b"Connection: close\r\n"
    b"Content-Length: " + str(len(BUSY)).encode() + b"\r\n\r\n" + BUSY
)


def nonce_or_none(nonce: str | None) -> str:
    """A Content-Security-Policy source list: the page's own nonce, or nothing at all."""
    return f"'nonce-{nonce}'" if nonce else "'none'"


def send_hardened_head(
    handler: BaseHTTPRequestHandler,
    status: HTTPStatus,
    data: bytes,
    content_type: str,
    content_security_policy: str,
) -> None:
    """The status line and headers of a page or an answer no other site may frame, load or
    sniff, never cached (the kit's pages: the inbox's, the live picture's)."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("Cache-Control", "no-store")
    handler.send_header("X-Content-Type-Options", "nosniff")
    handler.send_header("X-Frame-Options", "DENY")
    handler.send_header("Cross-Origin-Resource-Policy", "same-origin")
    handler.send_header("Referrer-Policy", "same-origin")
    handler.send_header("Content-Security-Policy", content_security_policy)
    handler.end_headers()


class InboxServer(HTTPServer):
    # The listen backlog: a class's worth of Lambdas may post at the same moment (the
    # default, 5, makes a burst wait for the client's SYN retry, a second or more).
    request_queue_size = 1024

    def __init__(
        self,
        address: tuple[str, int],
        store: RequestStore,
        max_body: int = DEFAULT_MAX_BODY_BYTES,
        *,
        allowed_hosts: Iterable[str] = (),
        workers: int = DEFAULT_WORKERS,
        waiting: int = DEFAULT_WAITING,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self.store = store
        self.max_body = max_body
        self.served_hosts = served_hosts(address[0], allowed_hosts)
        self.idle_timeout = idle_timeout
        self.marks_checked_at: str | None = None  # when the kit last posted marks
        # Before binding: a bind that fails closes the server, pool included, and raises.
        self.pool = ConnectionPool(workers, waiting, self.serve_connection, self.refuse_connection)
        super().__init__(address, InboxHandler)

    def server_bind(self) -> None:
        # HTTPServer would look up the host's fully qualified name here, which can take
        # seconds where DNS is slow; nothing reads it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def process_request(self, request: socket.socket, client_address: Any) -> None:
        if not self.pool.offer(request, client_address):
            self.shutdown_request(request)  # too busy even to say so

    def serve_connection(self, request: socket.socket, client_address: Any) -> None:
        """Runs on a pool thread, which owns the connection until it closes it."""
        try:
            self.finish_request(request, client_address)
        except (ConnectionError, TimeoutError):
            pass  # the client went away or went quiet: nobody to answer
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def refuse_connection(self, request: socket.socket, client_address: Any) -> None:
        """Runs on the pool's refusing thread, which owns the connection: 503."""
        try:
            answer_busy(request)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self.pool.close()


def answer_busy(connection: socket.socket, patience: float = 1.0) -> None:
    """Say 503 to a connection no worker can take, spending at most `patience` seconds.

    The request is read first and what follows it after the answer: a connection closed
    with bytes unread is reset, and the client would see a reset instead of the answer.
    """
    deadline = time.monotonic() + patience
    try:
        received = b""
        while b"\r\n\r\n" not in received and len(received) < 65536:
            connection.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        connection.sendall(BUSY_RESPONSE)
        connection.shutdown(socket.SHUT_WR)
        while time.monotonic() < deadline:
            connection.settimeout(max(0.01, deadline - time.monotonic()))
            if not connection.recv(65536):
                break  # the client read the answer and closed
    except OSError:
        pass


@dataclass(frozen=True)
class Html:
    """A page to answer with; `nonce` lets its own script and style run."""

    text: str
    nonce: str | None = None


class InboxHandler(BaseHTTPRequestHandler):
    server: InboxServer
    server_version = "sfnlab-inbox"
    default_request_version = "HTTP/1.0"  # a malformed request line still gets a status line
    # The answer goes out as headers, then body: with Nagle's algorithm the body could
    # wait for the client's delayed acknowledgement of the headers.
    disable_nagle_algorithm = True

    body_read = False

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # every read and write of this connection
        super().setup()

    def do_GET(self) -> None:
        self.answer(self.read)

    def do_POST(self) -> None:
        if urlsplit(self.path).path == "/api/marks":
            self.answer(self.set_marks)
        else:
            self.answer(self.capture)

    def do_PUT(self) -> None:
        self.answer(self.capture)

    def do_DELETE(self) -> None:
        self.answer(self.delete)

    def answer(self, action: Callable[[], tuple[Any, HTTPStatus]]) -> None:
        """Check where the request comes from, run `action`, send what it returns."""
        try:
            host = checked_host(self.headers, self.server.served_hosts)
            check_same_origin(self.command, self.headers, host)
            body, status = action()
        except Refused as refused:
            body, status = {"error": refused.message}, refused.status
        except TimeoutError:
            body, status = {"error": "the request was not sent in time"}, HTTPStatus.REQUEST_TIMEOUT
        if not self.body_read and not self.wants_continue():
            self.drop_declared_body()
        self.drop_unread()
        if isinstance(body, Html):
            self.send_body(body.text.encode(), "text/html; charset=utf-8", status, body.nonce)
        else:
            self.send_body(json.dumps(body).encode(), "application/json", status)

    # Capturing ----------------------------------------------------------------------

    def capture(self) -> tuple[Any, HTTPStatus]:
        url = urlsplit(self.path)
        if url.path.startswith("/api/"):
            raise Refused(HTTPStatus.METHOD_NOT_ALLOWED, "the /api/ paths are the inbox's own")
        data = self.read_body()
        stored = self.server.store.add(
            self.command,
            url.path,
            parse_qs(url.query, keep_blank_values=True),
            dict(self.headers.items()),
            data.decode("utf-8", "replace"),
        )
        receipt = {"id": stored.id, "channel": stored.channel, "receivedAt": stored.received_at}
        return receipt, HTTPStatus.OK

    def set_marks(self) -> tuple[Any, HTTPStatus]:
        marks = parse_marks(self.read_body())
        changed = self.server.store.set_marks(marks)
        self.server.marks_checked_at = now()
        return {"changed": changed, "version": self.server.store.marks_version()}, HTTPStatus.OK

    def read_body(self) -> bytes:
        """The request's body, of the length its Content-Length says (none: empty)."""
        length = body_length(self.headers, self.server.max_body)
        if length is None:
            if self.drop_unread():
                raise Refused(HTTPStatus.BAD_REQUEST, "a body needs a Content-Length")
            length = 0
        if self.wants_continue():
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # 1xx: HTTP/1.1's, as asked
        self.body_read = True  # read here, or not at all
        data = self.rfile.read(length)
        if len(data) < length:
            raise Refused(
                HTTPStatus.BAD_REQUEST, f"the body ended after {len(data)} of {length} bytes"
            )
        return data

    def wants_continue(self) -> bool:
        # curl asks before sending a large body, and waits a second for an answer.
        return (
            self.request_version == "HTTP/1.1"
            and self.headers.get("Expect", "").strip().lower() == "100-continue"
        )

    def drop_declared_body(self) -> None:
        """Read and drop the body of a request answered without it (refused, say): a
        client still sending it would otherwise not get to read the answer."""
        length = declared_length(self.headers, DRAIN_LIMIT)
        try:
            while length > 0 and (chunk := self.rfile.read1(min(length, 65536))):
                length -= len(chunk)
        except (TimeoutError, OSError):
            pass

    def drop_unread(self) -> int:
        """Read and drop whatever has already arrived after the headers, without waiting
        for more (at most DRAIN_LIMIT bytes); how many bytes that was.

        Unread bytes make closing reset the connection, and the client could lose the
        answer; and a body that came without a Content-Length is found this way.
        """
        dropped = 0
        try:
            self.connection.setblocking(False)
            while dropped < DRAIN_LIMIT and (chunk := self.rfile.read1(65536)):
                dropped += len(chunk)
        except OSError:
            pass
        finally:
            self.connection.settimeout(self.timeout)
        return dropped

    # Reading ------------------------------------------------------------------------

    def read(self) -> tuple[Any, HTTPStatus]:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        store = self.server.store
        if url.path == "/api/health":
            health = {
                "status": "ok",
                "latest": store.latest_id(),
                "marks": store.marks_version(),
                "marksCheckedAt": self.server.marks_checked_at,
            }
            return health, HTTPStatus.OK
        if url.path == "/api/requests":
            found = store.list(
                channel=query.get("channel"),
                path=query.get("path"),
                since=whole_number("since", query.get("since"), None, 0, MAX_ID),
                limit=whole_number("limit", query.get("limit"), 100, 1, MAX_LIMIT),
            )
            return {"requests": [request.to_dict() for request in found]}, HTTPStatus.OK
        if match := REQUEST_PATH.match(url.path):
            request = store.get(int(match.group(1)))  # None past SQLite's largest id too
            if request is None:
                return {"error": "no such request"}, HTTPStatus.NOT_FOUND
            return request.to_dict(), HTTPStatus.OK
        if url.path == "/":
            nonce = secrets.token_urlsafe(16)
            shown = store.list(channel=query.get("channel"))
            page = render_page(
                shown,
                store.latest_id(),
                store.channels(),
                nonce,
                marks=store.marks([request.id for request in shown]),
                marks_version=store.marks_version(),
            )
            return Html(page, nonce), HTTPStatus.OK
        if url.path == "/fragment":
            shown = store.list(channel=query.get("channel"))
            marks = store.marks([request.id for request in shown])
            return Html(render_list(shown, marks)), HTTPStatus.OK
        return {"error": "not found"}, HTTPStatus.NOT_FOUND

    def delete(self) -> tuple[Any, HTTPStatus]:
        url = urlsplit(self.path)
        if url.path != "/api/requests":
            return {"error": "not found"}, HTTPStatus.NOT_FOUND
        channels = parse_qs(url.query, keep_blank_values=True).get("channel")
        if channels is not None and not channels[-1]:
            # Never read an empty ?channel= as "everything".
            raise Refused(HTTPStatus.BAD_REQUEST, "name the channel to clear, or leave it out")
        return {"deleted": self.server.store.clear(channels and channels[-1])}, HTTPStatus.OK

    # Answering ----------------------------------------------------------------------

    def send_body(
        self, data: bytes, content_type: str, status: HTTPStatus, nonce: str | None = None
    ) -> None:
        send_hardened_head(
            self,
            status,
            data,
            content_type,
            # Only the page's own script and style run, and nothing is loaded from elsewhere.
            f"default-src 'self'; script-src {nonce_or_none(nonce)}; "
            f"style-src {nonce_or_none(nonce)}; img-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        )
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (a malformed request line, too many headers,
        an unknown method), as JSON with the same headers as every other answer."""
        self.close_connection = True
        try:
            status = HTTPStatus(code)
        except ValueError:
            status = HTTPStatus.BAD_REQUEST
        self.send_body(
            json.dumps({"error": message or status.phrase}).encode(), "application/json", status
        )

    def log_message(self, format: str, *args: Any) -> None:
        print(f"{self.address_string()} {format % args}", flush=True)


def serve(
    host: str,
    port: int,
    database: Path,
    max_body: int = DEFAULT_MAX_BODY_BYTES,
    allowed_hosts: Iterable[str] = (),
) -> None:
    """Serve until interrupted (SIGINT or SIGTERM)."""
    import signal

    store = RequestStore(database)
    server = InboxServer((host, port), store, max_body, allowed_hosts=allowed_hosts)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"inbox listening on http://{host}:{port}/ (requests kept in {database})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
