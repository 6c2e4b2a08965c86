"""Runtime processes, and a spare one per interpreter kept ready for the next cold start.

Starting Python and importing the runtime's modules is most of a cold start. So a
process is started before it is needed and waits, fully loaded, for its assignment: the
function's environment variables and code folder. Once assigned it behaves exactly as a
process started for that function would: its environment is replaced wholesale and, as
it runs with `-I`, no `PYTHON*` variable could have changed how the interpreter started.

Who owns what: a `RuntimeProcess` owns its two pipe ends and its folder, and one thread
of its own (the reaper) releases them, exactly once, after the process has exited. Other
threads may only ask for the process to end (`terminate()`); they never close its
descriptors or remove its folder. A descriptor closed twice closes whatever another
thread opened in between under the same number: a zip LocalStack is writing, a folder
`shutil.rmtree` is walking.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from localstack_process_executor import bootstrap, config, keeper, sandbox
from localstack_process_executor.interpreters import Interpreter
from localstack_process_executor.process_tree import kill_tree

LOG = logging.getLogger(__name__)

BOOTSTRAP = Path(bootstrap.__file__).resolve()
KEEPER = Path(keeper.__file__).resolve()
# How much of a process's log to keep once its folder is gone, for LocalStack's messages.
LOG_TAIL_BYTES = 8 * 1024


class ProcessGone(Exception):
    """The process exited before it could be given its assignment."""


ExitHandler = Callable[["RuntimeProcess", int], None]


class RuntimeProcess:
    """A started bootstrap process; `assign()` turns it into a function's environment."""

    def __init__(
        self,
        process: subprocess.Popen,
        interpreter: Interpreter,
        port: int,
        folder: Path,
        lifeline: int,
        assignment: int,
    ) -> None:
        self.process = process
        self.interpreter = interpreter
        self.port = port
        self.folder = folder
        self._lock = threading.Lock()
        self._lifeline: int | None = lifeline  # write end: its closing ends the process
        self._assignment: int | None = assignment  # write end the assignment goes through
        self._reaped = False
        self._terminated = False
        self._exit_handler: ExitHandler | None = None
        self._log_offset = 0
        self._log_tail = ""
        self.exited = threading.Event()  # the process has exited (it may not be reaped yet)
        self.released = threading.Event()  # reaped, descriptors closed, folder removed
        threading.Thread(
            target=self._reap, name=f"lambda-process-{process.pid}", daemon=True
        ).start()

    @property
    def log_path(self) -> Path:
        return self.folder / "output.log"

    @property
    def tmp_dir(self) -> Path:
        return self.folder / "tmp"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def terminated(self) -> bool:
        """Whether the executor ended it (a timeout, a stop), rather than the process itself."""
        return self._terminated

    def alive(self) -> bool:
        """Running, and not on its way out."""
        return not (self._terminated or self.exited.is_set())

    def base_environment(self) -> dict[str, str]:
        return base_environment(self.interpreter, self.tmp_dir)

    # Owned by callers, one at a time ----------------------------------------------------

    def assign(self, environment: dict[str, str], task_root: str, secret: str = "") -> None:
        """Hand the process its function (and its environment's secret, which the process
        shows LocalStack with each report); raises ProcessGone if it is no longer there."""
        with self._lock:
            fd, self._assignment = self._assignment, None
        if fd is None:
            raise ProcessGone(f"Process {self.pid} exited or was already assigned")
        if config.PROCESS_EXECUTOR_SANDBOX:  # the sandbox sees only its own copy of the code
            task_root = sandbox.stage_code(task_root, self.folder)
            environment = {**environment, "LAMBDA_TASK_ROOT": task_root}
        message = json.dumps(
            {"environment": environment, "task_root": task_root, "secret": secret}
        ).encode()
        # This thread now owns `fd`: the file object closes it, once.
        with os.fdopen(fd, "wb") as pipe:
            try:
                pipe.write(message)
            except BrokenPipeError:
                raise ProcessGone(f"Process {self.pid} exited before its assignment") from None

    def on_exit(self, handler: ExitHandler) -> None:
        """Call `handler(process, returncode)` once the process exits, before its folder is
        removed (so its log can still be read); at once if it has already exited."""
        with self._lock:
            if not self._reaped:
                self._exit_handler = handler
                return
        handler(self, self.process.returncode)

    def terminate(self) -> None:
        """End the process and everything it started; any thread, any number of times."""
        with self._lock:
            self._terminated = True
            if self._reaped:
                return  # its pid may belong to another program by now
            kill_tree(self.pid)

    def new_log(self) -> str:
        """What the process wrote since the last call (or `skip_log()`)."""
        with self._lock:
            try:
                with self.log_path.open("rb") as log:
                    log.seek(self._log_offset)
                    data = log.read()
            except OSError:
                return ""
            self._log_offset += len(data)
        return data.decode("utf-8", "replace")

    def skip_log(self) -> None:
        with self._lock, contextlib.suppress(OSError):
            self._log_offset = self.log_path.stat().st_size

    def whole_log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return self._log_tail

    # The reaper thread ------------------------------------------------------------------

    def _reap(self) -> None:
        # Wait without reaping: while the exited process is a zombie its pid (and process
        # group) cannot be reused, so `terminate()` in another thread stays safe.
        with contextlib.suppress(ChildProcessError):
            os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
        self.exited.set()
        with self._lock:
            # Whatever is left of its process group (no keeper: not Linux).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            returncode = self.process.wait()
            self._reaped = True
            pipes = [fd for fd in (self._lifeline, self._assignment) if fd is not None]
            self._lifeline = self._assignment = None
            handler, self._exit_handler = self._exit_handler, None
        for fd in pipes:
            os.close(fd)
        if handler is not None:
            try:
                handler(self, returncode)
            except Exception:
                LOG.exception("Error while handling the exit of runtime process %s", self.pid)
        self._log_tail = tail(self.log_path, LOG_TAIL_BYTES)
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.folder.exists():
            LOG.warning("Could not remove the folder of runtime process %s", self.pid)
        self.released.set()


