"""Services the kit runs in the background (LocalStack, the inbox): start, find, stop.

Each runs in a process group of its own, so stopping it stops everything it started. A
pid file in the state folder records it, with its start time, so that a pid the system
has since given to another program is never mistaken for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import psutil

from sfnlab.support.polling import poll


@dataclass(frozen=True)
class ServiceRecord:
    name: str
    pid: int
    create_time: float
    url: str
    log_file: str

    def process(self) -> psutil.Process | None:
        """The running process, if it is still this one."""
        try:
            process = psutil.Process(self.pid)
            if abs(process.create_time() - self.create_time) > 0.05:
                return None
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            return process
        except psutil.Error:
            return None


def start(
    name: str,
    command: list[str],
    *,
    url: str,
    env: dict[str, str],
    cwd: Path,
    log_file: Path,
    pid_file: Path,
    pass_fds: tuple[int, ...] = (),
) -> tuple[subprocess.Popen, ServiceRecord]:
    """Start `command` in the background, its output appended to `log_file` (`pass_fds`
    go with it, as `subprocess.Popen`'s)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        started = datetime.now().isoformat(timespec="seconds")
        log.write(f"\n--- sfnlab starting {name} at {started} ---\n".encode())
        log.flush()
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=pass_fds,
        )
    record = ServiceRecord(
        name=name,
        pid=process.pid,
        create_time=psutil.Process(process.pid).create_time(),
        url=url,
        log_file=str(log_file),
    )
    try:
        pid_file.write_text(json.dumps(asdict(record)) + "\n")
    except OSError:
        # Unrecorded, it would run on where no `sfnlab down` finds it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    return process, record


def recorded(pid_file: Path) -> ServiceRecord | None:
    """The service recorded in `pid_file`, whether or not it still runs."""
    try:
        return ServiceRecord(**json.loads(pid_file.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def running(pid_file: Path) -> ServiceRecord | None:
    """The service recorded in `pid_file`, if it still runs (a stale file is removed)."""
    record = recorded(pid_file)
    if record is None:
        return None
    if record.process() is None:
        pid_file.unlink(missing_ok=True)
        return None
    return record


def stop(
    record: ServiceRecord,
    pid_file: Path,
    timeout: float = 10.0,
    exited: Callable[[psutil.Process, float], bool] | None = None,
) -> None:
    """SIGTERM the service's process group; SIGKILL it if it has not exited in time.

    `exited(process, timeout)` may decide sooner that waiting longer is pointless.
    """
    process = record.process()
    if process is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record.pid, signal.SIGTERM)
        if not (exited or wait_for_exit)(process, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(record.pid, signal.SIGKILL)
            wait_for_exit(process, 5)
    pid_file.unlink(missing_ok=True)


def wait_for_exit(process: psutil.Process, timeout: float) -> bool:
    """Whether `process` exits within `timeout` seconds.

    An exited process that nobody has reaped yet (a zombie: its parent, `sfnlab up`, is
    long gone) counts as exited; `psutil.Process.wait` would wait for the reaping.
    """
    return poll(lambda: has_exited(process), timeout, max_delay=0.05)


def has_exited(process: psutil.Process) -> bool:
    try:
        if process.status() != psutil.STATUS_ZOMBIE:
            return False
    except psutil.NoSuchProcess:
        return True
    # This process's own child (in the tests, a notebook) is reaped here, once all its
    # threads are gone too; any other zombie is its parent's to reap.
    try:
        reaped, _ = os.waitpid(process.pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return reaped == process.pid


def log_tail(log_file: Path, lines: int = 15) -> str:
    try:
        text = log_file.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
