"""Runtime processes, and a spare one per interpreter kept ready for the next cold start.

Starting Python and importing the runtime's modules is most of a cold start. So a
process is started before it is needed and waits, fully loaded, for its assignment: the
function's environment variables and code folder. Once assigned it behaves exactly as a
process started for that function would: its environment is replaced wholesale and, as
it runs with `-I`, no `PYTHON*` variable could have changed how the interpreter started.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import signal
import socket
import subprocess
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from localstack_process_executor import bootstrap, config, sandbox
from localstack_process_executor.interpreters import Interpreter

LOG = logging.getLogger(__name__)

BOOTSTRAP = Path(bootstrap.__file__).resolve()


@dataclass
class RuntimeProcess:
    """A started bootstrap process; `assign()` turns it into a function's environment."""

    process: subprocess.Popen
    interpreter: Interpreter
    port: int
    folder: Path
    lifeline: int  # write end: closing it (or our exit) ends the process group
    assignment: int | None  # write end of the pipe the assignment is sent through

    @property
    def log_path(self) -> Path:
        return self.folder / "output.log"

    @property
    def tmp_dir(self) -> Path:
        return self.folder / "tmp"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def base_environment(self) -> dict[str, str]:
        return base_environment(self.interpreter, self.tmp_dir)

    def assign(self, environment: dict[str, str], task_root: str) -> None:
        if self.assignment is None:
            raise RuntimeError(f"Process {self.pid} was already assigned")
        if config.PROCESS_EXECUTOR_SANDBOX:  # the sandbox sees only its own copy of the code
            task_root = sandbox.stage_code(task_root, self.folder)
            environment = {**environment, "LAMBDA_TASK_ROOT": task_root}
        message = json.dumps({"environment": environment, "task_root": task_root}).encode()
        try:
            with os.fdopen(self.assignment, "wb") as pipe:
                pipe.write(message)
        finally:
            self.assignment = None

    def kill(self) -> None:
        """Kill the process and everything it started (its process group)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            LOG.warning("Runtime process %s did not exit after SIGKILL", self.pid)
        self.close_pipes()

    def close_pipes(self) -> None:
        for name in ("lifeline", "assignment"):
            fd = getattr(self, name)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, None)


def base_environment(interpreter: Interpreter, tmp_dir: Path) -> dict[str, str]:
    """Variables AWS's runtime sets that the function's own settings may override."""
    return {
        "PATH": os.pathsep.join([os.path.dirname(interpreter.path), config.PROCESS_EXECUTOR_PATH]),
        "LANG": "en_US.UTF-8",
        "HOME": str(tmp_dir),
        "TMPDIR": str(tmp_dir),
    }


def spawn(interpreter: Interpreter, root: Path, sdk_dir: Path) -> RuntimeProcess:
    """Start a bootstrap process that loads the runtime, then waits for its assignment."""
    folder = root / uuid.uuid4().hex
    (folder / "tmp").mkdir(parents=True)
    # The executor binds the socket and hands it over, so the port is known before the
    # process runs and no other program can take it in between.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    lifeline_read, lifeline_write = os.pipe()
    assignment_read, assignment_write = os.pipe()
    log_path = folder / "output.log"
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    environment = {
        **base_environment(interpreter, folder / "tmp"),
        bootstrap.LISTEN_FD: str(listener.fileno()),
        bootstrap.LIFELINE_FD: str(lifeline_read),
        bootstrap.ASSIGNMENT_FD: str(assignment_read),
        bootstrap.LOG_FILE: str(log_path),
        bootstrap.EXTRA_SYS_PATH: str(sdk_dir),
    }
    try:
        # -I -S: no site-packages and no PYTHON* variables, as in AWS's runtime.
        popen = functools.partial(
            subprocess.Popen,
            env=environment,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=log_fd,
            pass_fds=(listener.fileno(), lifeline_read, assignment_read),
            start_new_session=True,
        )
        argv = [interpreter.path, "-I", "-S", "-u", str(BOOTSTRAP)]
        if config.PROCESS_EXECUTOR_SANDBOX:
            where = {"runtime_dir": BOOTSTRAP.parent, "sdk_dir": sdk_dir, "folder": folder}
            process = sandbox.start(argv, popen, interpreter=interpreter.path, **where)
        else:
            process = popen(argv)
    except OSError:
        os.close(lifeline_write)
        os.close(assignment_write)
        raise
    finally:
        for fd in (log_fd, lifeline_read, assignment_read):
            os.close(fd)
        listener.close()
    return RuntimeProcess(process, interpreter, port, folder, lifeline_write, assignment_write)


class SparePool:
    """Up to PROCESS_EXECUTOR_SPARES unassigned processes per interpreter, started in the
    background as they are taken."""

    def __init__(self) -> None:
        self._spares: dict[str, list[RuntimeProcess]] = {}
        self._starting: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, interpreter: Interpreter, root: Path, sdk_dir: Path) -> RuntimeProcess:
        """A ready spare for `interpreter` if there is one, else a new process."""
        with self._lock:
            ready = self._spares.get(interpreter.path) or []
            spare = ready.pop(0) if ready else None
        self.refill(interpreter, root, sdk_dir)
        if spare is not None and spare.alive():
            return spare
        if spare is not None:
            spare.kill()
        return spawn(interpreter, root, sdk_dir)

    def refill(self, interpreter: Interpreter, root: Path, sdk_dir: Path) -> None:
        """Start spares for `interpreter` in the background, up to the configured number."""
        with self._lock:
            have = len(self._spares.get(interpreter.path, [])) + self._starting.get(
                interpreter.path, 0
            )
            missing = config.PROCESS_EXECUTOR_SPARES - have
            if missing <= 0:
                return
            self._starting[interpreter.path] = self._starting.get(interpreter.path, 0) + missing

        def start_spares() -> None:
            for _ in range(missing):
                try:
                    spare = spawn(interpreter, root, sdk_dir)
                except Exception as e:
                    LOG.warning("Could not start a spare %s process: %s", interpreter.path, e)
                    spare = None
                with self._lock:
                    self._starting[interpreter.path] -= 1
                    if spare is not None:
                        self._spares.setdefault(interpreter.path, []).append(spare)

        threading.Thread(target=start_spares, name="lambda-spare-process", daemon=True).start()


SPARES = SparePool()
