"""Runtime processes, and a spare one per interpreter kept ready for the next cold start.

Starting Python or Node.js and loading the runtime's modules is most of a cold start. So
a process is started before it is needed and waits, fully loaded, for its assignment:
the function's environment variables and code folder. Once assigned it behaves exactly as
a process started for that function would: its environment is replaced wholesale and, as
Python runs with `-I`, no `PYTHON*` variable could have changed how the interpreter
started. Node.js does read variables as it starts (NODE_OPTIONS...): a function that sets
any gets a process started for it with them (`spawn(startup_environment=...)`).

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
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from localstack_process_executor import bootstrap, config, keeper, lambda_platform, sandbox
from localstack_process_executor.interpreters import Interpreter
from localstack_process_executor.process_tree import kill_tree

LOG = logging.getLogger(__name__)

BOOTSTRAP = Path(bootstrap.__file__).resolve()
KEEPER = Path(keeper.__file__).resolve()
NODEJS_RUNTIME = BOOTSTRAP.parent / "nodejs" / "runtime.js"
# A keeper of a runtime that is not Python runs on the interpreter LocalStack runs on.
KEEPER_PYTHON = sys.executable
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
        sdk_dir: Path | None = None,
    ) -> None:
        self.process = process
        self.interpreter = interpreter
        self.sdk_dir = sdk_dir
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

    def assign(
        self,
        environment: dict[str, str],
        task_root: str,
        module_scope: str | None = None,
        *,
        secret: str = "",
    ) -> None:
        """Hand the process its function (and its environment's secret, which the process
        shows LocalStack with each report); raises ProcessGone if it is no longer there.

        `module_scope` (Node.js): the folder above the task root that module lookups stay
        in (nodejs_code.py)."""
        with self._lock:
            fd, self._assignment = self._assignment, None
        if fd is None:
            raise ProcessGone(f"Process {self.pid} exited or was already assigned")
        if config.PROCESS_EXECUTOR_SANDBOX:  # the sandbox sees only its own copy of the code
            task_root = sandbox.stage_code(task_root, self.folder)
            environment = {**environment, "LAMBDA_TASK_ROOT": task_root}
            module_scope = str(self.folder) if module_scope else None
        assignment: dict = {"environment": environment, "task_root": task_root, "secret": secret}
        if self.interpreter.language == "nodejs":
            assignment.update(nodejs_assignment(environment, task_root, module_scope, self.sdk_dir))
        message = json.dumps(assignment).encode()
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


def nodejs_assignment(
    environment: dict[str, str], task_root: str, module_scope: str | None, sdk_dir: Path | None
) -> dict:
    """What a Node.js runtime needs besides its environment: NODE_PATH as on AWS (the SDK,
    then the task root; a function's own NODE_PATH stands), the folder its module lookups
    stay in, and the AWS paths of this machine's folders for the traces it reports."""
    sdk = str(sdk_dir) if sdk_dir else ""
    node_path = os.pathsep.join(path for path in (sdk, task_root) if path)
    return {
        "environment": {"NODE_PATH": node_path, **environment},
        "module_scope": module_scope,
        "aws_paths": [[os.path.realpath(sdk), "/var/runtime/node_modules"]] if sdk else [],
    }


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

    Python: the keeper, which then runs bootstrap.py, on the function's interpreter; -I -S:
    no site-packages and no PYTHON* variables, as in AWS's runtime. Node.js: the keeper on
    LocalStack's own interpreter, which starts Node.js on the runtime client (runtime.js)
    and serves it the Runtime API.
    """
    if interpreter.language == "nodejs":
        node = [interpreter.path, *interpreter.options, str(NODEJS_RUNTIME)]
        return [KEEPER_PYTHON, "-I", "-S", "-u", str(KEEPER), *node]
    return [interpreter.path, "-I", "-S", "-u", str(KEEPER)]


def spawn(
    interpreter: Interpreter,
    root: Path,
    sdk_dir: Path,
    startup_environment: dict[str, str] | None = None,
) -> RuntimeProcess:
    """Start a runtime process that loads the runtime, then waits for its assignment.

    `startup_environment`: variables the runtime reads as it starts (NODE_OPTIONS...), for
    a process started for one function rather than ahead of need."""
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
    nodejs = interpreter.language == "nodejs"
    environment = {
        **base_environment(interpreter, folder / "tmp"),
        **(startup_environment or {}),
        lambda_platform.LISTEN_FD: str(listener.fileno()),
        keeper.LIFELINE_FD: str(lifeline_read),
        lambda_platform.ASSIGNMENT_FD: str(assignment_read),
        lambda_platform.LOG_FILE: str(log_path),
    }
    if not nodejs:
        environment[lambda_platform.EXTRA_SYS_PATH] = str(sdk_dir)
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
            executables = [KEEPER_PYTHON, interpreter.path] if nodejs else [interpreter.path]
            process = sandbox.start(
                argv,
                popen,
                executables=executables,
                runtime_dir=BOOTSTRAP.parent,
                sdk_dir=sdk_dir,
                folder=folder,
                mode=config.PROCESS_EXECUTOR_SANDBOX,
                nodejs=nodejs,
            )
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
    return RuntimeProcess(
        process,
        interpreter,
        port,
        folder,
        lifeline_write,
        assignment_write,
        sdk_dir=sdk_dir if nodejs else None,
    )


class SparePool:
    """Up to PROCESS_EXECUTOR_SPARES unassigned processes per interpreter (and its options),
    started in the background as they are taken."""

    def __init__(self) -> None:
        self._spares: dict[Interpreter, list[RuntimeProcess]] = {}
        self._starting: dict[Interpreter, int] = {}
        self._lock = threading.Lock()

    def take(self, interpreter: Interpreter, root: Path, sdk_dir: Path) -> RuntimeProcess:
        """A ready spare for `interpreter` if there is one, else a new process."""
        with self._lock:
            ready = self._spares.get(interpreter) or []
            # A spare that died waiting cleans up after itself (its reaper); skip it.
            while ready and not ready[0].alive():
                ready.pop(0)
            spare = ready.pop(0) if ready else None
        self.refill(interpreter, root, sdk_dir)
        return spare if spare is not None else spawn(interpreter, root, sdk_dir)

    def refill(self, interpreter: Interpreter, root: Path, sdk_dir: Path) -> None:
        """Start spares for `interpreter` in the background, up to the configured number."""
        with self._lock:
            have = len(self._spares.get(interpreter, [])) + self._starting.get(interpreter, 0)
            missing = config.PROCESS_EXECUTOR_SPARES - have
            if missing <= 0:
                return
            self._starting[interpreter] = self._starting.get(interpreter, 0) + missing

        def start_spares() -> None:
            for _ in range(missing):
                try:
                    spare = spawn(interpreter, root, sdk_dir)
                except Exception as e:
                    LOG.warning("Could not start a spare %s process: %s", interpreter.path, e)
                    spare = None
                with self._lock:
                    self._starting[interpreter] -= 1
                    if spare is not None:
                        self._spares.setdefault(interpreter, []).append(spare)

        threading.Thread(target=start_spares, name="lambda-spare-process", daemon=True).start()


SPARES = SparePool()
