"""The embedded LocalStack: LocalStack 4.14 in host mode as a background process.

It runs from the kit's own virtualenv (see `runtime_env.py`), keeps every file inside the
state folder, binds to loopback, and runs Lambdas with the process executor. A pid file
records the process so that later commands can find, check and stop it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import psutil

from localstack_process_executor.bootstrap import LOG_FILE as RUNTIME_LOG_VARIABLE
from sfnlab.config import Settings
from sfnlab.endpoint import NotLocalStack, accepts_connections, probe
from sfnlab.errors import StartupFailed
from sfnlab.progress import step

EXECUTOR_NAME = "process"
# Settings of the learner's shell that would change what LocalStack does, or where its
# own AWS clients send requests, are not passed on.
DROPPED_PREFIXES = ("AWS_", "SFNLAB_", "VIRTUAL_ENV", "PYTHON")


@dataclass(frozen=True)
class EmbeddedProcess:
    pid: int
    create_time: float
    endpoint: str
    log_file: str
    python: str

    def process(self) -> psutil.Process | None:
        """The running process, if it is still this one (pids get reused)."""
        try:
            process = psutil.Process(self.pid)
            if abs(process.create_time() - self.create_time) > 0.05:
                return None
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            return process
        except psutil.Error:
            return None


def localstack_environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_PREFIXES)}
    bind_host = "127.0.0.1" if settings.host == "localhost" else settings.host
    env.update(
        {
            "GATEWAY_LISTEN": f"{bind_host}:{settings.port}",
            # URLs LocalStack hands out (queue URLs, ...) point back at the same address.
            "LOCALSTACK_HOST": f"{bind_host}:{settings.port}",
            "LAMBDA_RUNTIME_EXECUTOR": EXECUTOR_NAME,
            # All state inside the state folder, nothing under /var/lib or $HOME.
            "FILESYSTEM_ROOT": str(settings.state_dir / "filesystem"),
            "TMP": str(settings.state_dir / "tmp"),  # Lambda code (TMPDIR is a LocalStack setting)
            "XDG_CACHE_HOME": str(settings.state_dir / "cache"),
            # Host mode: no DNS server (port 53) and no Docker, even where /.dockerenv exists.
            "DNS_ADDRESS": "0",
            "OVERRIDE_IN_DOCKER": "0",
            # Nothing is downloaded at run time: the self-signed certificate will do, and
            # no usage events are sent.
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
        }
    )
    return env


def read_pid_file(settings: Settings) -> EmbeddedProcess | None:
    try:
        return EmbeddedProcess(**json.loads(settings.pid_file.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def running_embedded(settings: Settings) -> EmbeddedProcess | None:
    """The embedded LocalStack started from this state folder, if it still runs."""
    record = read_pid_file(settings)
    if record is None:
        return None
    if record.process() is None:
        settings.pid_file.unlink(missing_ok=True)  # stale: that process is gone
        return None
    return record


def log_tail(log_file: Path, lines: int = 15) -> str:
    try:
        text = log_file.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def start(settings: Settings, python: Path) -> EmbeddedProcess:
    """Start LocalStack in the background and return once it answers."""
    for folder in ("filesystem", "tmp", "cache"):
        (settings.state_dir / folder).mkdir(parents=True, exist_ok=True)
    with settings.log_file.open("ab") as log:
        log.write(
            f"\n--- sfnlab up at {datetime.now().isoformat(timespec='seconds')} ---\n".encode()
        )
        log.flush()
        process = subprocess.Popen(
            [str(python), "-m", "localstack.runtime.main"],
            env=localstack_environment(settings),
            cwd=settings.state_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so `down` stops all it started
        )
    record = EmbeddedProcess(
        pid=process.pid,
        create_time=psutil.Process(process.pid).create_time(),
        endpoint=settings.endpoint,
        log_file=str(settings.log_file),
        python=str(python),
    )
    settings.pid_file.write_text(json.dumps(asdict(record)) + "\n")
    try:
        with step(f"Starting LocalStack (embedded) at {settings.endpoint}", "LocalStack is ready"):
            wait_until_ready(settings, process)
    except BaseException:
        stop(settings, record)
        raise
    return record


def wait_until_ready(settings: Settings, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + settings.startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartupFailed(
                f"LocalStack exited during start-up (exit code {process.returncode}). "
                f"Its last lines:\n{log_tail(settings.log_file)}\n",
                hint="Fix what the log shows, then run `sfnlab up` again.",
                log_file=settings.log_file,
            )
        with contextlib.suppress(NotLocalStack):
            if probe(settings.endpoint, timeout=1.0) is not None:
                return
        time.sleep(0.1)
    raise StartupFailed(
        f"LocalStack did not become ready within {settings.startup_timeout:.0f} s.",
        hint="The machine may be busy: raise SFNLAB_STARTUP_TIMEOUT, or look at the log.",
        log_file=settings.log_file,
    )


def runtime_processes(settings: Settings) -> list[psutil.Process]:
    """Lambda runtime processes started by an embedded LocalStack of this state folder."""
    marker = str(settings.state_dir)
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.environ().get(RUNTIME_LOG_VARIABLE, "").startswith(marker):
                found.append(process)
    return found


def stop(settings: Settings, record: EmbeddedProcess, timeout: float = 15.0) -> int:
    """Stop LocalStack and everything it started; returns how many Lambda processes remained."""
    process = record.process()
    if process is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record.pid, signal.SIGTERM)  # LocalStack stops its services
        if not wait_for_shutdown(process, settings, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(record.pid, signal.SIGKILL)
            with contextlib.suppress(psutil.Error):
                process.wait(timeout=5)
    # Lambda processes follow LocalStack out by themselves (their lifeline closed);
    # whatever is still there after a moment is killed.
    leftovers = runtime_processes(settings)
    _, alive = psutil.wait_procs(leftovers, timeout=3)
    for straggler in alive:
        with contextlib.suppress(psutil.Error):
            straggler.kill()
    settings.pid_file.unlink(missing_ok=True)
    return len(alive)


def wait_for_shutdown(process: psutil.Process, settings: Settings, timeout: float) -> bool:
    """Wait for LocalStack to exit after SIGTERM; False if it has to be killed.

    In host mode LocalStack 4.14 stops its services and its server, then may hang at exit
    waiting for its own SQS and CloudWatch scheduler threads. Its state lives in memory
    only, so once the server has closed its port, a short grace is all it gets.
    """
    deadline = time.monotonic() + timeout
    closed_at: float | None = None
    while time.monotonic() < deadline:
        try:
            process.wait(timeout=0.1)
            return True
        except psutil.TimeoutExpired:
            pass
        except psutil.NoSuchProcess:
            return True
        if closed_at is None and not accepts_connections(settings.host, settings.port):
            closed_at = time.monotonic()
        if closed_at is not None and time.monotonic() - closed_at > 1.0:
            return False
    return False
