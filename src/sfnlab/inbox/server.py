"""The inbox's HTTP server.

Built on the standard library's ThreadingHTTPServer: it parses HTTP for us, and for one
learner on loopback a web framework would add dependencies and nothing else.

    any POST/PUT to any path (but /api/...)   stored; answers {"id", "channel", ...}
    GET  /                                     the web page (?channel=NAME filters)
    GET  /api/requests?channel=&path=&since=&limit=   newest first, as JSON
    GET  /api/requests/ID                      one request
    DELETE /api/requests[?channel=NAME]        clear (one channel, or all)
    GET  /api/health                           {"status": "ok", "latest": ID}
"""

from __future__ import annotations

import json
import re
import secrets
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sfnlab.inbox.page import render_list, render_page
from sfnlab.inbox.store import RequestStore

DEFAULT_MAX_BODY_BYTES = 256 * 1024
REQUEST_PATH = re.compile(r"^/api/requests/(\d+)$")


class InboxServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: RequestStore, max_body: int) -> None:
        self.store = store
        self.max_body = max_body
        super().__init__(address, InboxHandler)


class InboxHandler(BaseHTTPRequestHandler):
    server: InboxServer
    server_version = "sfnlab-inbox"

    # Capturing ----------------------------------------------------------------------

    def do_POST(self) -> None:
        self.capture()

    def do_PUT(self) -> None:
        self.capture()

    def capture(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/api/"):
            self.send_json(
                {"error": "the /api/ paths are the inbox's own"}, HTTPStatus.METHOD_NOT_ALLOWED
            )
            return
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_json({"error": "send a Content-Length"}, HTTPStatus.LENGTH_REQUIRED)
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_json({"error": "Content-Length is not a number"}, HTTPStatus.BAD_REQUEST)
            return
        if length > self.server.max_body:
            self.close_connection = True  # the body is left unread
            self.send_json(
                {"error": f"body of {length} bytes is over the limit of {self.server.max_body}"},
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
            return
        body = self.rfile.read(length).decode("utf-8", "replace")
        stored = self.server.store.add(
            self.command,
            url.path,
            parse_qs(url.query, keep_blank_values=True),
            dict(self.headers.items()),
            body,
        )
        self.send_json(
            {"id": stored.id, "channel": stored.channel, "receivedAt": stored.received_at},
            HTTPStatus.OK,
        )

    # Reading ------------------------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        store = self.server.store
        if url.path == "/api/health":
            self.send_json({"status": "ok", "latest": store.latest_id()})
        elif url.path == "/api/requests":
            try:
                found = store.list(
                    channel=query.get("channel"),
                    path=query.get("path"),
                    since=int(query["since"]) if "since" in query else None,
                    limit=min(int(query.get("limit", 100)), 1000),
                )
            except ValueError:
                self.send_json({"error": "since and limit are numbers"}, HTTPStatus.BAD_REQUEST)
                return
            self.send_json({"requests": [request.to_dict() for request in found]})
        elif match := REQUEST_PATH.match(url.path):
            request = store.get(int(match.group(1)))
            if request is None:
                self.send_json({"error": "no such request"}, HTTPStatus.NOT_FOUND)
            else:
                self.send_json(request.to_dict())
        elif url.path == "/":
            nonce = secrets.token_urlsafe(16)
            channels = sorted({request.channel for request in store.list(limit=1000)})
            page = render_page(
                store.list(channel=query.get("channel")), store.latest_id(), channels, nonce
            )
            self.send_html(page, nonce)
        elif url.path == "/fragment":
            self.send_html(render_list(store.list(channel=query.get("channel"))), None)
        else:
            self.send_json({"error": "not found"}, HTTPStatus.NOT_FOUND)

    def do_DELETE(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/api/requests":
            self.send_json({"error": "not found"}, HTTPStatus.NOT_FOUND)
            return
        channel = parse_qs(url.query).get("channel", [None])[-1]
        self.send_json({"deleted": self.server.store.clear(channel)})

    # Answering ----------------------------------------------------------------------

    def send_json(self, body: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_body(json.dumps(body).encode(), "application/json", status)

    def send_html(self, page: str, nonce: str | None) -> None:
        self.send_body(page.encode(), "text/html; charset=utf-8", HTTPStatus.OK, nonce)

    def send_body(
        self, data: bytes, content_type: str, status: HTTPStatus, nonce: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        # Only the page's own script and style run, and nothing is loaded from elsewhere.
        sources = f"'nonce-{nonce}'" if nonce else "'none'"
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'self'; script-src {sources}; style-src {sources}; img-src 'self'",
        )
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        print(f"{self.address_string()} {format % args}", flush=True)


def serve(host: str, port: int, database: Path, max_body: int = DEFAULT_MAX_BODY_BYTES) -> None:
    """Serve until interrupted (SIGINT or SIGTERM)."""
    import signal

    store = RequestStore(database)
    server = InboxServer((host, port), store, max_body)

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
