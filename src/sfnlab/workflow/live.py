"""`sfnlab graph --watch`: the workflow picture as a page that updates itself.

A small HTTP server of the kit's own (standard library, loopback only) serves one page;
the page's script asks for the picture again each second and swaps it in when it
changed, so a learner watches an execution wait at the review and move on once they
approve, without reloading. It runs beside the kit rather than in the inbox: drawing
needs the Step Functions API, and the inbox (standard library only, in Docker without an
AWS client) has none. While it runs it also keeps the inbox's review marks current
(`review_marks`).

    GET /            the page (?execution=NAME or ARN; ?machine=NAME; neither: the latest
                     execution of the machine, switching to each new one as it starts)
    GET /fragment    {"version": ..., "html": ...}: the page's body, drawn now
    GET /api/health  {"status": "ok"}

Like the inbox, it answers only requests that name it by a loopback address (no page of
another site reaches it through DNS rebinding), may not be framed, and runs no script
but its own.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import secrets
import threading
import traceback
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from sfnlab.errors import PortInUse
from sfnlab.exercise import STATE_MACHINE_NAME
from sfnlab.inbox.guard import Refused, checked_host
from sfnlab.inbox.server import nonce_or_none, send_hardened_head
from sfnlab.settings import Settings
from sfnlab.workflow.picture_page import live_page, page_body, problem_body

LOG = logging.getLogger(__name__)
HOST = "127.0.0.1"
DEFAULT_PORT = 4568
MARKS_EVERY = 1.0  # seconds between two rounds of review marks
MAX_NAME = 256  # characters of an execution's or a machine's name or ARN in a query


class LivePicture:
    """Draws the picture the page shows, again only when its execution's history grew: a
    refresh of an unchanged execution costs one history request (newest event first; AWS
    sends just that one, LocalStack 4.14 all of them), of one that has ended none."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ended: dict[str, str] = {}  # ARN -> the body drawn after it ended
        self.drawn: dict[str, tuple[int, str]] = {}  # ARN -> (its last event's id, body)

    def body(self, execution: str | None, machine: str) -> str:
        try:
            return self.draw(execution, machine)
        except Exception as error:
            from sfnlab.explain import explained

            reported = explained(error, self.settings)
            if reported is None:  # the kit's own failure: its traceback helps
                LOG.error("drawing the picture failed:\n%s", traceback.format_exc())
                return problem_body(f"The kit failed to draw the picture: {error!r}")
            return problem_body(str(reported))

    def draw(self, execution: str | None, machine: str) -> str:
        from sfnlab.workflow import executions
        from sfnlab.workflow.graph import graph

        if execution is None:
            latest = executions.latest(self.settings, count=1, machine=machine)
            if not latest:
                return page_body(graph(self.settings, None, machine))
            execution = latest[0]["executionArn"]
        arn = executions.execution_arn(self.settings, execution, machine)
        if arn in self.ended:
            return self.ended[arn]
        last = self.last_event(arn)
        if last is not None and self.drawn.get(arn, (None, ""))[0] == last:
            return self.drawn[arn][1]
        picture = graph(self.settings, arn, machine)
        body = page_body(picture)
        if picture.execution is not None and picture.execution.ended:
            self.ended[arn] = body
        elif last is not None:
            self.drawn[arn] = (last, body)
        return body

    def last_event(self, arn: str) -> int | None:
        """The id of the execution's newest event (None when it has none, or is gone)."""
        from sfnlab.support.aws import client

        sfn = client("stepfunctions", self.settings)
        try:
            events = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)[
                "events"
            ]
        except sfn.exceptions.ExecutionDoesNotExist:
            return None  # drawing it says so
        return events[0]["id"] if events else None


