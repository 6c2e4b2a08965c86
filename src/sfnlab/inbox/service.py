"""Run the inbox in the background beside the embedded LocalStack; take it away for a
while (`outage`, `paused`), as a lesson on retries does."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

from sfnlab.errors import LearnerError, StartupFailed
from sfnlab.inbox.client import InboxClient, not_the_inbox
from sfnlab.inbox.client import inbox_address as address_of
from sfnlab.settings import Settings
from sfnlab.support import processes
from sfnlab.support.network import is_loopback, port_is_free
from sfnlab.support.polling import poll
from sfnlab.support.processes import ServiceRecord


def inbox_address(settings: Settings) -> tuple[str, int]:
    return address_of(settings.inbox_url)


def running_inbox(settings: Settings) -> ServiceRecord | None:
    return processes.running(settings.inbox_pid_file)


def ensure_inbox(settings: Settings, timeout: float = 15.0) -> ServiceRecord | None:
    """Make sure an inbox answers at SFNLAB_INBOX_URL; start ours if none does.

    Returns the record of the inbox we started (or had started), None for another one
    (in Docker, say).
    """
    client = InboxClient(settings.inbox_url)
    if client.health() is not None:
        return running_inbox(settings)
    host, port = inbox_address(settings)
    if not is_loopback(host):
        raise LearnerError(
            f"No inbox answers at {settings.inbox_url}, and the kit only starts one on this "
            "machine.",
            hint="Start it there, or point SFNLAB_INBOX_URL at http://127.0.0.1:<port>.",
        )
    if not port_is_free(host, port):
        raise not_the_inbox(settings.inbox_url, avoid=settings.port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    process, record = processes.start(
        "inbox",
        [
            sys.executable,
            "-m",
            "sfnlab.inbox",
            "--host",
            host,
            "--port",
            str(port),
            "--database",
            str(settings.inbox_database),
            # The name the kit and the Lambdas use for it (loopback names always pass).
            "--allow-host",
            urlsplit(settings.inbox_url).hostname or host,
        ],
        url=settings.inbox_url,
        env=env,
        cwd=settings.state_dir,
        log_file=settings.inbox_log,
        pid_file=settings.inbox_pid_file,
    )
    started = poll(lambda: process.poll() is not None or client.health() is not None, timeout)
    if not started or process.poll() is not None:
        processes.stop(record, settings.inbox_pid_file)
        raise StartupFailed(
            f"The inbox did not start. Its last lines:\n{processes.log_tail(settings.inbox_log)}\n",
            log_file=settings.inbox_log,
        )
    return record


def stop_inbox(settings: Settings) -> ServiceRecord | None:
    record = running_inbox(settings)
    if record is not None:
        processes.stop(record, settings.inbox_pid_file, timeout=5)
    return record


def kits_inbox(settings: Settings) -> ServiceRecord:
    """The inbox the kit started (only that one can be stopped or paused from here)."""
    record = running_inbox(settings)
    if record is None:
        raise LearnerError(
            f"The inbox at {settings.inbox_url} was not started by the kit (Docker Compose's, "
            "say), so the kit cannot stop or pause it.",
            hint="Use the inbox `sfnlab up` starts. With Docker Compose, make an outage by "
            "hand: `docker compose stop inbox`, then `docker compose start inbox`.",
        )
    return record


@contextlib.contextmanager
def outage(settings: Settings) -> Iterator[None]:
    """Stop the kit's inbox while the block runs: nothing answers on its port (connection
    refused). It starts again afterwards, come what may, with everything it stored."""
    kits_inbox(settings)
    stop_inbox(settings)
    try:
        yield
    finally:
        ensure_inbox(settings)


@contextlib.contextmanager
def paused(settings: Settings) -> Iterator[None]:
    """Pause the kit's inbox (SIGSTOP) while the block runs: the system still accepts
    connections on its port, and the requests wait there, unread, until it resumes
    (SIGCONT) afterwards and answers them."""
    record = kits_inbox(settings)
    os.kill(record.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(record.pid, signal.SIGCONT)
        ensure_inbox(settings)
