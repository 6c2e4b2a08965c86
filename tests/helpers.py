"""Small helpers for tests: ports, settings of a separate LocalStack, zips, invoking."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import textwrap
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sfnlab.settings import Settings, load_settings
from sfnlab.support.polling import poll


def javascript_node_or_skip() -> str:
    """The `node` on PATH if it can run the exercise's JavaScript Lambdas (Node.js 20 or
    newer); else the test is skipped, saying what it found."""
    import pytest

    from localstack_process_executor import node_finder

    node = shutil.which("node")
    version = node_finder.probe(node) if node else None
    if version is None or version[0] < node_finder.MINIMUM_NODE:
        found = f"{node}, Node.js {version[0]}.{version[1]}" if version else node or "no `node`"
        pytest.skip(
            f"the JavaScript Lambdas need Node.js {node_finder.MINIMUM_NODE} or newer on PATH "
            f"(found {found}); install it from https://nodejs.org or your package manager"
        )
    return node


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(
    state_dir: Path, port: int | None = None, inbox_port: int | None = None
) -> Settings:
    """Settings of a separate embedded LocalStack and inbox: own state folder and ports."""
    environ = dict(os.environ)
    environ["SFNLAB_STATE_DIR"] = str(state_dir)
    environ["SFNLAB_ENDPOINT"] = f"http://127.0.0.1:{port or free_port()}"
    environ["SFNLAB_INBOX_URL"] = f"http://127.0.0.1:{inbox_port or free_port()}"
    environ.pop("SFNLAB_LAMBDA_INBOX_URL", None)
    return load_settings(environ)


def zip_files(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()


def invoke(lambda_client, name: str, event: object = None, **kwargs) -> dict:
    """Invoke synchronously; returns the response with `Payload` parsed from JSON."""
    response = lambda_client.invoke(
        FunctionName=name, Payload=json.dumps(event if event is not None else {}), **kwargs
    )
    response["Payload"] = json.loads(response["Payload"].read() or b"null")
    return response


def wait_for(condition, timeout: float = 10.0):
    """Poll `condition` until it is true or `timeout` seconds pass (the kit's own poll)."""
    return poll(condition, timeout, max_delay=0.1)


@contextmanager
def web_page_server() -> Iterator[int]:
    """A web server that is not LocalStack, on a free loopback port; yields the port."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>not LocalStack</html>")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def inbox_server(database: Path, max_body: int = 256 * 1024) -> Iterator[str]:
    """A real inbox on a free loopback port, in this process; yields its URL."""
    from sfnlab.inbox.server import InboxServer
    from sfnlab.inbox.store import RequestStore

    store = RequestStore(database)
    server = InboxServer(("127.0.0.1", 0), store, max_body)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        store.close()
