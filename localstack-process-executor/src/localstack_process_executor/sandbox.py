"""Runtime processes inside bubblewrap, for code nobody has reviewed (learners' solutions).

With ``PROCESS_EXECUTOR_SANDBOX=bwrap`` every runtime process starts inside ``bwrap``:

- Files: an allow-list, read-only. The system's folders (``/usr`` and its links), a few
  files of ``/etc``, the interpreter's installation (Node.js: and the keeper's Python), the
  runtime (``bootstrap.py``, ``nodejs/``), the AWS SDK and the function's own code. The
  one writable place is the process's own temp folder (its ``HOME`` and ``TMPDIR``) and a
  private ``/tmp``. The home directory, ``~/.aws``, the kit's folder, other functions'
  code, other submissions and any report simply do not exist in there.
- Processes: PID, IPC and UTS namespaces of its own and a new session, so it sees only
  its own processes; whatever it starts dies with it, and all of it dies with LocalStack.
- Limits: a ceiling on each process's address space. When LocalStack runs as root the
  handler runs as a user id of its own (never root), with a ceiling on its processes and
  threads (a fork bomb stops there).

The network is not this module's: a sandbox shares LocalStack's (it must reach
LocalStack's endpoint and the grader's). `sfnlab grade` starts LocalStack, and so every
sandbox, in a network namespace of its own where the system allows (the kit's
`sfnlab/grading/network.py`); elsewhere a sandboxed handler reaches what any local
program reaches. Within that network, other solutions stay out of reach by other means
(random accounts, unguessable addresses).

``PROCESS_EXECUTOR_SANDBOX=user`` is for where bubblewrap cannot build its namespaces:
inside an unprivileged container (a grading platform's), which is then the sandbox, one
submission each. No namespaces and no mounts; as root, each process still gets a user id
of its own (never root) and the same limits, so the learner's code cannot signal
LocalStack or the grader, nor write their files (the results among them). Its
interpreter, the runtime and the SDK must be readable by any user (for Node.js: ``node``,
the Python its keeper runs on, which is LocalStack's, and the AWS SDK for JavaScript).
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import secrets
import shutil
import subprocess
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

BWRAP = "bwrap"
# Per process: enough for Python, boto3 and a few threads (each thread reserves its stack
# and a malloc arena of address space, not memory).
MAX_ADDRESS_SPACE = 4 * 1024**3
# Per sandbox, processes and threads together (enforced when running as root, see above).
MAX_TASKS = 96
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_ENTRIES = ("hosts", "resolv.conf", "nsswitch.conf", "localtime", "ssl", "ca-certificates")
NAMESPACES = ("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")
TASK_FOLDER = "task"  # in a process's folder: the function's code, as the sandbox sees it
MODES = ("bwrap", "user")  # PROCESS_EXECUTOR_SANDBOX: namespaces and mounts; a user id only

# User ids for sandboxes, far above any real account's (when running as root).
_user_ids = itertools.count(1_000_000_000 + secrets.randbelow(1_000_000_000))


def find_bwrap() -> str | None:
    return shutil.which(BWRAP)


@cache
def interpreter_folders(interpreter: str) -> tuple[str, ...]:
    """What an interpreter needs to start: its folder, its installation's prefix, and for a
    Python a virtualenv's pyvenv.cfg and its base prefix."""
    found = {os.path.dirname(interpreter)}
    venv_config = Path(interpreter).parent.parent / "pyvenv.cfg"
    if venv_config.is_file():
        found.add(str(venv_config))
    if "python" in os.path.basename(interpreter):
        result = subprocess.run(
            [interpreter, "-I", "-S", "-c", "import json, sys; print(json.dumps(sys.base_prefix))"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode == 0:
            found.add(json.loads(result.stdout))
    real = os.path.realpath(interpreter)
    found.add(os.path.dirname(os.path.dirname(real)))
    return tuple(sorted(path for path in found if path not in ("/", "") and os.path.exists(path)))


def sdk_folders(sdk_dir: Path) -> list[str]:
    """The SDK folder and each package it links to (Python's is a folder of links)."""
    found = [str(sdk_dir)]
    for entry in sorted(sdk_dir.iterdir()):
        if entry.is_symlink():
            found.append(os.path.realpath(entry))
    return found


# Node.js: the folder above the task root is the scope of the function's modules, as
# nodejs_code.py lays it out: a package.json Node.js stops at, and the SDK's node_modules.
SCOPE_MANIFEST = "package.json"


def switches_user() -> bool:
    """As root, a sandbox also gets a user id of its own (setpriv, prlimit: util-linux)."""
    return os.geteuid() == 0 and all(shutil.which(tool) for tool in ("setpriv", "prlimit"))


class Mounts:
    """bwrap's mount arguments, with every parent folder created readable (bwrap would
    otherwise copy the modes of the host's, such as a 0700 home)."""

    def __init__(self) -> None:
        self.arguments: list[str] = []
        self._mounted: list[str] = []  # what lies below a mount exists already
        self._made: set[str] = set()

    def _parents(self, path: str) -> None:
        parts = Path(path).parts[1:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/" + "/".join(parts[:depth])
            if folder not in self._made and not self._is_mounted(folder):
                self.arguments += ["--perms", "0755", "--dir", folder]
                self._made.add(folder)

    def _is_mounted(self, path: str) -> bool:
        return any(path == top or path.startswith(top.rstrip("/") + "/") for top in self._mounted)

    def add(self, option: str, source: str, destination: str | None = None) -> None:
        destination = destination or source
        self._parents(destination)
        self.arguments += [option, source, destination]
        self._mounted.append(destination)

    def special(self, option: str, path: str) -> None:
        """--proc, --dev, --tmpfs: nothing below them exists until made."""
        self._parents(path)
        self.arguments += [option, path]
        self._made.add(path)


def limited(argv: list[str], user_id: int | None) -> list[str]:
    """`argv` with its limits, run as `user_id` (as root) with no capabilities left."""
    limits = ["prlimit", f"--as={MAX_ADDRESS_SPACE}"]
    if user_id is None:
        return [*limits, "--", *argv] if shutil.which("prlimit") else argv
    return [
        *limits,
        f"--nproc={MAX_TASKS}",
        "--",
        "setpriv",
        f"--reuid={user_id}",
        f"--regid={user_id}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
        *argv,
    ]


def command(
    argv: list[str],
    *,
    executables: list[str],
    runtime_dir: Path,
    sdk_dir: Path,
    folder: Path,
    user_id: int | None,
    mode: str = "bwrap",
    nodejs: bool = False,
) -> list[str]:
    """`argv` wrapped in its sandbox: bwrap, seeing only what a function's process needs;
    in "user" mode, its limits and a user id of its own only."""
    if mode == "user":
        return limited(argv, user_id)
    mounts = Mounts()
    for system in SYSTEM_FOLDERS:
        if os.path.islink(system):
            mounts.arguments += ["--symlink", os.readlink(system), system]
        elif os.path.isdir(system):
            mounts.add("--ro-bind", system)
    for entry in ETC_ENTRIES:
        if os.path.exists(f"/etc/{entry}"):
            mounts.add("--ro-bind", f"/etc/{entry}")
    mounts.special("--proc", "/proc")
    mounts.special("--dev", "/dev")
    mounts.arguments += ["--perms", "1777"]  # for the next one: a /tmp anyone may write to
    mounts.special("--tmpfs", "/tmp")
    read_only = {str(runtime_dir), *sdk_folders(sdk_dir)}
    for executable in executables:
        read_only.update(interpreter_folders(executable))
    read_only |= {str(folder / TASK_FOLDER), str(folder / "output.log")}
    if nodejs:
        read_only.add(str(folder / SCOPE_MANIFEST))
    for path in sorted(read_only):
        mounts.add("--ro-bind", path)
    if nodejs:
        mounts.add("--ro-bind", str(sdk_dir), str(folder / "node_modules"))
    mounts.add("--bind", str(folder / "tmp"))
    identity = ["--cap-drop", "ALL"] if user_id is None and os.geteuid() == 0 else []
    return [
        find_bwrap() or BWRAP,
        *mounts.arguments,
        *NAMESPACES,
        "--new-session",
        "--die-with-parent",
        *identity,
        "--",
        *limited(argv, user_id),
    ]


def start(
    argv: list[str],
    popen: Callable[[list[str]], subprocess.Popen],
    *,
    executables: list[str],
    runtime_dir: Path,
    sdk_dir: Path,
    folder: Path,
    mode: str = "bwrap",
    nodejs: bool = False,
) -> subprocess.Popen:
    """Start `argv` (a runtime process whose folder, temp and log exist) in its sandbox."""
    (folder / TASK_FOLDER).mkdir()
    os.chmod(folder / TASK_FOLDER, 0o755)  # whatever the umask: readable by the sandbox's user
    if nodejs:
        (folder / SCOPE_MANIFEST).write_text("{}\n")
        os.chmod(folder / SCOPE_MANIFEST, 0o644)
    user_id = next(_user_ids) if switches_user() else None
    if user_id is not None:
        for path in (folder / "tmp", folder / "output.log"):
            os.chown(path, user_id, user_id)
    if mode == "user":
        # No mounts: the user reaches its folder through the real path (listing nothing).
        for path in (folder.parent, folder):
            os.chmod(path, 0o711)
        if nodejs:  # where bwrap would bind the SDK: a link to it
            (folder / "node_modules").symlink_to(sdk_dir, target_is_directory=True)
    wrapped = command(
        argv,
        executables=executables,
        runtime_dir=runtime_dir,
        sdk_dir=sdk_dir,
        folder=folder,
        user_id=user_id,
        mode=mode,
        nodejs=nodejs,
    )
    return SPAWNER.run(lambda: popen(wrapped))


def stage_code(code_dir: str, folder: Path) -> str:
    """Copy the function's code into the process's own task folder (bound read-only), readable
    by its user; the task root the handler sees. A spare process is started before its
    function is known, so its sandbox binds that folder, which is filled once it is assigned."""
    target = folder / TASK_FOLDER
    for root, folders, files in os.walk(code_dir):
        here = target / os.path.relpath(root, code_dir)
        for name in folders:
            source = os.path.join(root, name)
            if os.path.islink(source):
                (here / name).symlink_to(os.readlink(source))
            else:
                (here / name).mkdir()
                os.chmod(here / name, 0o755)
        for name in files:
            source = os.path.join(root, name)
            if os.path.islink(source):
                (here / name).symlink_to(os.readlink(source))
                continue
            shutil.copyfile(source, here / name)
            executable = os.stat(source).st_mode & 0o100
            os.chmod(here / name, 0o755 if executable else 0o644)
    return str(target)


class Spawner:
    """Starts sandboxes from one thread that lives as long as LocalStack.

    `--die-with-parent` ends a sandbox when the *thread* that started it ends; LocalStack
    starts processes from short-lived threads, so they all start from this one instead.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, job: Callable[[], T]) -> T:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="lambda-sandbox-spawner", daemon=True
                )
                self._thread.start()
        answer: queue.Queue = queue.Queue(maxsize=1)
        self._jobs.put((job, answer))
        ok, value = answer.get()
        if not ok:
            raise value
        return value

    def _serve(self) -> None:
        while True:
            job, answer = self._jobs.get()
            try:
                answer.put((True, job()))
            except BaseException as e:  # handed to the caller, raised in its thread
                answer.put((False, e))


SPAWNER = Spawner()
