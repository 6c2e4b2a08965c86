"""Bring LocalStack up, stop it, and say what is running: `sfnlab up/down/status/logs`.

`up` uses whatever LocalStack already answers at the endpoint (a `docker compose up` one
is used as is) and only otherwise starts the embedded one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sfnlab.deploy import remembered
from sfnlab.errors import LearnerError, LocalStackNotReachable, NotLocalStack, PortInUse
from sfnlab.explain import explained
from sfnlab.inbox.client import InboxClient, not_the_inbox
from sfnlab.inbox.service import ensure_inbox, inbox_address, stop_inbox
from sfnlab.localstack import embedded
from sfnlab.localstack.install import ensure_runtime_env
from sfnlab.localstack.log_view import readable_log
from sfnlab.localstack.probe import probe
from sfnlab.settings import Settings
from sfnlab.support import processes
from sfnlab.support.network import free_port_near, is_loopback, port_is_free
from sfnlab.support.processes import ServiceRecord
from sfnlab.support.progress import note, shown_path

EMBEDDED = "embedded"
EXTERNAL = "external"


@dataclass(frozen=True)
class Status:
    endpoint: str
    running: bool
    mode: str | None = None  # "embedded" or "external"
    version: str | None = None
    lambda_executor: str | None = None
    pid: int | None = None
    log_file: Path | None = None
    inbox_url: str | None = None
    inbox_running: bool = False
    # Not running: the embedded LocalStack that stopped without `sfnlab down`, if one did,
    # and when the last `sfnlab down` stopped one.
    crashed: ServiceRecord | None = None
    stopped_at: str | None = None

    def describe(self) -> str:
        if not self.running:
            text = f"No LocalStack is running at {self.endpoint}."
            if self.crashed:
                text += " " + crash_text(self.crashed)
            return text
        where = f"pid {self.pid}" if self.pid else "not started by sfnlab"
        text = f"LocalStack {self.version} is running at {self.endpoint} ({self.mode}, {where})."
        if self.inbox_running:
            text += f" The inbox is at {self.inbox_url}/"
        return text

    def rows(self) -> list[tuple[str, str]]:
        """What `sfnlab status` shows, row by row."""
        rows = [("endpoint", self.endpoint)]
        if self.running:
            rows.append(("running", "yes"))
            rows += [
                ("version", self.version or ""),
                ("mode", self.mode or ""),
                ("lambda executor", self.lambda_executor or ""),
            ]
            if self.pid:
                rows.append(("pid", str(self.pid)))
        elif self.crashed:
            rows.append(("running", "no: it crashed or was killed (not stopped by sfnlab down)"))
            rows.append(("pid", f"{self.crashed.pid} (gone)"))
        elif self.stopped_at:
            rows.append(("running", f"no: stopped by sfnlab down at {self.stopped_at}"))
        else:
            rows.append(("running", "no"))
        if self.log_file:
            rows.append(("log", str(shown_path(self.log_file))))
        rows.append(("inbox", f"{self.inbox_url}/ ({'up' if self.inbox_running else 'down'})"))
        return rows


def crash_text(record: ServiceRecord) -> str:
    return (
        f"The embedded LocalStack (pid {record.pid}) stopped without `sfnlab down`: it "
        f"crashed or was killed. Its log: {record.log_file}"
    )


def stopped_file(settings: Settings) -> Path:
    """Written by `sfnlab down`: tells a clean stop from a crash."""
    return settings.state_dir / "localstack-stopped.json"


def status(settings: Settings) -> Status:
    """What answers at the endpoint: nothing, the embedded LocalStack, or another one."""
    try:
        info = probe(settings.endpoint)
    except NotLocalStack as e:
        raise port_in_use(settings, e.detail) from None
    inbox = {
        "inbox_url": settings.inbox_url,
        "inbox_running": InboxClient(settings.inbox_url).health() is not None,
    }
    if info is None:
        crashed = processes.recorded(settings.pid_file)
        if crashed is not None and crashed.process() is not None:
            crashed = None  # alive, but not answering: starting, or stopping
        stopped = read_stopped(settings)
        return Status(
            settings.endpoint,
            running=False,
            log_file=settings.log_file if settings.log_file.exists() else None,
            crashed=crashed,
            stopped_at=None if crashed else stopped,
            **inbox,
        )
    record = embedded.running_embedded(settings)
    if record is not None:
        return Status(
            settings.endpoint,
            running=True,
            mode=EMBEDDED,
            version=info.version,
            lambda_executor=embedded.EXECUTOR_NAME,
            pid=record.pid,
            log_file=settings.log_file,
            **inbox,
        )
    return Status(
        settings.endpoint,
        running=True,
        mode=EXTERNAL,
        version=info.version,
        # LocalStack does not report its executor; Docker is its default.
        lambda_executor="set by that LocalStack (docker, unless configured otherwise)",
        **inbox,
    )


def read_stopped(settings: Settings) -> str | None:
    try:
        return str(json.loads(stopped_file(settings).read_text())["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def port_in_use(settings: Settings, detail: str) -> PortInUse:
    port = free_port_near(settings.host, settings.port, inbox_address(settings)[1])
    advice = (
        f" e.g. `export SFNLAB_ENDPOINT=http://127.0.0.1:{port}` (port {port} is free now), "
        "then `sfnlab up`; every shell you use the kit from needs that setting."
        if port
        else "."
    )
    return PortInUse(
        f"Port {settings.port} on {settings.host} is held by a program that is not "
        f"LocalStack ({detail}).",
        hint=f"Stop that program, or give the kit another port,{advice}",
    )


@contextlib.contextmanager
def one_at_a_time(settings: Settings) -> Iterator[None]:
    """Hold the state folder's lock: one `up` or `down` of it at a time.

    Two `sfnlab up` at once would each start a LocalStack and an inbox; only one of each
    gets the port and the pid file, and the other would run on, unrecorded, where no
    `sfnlab down` finds it. The lock goes with the process, however it ends.
    """
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_file(settings), os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            note(
                f"Waiting for another `sfnlab up` or `down` of {shown_path(settings.state_dir)} ..."
            )
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def lock_file(settings: Settings) -> Path:
    return settings.state_dir / "lifecycle.lock"


def up(settings: Settings) -> Status:
    """Make sure LocalStack and the inbox answer, starting the embedded ones if needed.

    After a restart (or a crash) LocalStack has forgotten what was deployed: `up` says so
    and deploys it again (see `remembered.restore`).
    """
    with one_at_a_time(settings):
        return up_alone(settings)


def up_alone(settings: Settings) -> Status:
    current = status(settings)
    if current.running:
        if not current.inbox_running:
            ensure_inbox(settings)
            current = status(settings)
        remembered.restore(settings)
        return current
    if not is_loopback(settings.host):
        raise LocalStackNotReachable(
            f"Nothing answers at {settings.endpoint}, and the embedded LocalStack only runs "
            "on this machine.",
            hint="Start LocalStack there, or point SFNLAB_ENDPOINT at http://127.0.0.1:<port>.",
        )
    if not port_is_free(settings.host, settings.port):
        raise port_in_use(settings, "it accepts no HTTP requests")
    check_inbox_port(settings, current)  # before anything starts, not after
    check_writable(settings)
    if current.crashed:
        note(crash_text(current.crashed) + ". Starting it again.")
    python = ensure_runtime_env(settings)
    embedded.start(settings, python)
    stopped_file(settings).unlink(missing_ok=True)
    ensure_inbox(settings)
    remembered.restore(settings)
    return status(settings)


def check_writable(settings: Settings) -> None:
    """Refuse a state folder the pid files and logs cannot go to, before anything starts."""
    folder = settings.state_dir
    if not os.access(folder, os.W_OK | os.X_OK):
        denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
        raise explained(denied, settings) or denied


def check_inbox_port(settings: Settings, current: Status) -> None:
    host, port = inbox_address(settings)
    if current.inbox_running or not is_loopback(host) or port_is_free(host, port):
        return
    raise not_the_inbox(settings.inbox_url, avoid=settings.port)


@dataclass(frozen=True)
class Stopped:
    message: str
    stopped: bool


def down(settings: Settings) -> Stopped:
    """Stop the embedded LocalStack, every process it started, and the inbox."""
    with one_at_a_time(settings):
        return down_alone(settings)


def down_alone(settings: Settings) -> Stopped:
    # Both at once: each takes a moment to exit.
    with ThreadPoolExecutor(1) as pool:
        stopping_inbox = pool.submit(stop_inbox, settings)
        crashed = processes.recorded(settings.pid_file)
        record = embedded.running_embedded(settings)
        leftovers = embedded.stop(settings, record) if record is not None else 0
        inbox = stopping_inbox.result()
    inbox_note = f" Stopped the inbox (pid {inbox.pid})." if inbox else ""
    if record is not None:
        stopped_file(settings).write_text(
            json.dumps({"pid": record.pid, "at": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n"
        )
        extra = f" ({leftovers} Lambda processes had to be killed)" if leftovers else ""
        return Stopped(
            f"Stopped the embedded LocalStack (pid {record.pid}){extra}.{inbox_note}", True
        )
    if crashed is not None:
        return Stopped(f"{crash_text(crashed)}. Nothing else to stop.{inbox_note}", bool(inbox))
    current = status(settings)
    if current.running:
        return Stopped(
            f"LocalStack at {settings.endpoint} was not started by sfnlab, so it was left "
            f"running. If it runs in Docker, stop it with `docker compose down`.{inbox_note}",
            bool(inbox),
        )
    if inbox:
        return Stopped(inbox_note.strip(), True)
    return Stopped(f"Nothing to stop: no LocalStack is running at {settings.endpoint}.", False)


def logs(settings: Settings, lines: int = 50, raw: bool = False) -> str:
    """The last `lines` lines of the embedded LocalStack's log.

    Unless `raw`, an execution reaching its Fail state (a rejection, say) reads as the
    expected outcome it is, not as a 2 KB ERROR (see `log_view`).
    """
    if not settings.log_file.exists():
        current = status(settings)
        if current.running and current.mode == EXTERNAL:
            raise LearnerError(
                f"LocalStack at {settings.endpoint} was not started by sfnlab, so its log is "
                "not here.",
                hint="If it runs in Docker: `docker compose logs localstack`.",
            )
        raise LearnerError(
            f"No log yet: the embedded LocalStack has not been started from {settings.state_dir}.",
            hint="Run `sfnlab up`.",
        )
    tail = processes.log_tail(settings.log_file, lines)
    return tail if raw else readable_log(tail)
