"""The embedded LocalStack: LocalStack 4.14 in host mode as a background process.

It runs from the kit's own virtualenv (see `runtime_env.py`), keeps every file inside the
state folder, binds to loopback, and runs Lambdas with the process executor. A pid file
records the process so that later commands can find, check and stop it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import psutil

from localstack_process_executor.bootstrap import LOG_FILE as RUNTIME_LOG_VARIABLE
from sfnlab import background
from sfnlab.background import ServiceRecord
from sfnlab.config import Settings
from sfnlab.endpoint import NotLocalStack, probe
from sfnlab.errors import StartupFailed
from sfnlab.polling import poll
from sfnlab.progress import step

EXECUTOR_NAME = "process"
# Settings of the learner's shell that would change what LocalStack does, or where its
# own AWS clients send requests, are not passed on.
DROPPED_PREFIXES = ("AWS_", "SFNLAB_", "VIRTUAL_ENV", "PYTHON")


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


def running_embedded(settings: Settings) -> ServiceRecord | None:
    """The embedded LocalStack started from this state folder, if it still runs."""
    return background.running(settings.pid_file)


def start(
    settings: Settings, python: Path, extra_environment: Mapping[str, str] | None = None
) -> ServiceRecord:
    """Start LocalStack in the background and return once it answers.

    `extra_environment` adds settings of its own (the grader's sandbox, say)."""
    for folder in ("filesystem", "tmp", "cache"):
        (settings.state_dir / folder).mkdir(parents=True, exist_ok=True)
    process, record = background.start(
        "LocalStack",
        [str(python), "-m", "localstack.runtime.main"],
        url=settings.endpoint,
        env={**localstack_environment(settings), **(extra_environment or {})},
        cwd=settings.state_dir,
        log_file=settings.log_file,
        pid_file=settings.pid_file,
    )
    try:
        with step(f"Starting LocalStack (embedded) at {settings.endpoint}", "LocalStack is ready"):
            wait_until_ready(settings, process)
    except BaseException:
        stop(settings, record)
        raise
    return record


def wait_until_ready(settings: Settings, process: subprocess.Popen) -> None:
    def ready() -> bool:
        if process.poll() is not None:
            raise StartupFailed(
                f"LocalStack exited during start-up (exit code {process.returncode}). "
                f"Its last lines:\n{background.log_tail(settings.log_file)}\n",
                hint="Fix what the log shows, then run `sfnlab up` again.",
                log_file=settings.log_file,
            )
        with contextlib.suppress(NotLocalStack):
            return probe(settings.endpoint, timeout=1.0) is not None
        return False

    if poll(ready, settings.startup_timeout, max_delay=0.1):
        return
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


def stop(settings: Settings, record: ServiceRecord, timeout: float = 15.0) -> int:
    """Stop LocalStack and everything it started; returns how many Lambda processes remained."""
    background.stop(
        record,
        settings.pid_file,
        timeout,
        lambda process, limit: wait_for_shutdown(process, settings, limit),
    )
    # Lambda processes follow LocalStack out by themselves (their lifeline closed);
    # whatever is still there after a moment is killed.
    leftovers = runtime_processes(settings)
    poll(lambda: all(background.has_exited(p) for p in leftovers), 3, max_delay=0.05)
    alive = [process for process in leftovers if not background.has_exited(process)]
    for straggler in alive:
        with contextlib.suppress(psutil.Error):
            straggler.kill()
    return len(alive)


SHUTDOWN_GRACE = 0.5  # seconds LocalStack gets after SIGTERM before it is killed


def wait_for_shutdown(process: psutil.Process, settings: Settings, timeout: float) -> bool:
    """Wait for LocalStack to exit after SIGTERM; False if it has to be killed.

    LocalStack 4.14 in host mode takes seconds to stop its services, then may hang at exit
    waiting for its own SQS and CloudWatch scheduler threads. Its state lives in memory
    only and its Lambda processes follow it out by themselves (their lifeline closes), so
    a short grace is all it gets: `sfnlab down` stays quick.
    """
    return background.wait_for_exit(process, min(timeout, SHUTDOWN_GRACE))