def version_of(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


class PictureServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        settings: Settings,
        port: int,
        execution: str | None = None,
        machine: str = STATE_MACHINE_NAME,
        marks: bool = True,
    ) -> None:
        self.settings = settings
        self.execution, self.machine = execution, machine
        self.picture = LivePicture(settings)
        self.stopping = threading.Event()
        self.marks = marks
        try:
            super().__init__((HOST, port), PictureHandler)
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            raise PortInUse(
                f"Port {port} on {HOST}, for the live picture, is taken by another program "
                "(another `sfnlab graph --watch`, maybe).",
                hint=f"Stop it, or choose another port: `sfnlab graph --watch --port {port + 1}`.",
            ) from None

    @property
    def url(self) -> str:
        query = []
        if self.execution:
            query.append(f"execution={quote(self.execution, safe='')}")
        if self.machine != STATE_MACHINE_NAME:
            query.append(f"machine={quote(self.machine, safe='')}")
        return f"http://{HOST}:{self.server_address[1]}/" + ("?" + "&".join(query) if query else "")

    def keep_marks(self) -> None:
        """Post the inbox's review marks each MARKS_EVERY seconds until stopped."""
        from sfnlab.workflow.review_marks import MarkKeeper

        keeper = MarkKeeper(self.settings)
        said = None
        while not self.stopping.wait(MARKS_EVERY):
            try:
                keeper.publish()
                said = None
            except Exception as error:  # the inbox or LocalStack away: try again later
                if str(error) != said:
                    LOG.info("review marks not posted: %s", error)
                    said = str(error)

    def server_close(self) -> None:
        self.stopping.set()
        super().server_close()


class PictureHandler(BaseHTTPRequestHandler):
    server: PictureServer
    server_version = "sfnlab-picture"

    def do_GET(self) -> None:
        try:
            try:
                checked_host(self.headers, frozenset())
            except Refused as refused:
                port = self.server.server_address[1]
                message = f"the live picture answers at http://{HOST}:{port}/ only"
                raise Refused(refused.status, message) from None
            url = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(url.query).items()}
            execution = name_in(query, "execution") or self.server.execution
            machine = name_in(query, "machine") or self.server.machine
            if url.path == "/":
                nonce = secrets.token_urlsafe(16)
                body = self.server.picture.body(execution, machine)
                page = live_page(body, version_of(body), nonce)
                self.send(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8", nonce)
            elif url.path == "/fragment":
                body = self.server.picture.body(execution, machine)
                self.send_json(HTTPStatus.OK, {"version": version_of(body), "html": body})
            elif url.path == "/api/health":
                self.send_json(HTTPStatus.OK, {"status": "ok"})
            else:
                self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
        except Refused as refused:
            self.send_json(refused.status, {"error": refused.message})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (another method than GET, a malformed
        request), as JSON with the same headers as every other answer."""
        self.close_connection = True
        try:
            status = HTTPStatus(code)
        except ValueError:
            status = HTTPStatus.BAD_REQUEST
        self.send_json(status, {"error": message or status.phrase})

    def send_json(self, status: HTTPStatus, body: Any) -> None:
        self.send(status, json.dumps(body).encode(), "application/json")

    def send(self, status: HTTPStatus, data: bytes, kind: str, nonce: str | None = None) -> None:
        sources = nonce_or_none(nonce)
        send_hardened_head(
            self,
            status,
            data,
            kind,
            f"default-src 'none'; script-src {sources}; style-src {sources}; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        )
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("%s %s", self.address_string(), format % args)


def name_in(query: dict[str, str], key: str) -> str | None:
    """An execution's or machine's name (or ARN) from the query; Refused if unreadable."""
    value = query.get(key, "").strip()
    if not value:
        return None
    if len(value) > MAX_NAME or any(ord(c) < 32 for c in value):
        raise Refused(HTTPStatus.BAD_REQUEST, f"{key} must be a name or an ARN")
    return value


@contextlib.contextmanager
def running(
    settings: Settings,
    execution: str | None = None,
    machine: str = STATE_MACHINE_NAME,
    port: int = DEFAULT_PORT,
    marks: bool = True,
) -> Iterator[PictureServer]:
    """The live picture served in the background (and the marks kept) until the end."""
    server = PictureServer(settings, port, execution, machine, marks)
    threads = [threading.Thread(target=server.serve_forever, daemon=True)]
    if marks:
        threads.append(threading.Thread(target=server.keep_marks, daemon=True))
    for thread in threads:
        thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        for thread in threads:
            thread.join(timeout=5)


def watch(
    settings: Settings,
    execution: str | None = None,
    machine: str = STATE_MACHINE_NAME,
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
) -> None:
    """Serve the live picture until interrupted (Ctrl-C, or SIGTERM)."""
    import signal
    import webbrowser

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    with running(settings, execution, machine, port) as server:
        print(f"The live picture: {server.url}  (Ctrl-C stops it)", flush=True)
        if open_browser:
            webbrowser.open(server.url)
        with contextlib.suppress(KeyboardInterrupt):
            server.stopping.wait()