def tail(path: Path, size: int) -> str:
    try:
        with path.open("rb") as log:
            log.seek(max(0, path.stat().st_size - size))
            return log.read().decode("utf-8", "replace")
    except OSError:
        return ""


def base_environment(interpreter: Interpreter, tmp_dir: Path) -> dict[str, str]:
    """Variables AWS's runtime sets that the function's own settings may override."""
    return {
        "PATH": os.pathsep.join([os.path.dirname(interpreter.path), config.PROCESS_EXECUTOR_PATH]),
        "LANG": "en_US.UTF-8",
        "HOME": str(tmp_dir),
        "TMPDIR": str(tmp_dir),
    }


def runtime_command(interpreter: Interpreter, folder: Path) -> list[str]:
    """The command line of a runtime process (one place, so that a wrapper can go in front).

    -I -S: no site-packages and no PYTHON* variables, as in AWS's runtime.
    """
    return [interpreter.path, "-I", "-S", "-u", str(KEEPER)]


def spawn(interpreter: Interpreter, root: Path, sdk_dir: Path) -> RuntimeProcess:
    """Start a bootstrap process that loads the runtime, then waits for its assignment."""
    folder = root / uuid.uuid4().hex
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.mkdir(mode=0o700)
    (folder / "tmp").mkdir(mode=0o700)
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
        keeper.LIFELINE_FD: str(lifeline_read),
        bootstrap.ASSIGNMENT_FD: str(assignment_read),
        bootstrap.LOG_FILE: str(log_path),
        bootstrap.EXTRA_SYS_PATH: str(sdk_dir),
    }
    try:
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
        argv = runtime_command(interpreter, folder)
        if config.PROCESS_EXECUTOR_SANDBOX:
            where = {"runtime_dir": BOOTSTRAP.parent, "sdk_dir": sdk_dir, "folder": folder}
            mode = config.PROCESS_EXECUTOR_SANDBOX
            process = sandbox.start(argv, popen, interpreter=interpreter.path, mode=mode, **where)
        else:
            process = popen(argv)
    except OSError:
        os.close(lifeline_write)
        os.close(assignment_write)
        shutil.rmtree(folder, ignore_errors=True)
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
            # A spare that died waiting cleans up after itself (its reaper); skip it.
            while ready and not ready[0].alive():
                ready.pop(0)
            spare = ready.pop(0) if ready else None
        self.refill(interpreter, root, sdk_dir)
        return spare if spare is not None else spawn(interpreter, root, sdk_dir)

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
