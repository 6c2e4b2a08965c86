"""Small web servers on free loopback ports, in the test's own process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sfnlab.inbox.server import InboxServer
from sfnlab.inbox.store import RequestStore

NOT_LOCALSTACK = b"<html>not LocalStack</html>"


@contextmanager
def web_page_server(status: int = 200, body: bytes = NOT_LOCALSTACK) -> Iterator[int]:
    """A web server that is neither LocalStack nor the inbox: it answers every GET with
    `status` and an HTML `body`; yields its port."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    # A short poll interval: shutting the server down waits for one.
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def inbox_server(database: Path, max_body: int = 256 * 1024) -> Iterator[str]:
    """A real inbox keeping its requests in `database`; yields its URL."""
    store = RequestStore(database)
    server = InboxServer(("127.0.0.1", 0), store, max_body)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        store.close()
