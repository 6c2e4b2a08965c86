"""The embedded LocalStack: LocalStack 4.14 in host mode as a background process.

It runs from the kit's own virtualenv (see `install.py`), keeps every file inside the
state folder, binds to loopback, and runs Lambdas with the process executor. A pid file
records the process so that later commands can find, check and stop it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import psutil

from localstack_process_executor import config as executor_config
from localstack_process_executor.bootstrap import LOG_FILE as RUNTIME_LOG_VARIABLE
from localstack_process_executor.process_tree import kill_tree
from sfnlab.errors import LearnerError, NotLocalStack, StartupFailed
from sfnlab.localstack import service_catalog
from sfnlab.localstack.install import nodejs_sdk_folder
from sfnlab.localstack.probe import probe
from sfnlab.settings import Settings
from sfnlab.support import processes
from sfnlab.support.polling import poll
from sfnlab.support.processes import ServiceRecord
from sfnlab.support.progress import step

EXECUTOR_NAME = "process"
SERVICES = (
    "apigateway",  # the approval page behind the reviewers' links
    "cloudformation",
    "cloudwatch",
    "events",
    "iam",
    "lambda",
    "logs",
    "s3",
    "sqs",
    "ssm",
    "stepfunctions",
    "sts",
)
# Settings of the learner's shell that would change what LocalStack does, or where its
# own AWS clients send requests, are not passed on.
DROPPED_PREFIXES = ("AWS_", "SFNLAB_", "VIRTUAL_ENV", "PYTHON")
# An idle Lambda environment (a process) is stopped after a minute, not LocalStack's ten:
# a laptop's memory matters more than the ~0.1 s a cold start costs.
KEEPALIVE = executor_config.NumberSetting("LAMBDA_KEEPALIVE_MS", 60_000, 0, 24 * 3600 * 1000)
# What a learner may set for the embedded LocalStack's Lambdas, checked before it starts.
NUMBER_SETTINGS = (KEEPALIVE, *executor_config.NUMBER_SETTINGS)
# The LocalStack this process last started for each state folder (by its pid file): how
# it ended is known only to its parent.
_started: dict[Path, subprocess.Popen] = {}


def check_settings(environ: dict[str, str]) -> None:
    """Refuse numeric Lambda settings LocalStack could not use as they are."""
    problems = [problem for s in NUMBER_SETTINGS if (problem := s.read(environ)[1])]
    if problems:
        raise LearnerError(
            "The embedded LocalStack was not started: " + "; ".join(problems) + ".",
            hint="Fix or unset those variables, then run `sfnlab up` again.",
        )


def localstack_environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_PREFIXES)}
    check_settings(env)
    bind_host = "127.0.0.1" if settings.host == "localhost" else settings.host
    env.setdefault(KEEPALIVE.name, str(int(KEEPALIVE.default)))
    # Only the services the kit uses: others (DynamoDB, Kinesis, OpenSearch, ...) would
    # download and start servers of their own, which may listen beyond loopback.
    env.setdefault("SERVICES", ",".join(SERVICES))
    # LocalStack's calls between its own services (Step Functions invoking a Lambda, a
    # Lambda's logs) go straight to its gateway rather than over HTTP to itself: about a
    # third less of its CPU under load, and no socket per call (benchmarks/load.py).
    env.setdefault("IN_MEMORY_CLIENT", "1")
    # The AWS SDK for JavaScript Node.js functions are given is installed on first use into
    # the kit's folder, once for every LocalStack (as LocalStack's own virtualenv is).
    env.setdefault("PROCESS_EXECUTOR_NODE_SDK_DIR", str(nodejs_sdk_folder(settings)))
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


def raise_descriptor_limit() -> None:
    """Raise the soft limit on open files to the hard limit, for LocalStack to inherit.

    Desktops often default to 1,024 (macOS to 256) while allowing far more.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65_536 if hard == resource.RLIM_INFINITY else min(hard, 65_536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def leftover_folders(settings: Settings) -> list[Path]:
    """Lambda code and process folders an earlier LocalStack of this state folder left."""
    found = [p for p in (settings.state_dir / "tmp" / "lambda").glob("*/*") if p.is_dir()]
    for folder in (settings.state_dir / "filesystem").glob("**/process-executor/processes"):
        found.extend(p for p in folder.iterdir() if p.is_dir())
    return found


def remove_leftovers(settings: Settings) -> int:
    """Remove what earlier LocalStacks left (call only while none runs); how many."""
    folders = leftover_folders(settings)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return len(folders)


class Namespace(Protocol):
    """Somewhere else to run LocalStack: the grading stack's network of its own, say."""

    pass_fds: tuple[int, ...]  # what `enter`'s command needs passed on

    def enter(self, command: list[str]) -> list[str]:
        """`command`, run in there."""
        ...


def running_embedded(settings: Settings) -> ServiceRecord | None:
    """The embedded LocalStack started from this state folder, if it still runs."""
    return processes.running(settings.pid_file)


def start(
    settings: Settings,
    python: Path,
    extra_environment: Mapping[str, str] | None = None,
    inside: Namespace | None = None,
) -> ServiceRecord:
    """Start LocalStack in the background and return once it answers.

    `extra_environment` adds settings of its own (the grader's sandbox, say); `inside`
    runs it in a namespace (its endpoint must then lead in there)."""
    environment = {**localstack_environment(settings), **(extra_environment or {})}
    for folder in ("filesystem", "tmp", "cache"):
        (settings.state_dir / folder).mkdir(parents=True, exist_ok=True)
    service_catalog.link(settings, python)
    if running_embedded(settings) is None:
        remove_leftovers(settings)
    raise_descriptor_limit()
    command = [str(python), "-m", "localstack.runtime.main"]
    process, record = processes.start(
        "LocalStack",
        inside.enter(command) if inside else command,
        pass_fds=inside.pass_fds if inside else (),
        url=settings.endpoint,
        env=environment,
        cwd=settings.state_dir,
        log_file=settings.log_file,
        pid_file=settings.pid_file,
    )
    _started[settings.pid_file] = process
    try:
        with step(f"Starting LocalStack (embedded) at {settings.endpoint}", "LocalStack is ready"):
            wait_until_ready(settings, process)
    except BaseException:
        stop(settings, record)
        raise
    return record


def exit_status(settings: Settings) -> int | None:
    """How the LocalStack this process started for `settings` ended: its exit status, or
    minus the signal that killed it; None while it runs, or if another process started it.
    Ask before stopping it: whoever reaps it first learns how it ended."""
    process = _started.get(settings.pid_file)
    return process.poll() if process else None


def wait_until_ready(settings: Settings, process: subprocess.Popen) -> None:
    def ready() -> bool:
        if process.poll() is not None:
            raise StartupFailed(
                f"LocalStack exited during start-up (exit code {process.returncode}). "
                f"Its last lines:\n{processes.log_tail(settings.log_file)}\n",
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
    state_dir = settings.state_dir.resolve()
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            log_file = process.environ().get(RUNTIME_LOG_VARIABLE)
            # A path-component match: state1's processes are not state10's.
            if log_file and Path(log_file).resolve().is_relative_to(state_dir):
                found.append(process)
    return found


def stop(settings: Settings, record: ServiceRecord, timeout: float = 15.0) -> int:
    """Stop LocalStack and everything it started; returns how many Lambda processes remained."""
    processes.stop(
        record,
        settings.pid_file,
        timeout,
        lambda process, limit: wait_for_shutdown(process, settings, limit),
    )
    # Lambda processes follow LocalStack out by themselves (their lifeline closed, and each
    # environment's keeper takes down all it holds); whatever is still there after a moment
    # is killed, with everything below it.
    leftovers = runtime_processes(settings)
    poll(lambda: all(processes.has_exited(p) for p in leftovers), 3, max_delay=0.05)
    alive = [process for process in leftovers if not processes.has_exited(process)]
    for straggler in alive:
        with contextlib.suppress(psutil.Error):
            if straggler.is_running():
                kill_tree(straggler.pid)
    return len(alive)


SHUTDOWN_GRACE = 0.5  # seconds LocalStack gets after SIGTERM before it is killed


def wait_for_shutdown(process: psutil.Process, settings: Settings, timeout: float) -> bool:
    """Wait for LocalStack to exit after SIGTERM; False if it has to be killed.

    LocalStack 4.14 in host mode takes seconds to stop its services, then may hang at exit
    waiting for its own SQS and CloudWatch scheduler threads. Its state lives in memory
    only and its Lambda processes follow it out by themselves (their lifeline closes), so
    a short grace is all it gets: `sfnlab down` stays quick.
    """
    return processes.wait_for_exit(process, min(timeout, SHUTDOWN_GRACE))
