"""Bring LocalStack up, stop it, and say what is running: `sfnlab up/down/status/logs`.

`up` uses whatever LocalStack already answers at the endpoint (a `docker compose up` one
is used as is) and only otherwise starts the embedded one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sfnlab import background, embedded
from sfnlab.config import Settings, load_settings
from sfnlab.endpoint import NotLocalStack, is_loopback, port_is_free, probe
from sfnlab.errors import KitError, LocalStackNotReachable, PortInUse
from sfnlab.inbox.client import InboxClient
from sfnlab.inbox.service import ensure_inbox, stop_inbox
from sfnlab.runtime_env import ensure_runtime_env

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

    def describe(self) -> str:
        if not self.running:
            return f"No LocalStack is running at {self.endpoint}."
        where = f"pid {self.pid}" if self.pid else "not started by sfnlab"
        text = f"LocalStack {self.version} is running at {self.endpoint} ({self.mode}, {where})."
        if self.inbox_running:
            text += f" The inbox is at {self.inbox_url}/"
        return text


def status(settings: Settings | None = None) -> Status:
    """What answers at the endpoint: nothing, the embedded LocalStack, or another one."""
    settings = settings or load_settings()
    try:
        info = probe(settings.endpoint)
    except NotLocalStack as e:
        raise port_in_use(settings, str(e)) from None
    inbox = {
        "inbox_url": settings.inbox_url,
        "inbox_running": InboxClient(settings.inbox_url).health() is not None,
    }
    if info is None:
        return Status(settings.endpoint, running=False, **inbox)
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


def port_in_use(settings: Settings, detail: str) -> PortInUse:
    return PortInUse(
        f"Port {settings.port} on {settings.host} is held by a program that is not "
        f"LocalStack ({detail}).",
        hint="Stop that program, or use another port, e.g. "
        f"`SFNLAB_ENDPOINT=http://127.0.0.1:{settings.port + 1} sfnlab up`.",
    )


def up(settings: Settings | None = None) -> Status:
    """Make sure LocalStack and the inbox answer, starting the embedded ones if needed."""
    settings = settings or load_settings()
    current = status(settings)
    if current.running:
        if not current.inbox_running:
            ensure_inbox(settings)
            return status(settings)
        return current
    if not is_loopback(settings.host):
        raise LocalStackNotReachable(
            f"Nothing answers at {settings.endpoint}, and the embedded LocalStack only runs "
            "on this machine.",
            hint="Start LocalStack there, or point SFNLAB_ENDPOINT at http://127.0.0.1:<port>.",
        )
    if not port_is_free(settings.host, settings.port):
        raise port_in_use(settings, "it accepts no HTTP requests")
    python = ensure_runtime_env(settings)
    embedded.start(settings, python)
    ensure_inbox(settings)
    return status(settings)


@dataclass(frozen=True)
class Stopped:
    message: str
    stopped: bool


def down(settings: Settings | None = None) -> Stopped:
    """Stop the embedded LocalStack, every process it started, and the inbox."""
    settings = settings or load_settings()
    inbox = stop_inbox(settings)
    inbox_note = f" Stopped the inbox (pid {inbox.pid})." if inbox else ""
    record = embedded.running_embedded(settings)
    if record is not None:
        leftovers = embedded.stop(settings, record)
        extra = f" ({leftovers} Lambda processes had to be killed)" if leftovers else ""
        return Stopped(
            f"Stopped the embedded LocalStack (pid {record.pid}){extra}.{inbox_note}", True
        )
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


def logs(settings: Settings | None = None, lines: int = 50) -> str:
    """The last `lines` lines of the embedded LocalStack's log."""
    settings = settings or load_settings()
    if not settings.log_file.exists():
        current = status(settings)
        if current.running and current.mode == EXTERNAL:
            raise KitError(
                f"LocalStack at {settings.endpoint} was not started by sfnlab, so its log is "
                "not here.",
                hint="If it runs in Docker: `docker compose logs localstack`.",
            )
        raise KitError(
            f"No log yet: the embedded LocalStack has not been started from {settings.state_dir}.",
            hint="Run `sfnlab up`.",
        )
    return background.log_tail(settings.log_file, lines)
