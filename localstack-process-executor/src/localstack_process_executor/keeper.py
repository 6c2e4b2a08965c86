"""The first process of every execution environment: it starts the runtime, and keeps it.

On Linux it becomes a child subreaper and forks: the child runs the runtime, the keeper
stays behind. Whatever the handler starts stays below the keeper, even after `setsid()`
or a double fork (orphans are re-parented to the nearest subreaper, not to init). When
the runtime exits, the keeper kills everything below it and exits the way the runtime
did, so the executor sees the runtime's own exit status; when the lifeline pipe closes
(LocalStack is gone, however it went) it does the same.

Two kinds of runtime:

- ``keeper.py`` alone: Python. The child runs `bootstrap.py` in this interpreter. Without
  a subreaper (not Linux) there is no keeper: the runtime runs in this process, and a
  closed lifeline kills its process group.
- ``keeper.py PROGRAM ARGS...``: a runtime that speaks the Lambda Runtime API, such as
  Node.js (``node nodejs/runtime.js``). The child executes the program; the keeper also
  plays the platform's part for it and serves it the Runtime API (`runtime_api.py`), as
  LocalStack's init does inside its Lambda containers.

It imports almost nothing before it forks, so that the keeper stays small and the
runtime starts at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

# Set by the executor: the read end of the lifeline pipe, whose write end it holds.
LIFELINE_FD = "_PROCESS_EXECUTOR_LIFELINE_FD"
# Where a runtime program finds the pipe its assignment comes through (the name
# `lambda_platform.ASSIGNMENT_FD` gives the executor's pipe to the keeper).
ASSIGNMENT_FD = "_PROCESS_EXECUTOR_ASSIGNMENT_FD"
HERE = os.path.dirname(os.path.abspath(__file__))
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def load(module_file: str, name: str):
    """A module of this folder, under a private name (the function's own modules may be
    called `bootstrap` or `process_tree`, and this folder is not on sys.path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, module_file))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def wait_for_eof(fd: int) -> None:
    """Block until every write end of the pipe `fd` reads from is closed."""
    while True:
        try:
            if not os.read(fd, 1):
                return
        except InterruptedError:
            continue
        except OSError:
            return


def exit_like(status: int) -> None:
    """End this process the way the one whose wait status is `status` ended."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file of the keeper
            signal.signal(signum, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
        os.kill(os.getpid(), signum)
        os._exit(128 + signum)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def keep(runtime_pid: int, lifeline_fd: int) -> None:
    """Reap whatever ends below; when the runtime ends or the lifeline closes, kill
    everything below and exit."""
    process_tree = load("process_tree.py", "_process_executor_tree")
    ended = threading.Event()

    def on_lifeline_closed() -> None:
        wait_for_eof(lifeline_fd)
        if not ended.is_set():
            process_tree.kill_tree(os.getpid(), include_root=False)
            os._exit(1)

    threading.Thread(target=on_lifeline_closed, daemon=True).start()
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        if pid == runtime_pid:
            ended.set()
            process_tree.kill_tree(os.getpid(), include_root=False)
            exit_like(status)


def watch_lifeline(fd: int) -> None:
    """Without a keeper: kill this process group once the lifeline closes."""
    wait_for_eof(fd)
    os.killpg(os.getpgid(0), signal.SIGKILL)


def start_program(argv: list, keeper_pid: int) -> tuple:
    """Fork and execute a runtime program: (its pid, the write end of its assignment pipe).

    The program gets the keeper's environment and standard streams (the environment's
    log), and its own assignment pipe; no other descriptor of the keeper's."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(read_end)
        return pid, write_end
    try:
        os.closerange(3, read_end)
        os.closerange(read_end + 1, os.sysconf("SC_OPEN_MAX"))
        os.set_inheritable(read_end, True)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != keeper_pid:
            os._exit(1)
        os.execve(argv[0], argv, {**os.environ, ASSIGNMENT_FD: str(read_end)})
    except BaseException as exc:
        os.write(2, f"[process executor] could not start {argv[0]}: {exc}\n".encode())
    os._exit(127)


def serve_program(argv: list, lifeline_fd: int) -> None:
    """Run a Runtime API program below this keeper, and serve it the Runtime API."""
    if sys.platform.startswith("linux"):
        prctl(PR_SET_CHILD_SUBREAPER, 1)  # elsewhere only direct children are kept
    os.set_inheritable(lifeline_fd, False)
    runtime_pid, assignment = start_program(argv, os.getpid())
    # Loaded while the program starts: the platform's modules are the keeper's own.
    load("lambda_platform.py", "_process_executor_lambda_platform")
    runtime_api = load("runtime_api.py", "_process_executor_runtime_api")
    threading.Thread(target=runtime_api.serve, args=(runtime_pid, assignment), daemon=True).start()
    keep(runtime_pid, lifeline_fd)


def main() -> None:
    lifeline_fd = int(os.environ[LIFELINE_FD])
    if len(sys.argv) > 1:
        serve_program(sys.argv[1:], lifeline_fd)
    if sys.platform.startswith("linux") and prctl(PR_SET_CHILD_SUBREAPER, 1):
        keeper_pid = os.getpid()
        runtime_pid = os.fork()
        if runtime_pid:
            # The listening socket and the assignment pipe are the runtime's.
            os.closerange(3, lifeline_fd)
            os.closerange(lifeline_fd + 1, os.sysconf("SC_OPEN_MAX"))
            keep(runtime_pid, lifeline_fd)
        os.close(lifeline_fd)
        # The runtime dies with its keeper, even if the keeper is killed without warning.
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != keeper_pid:
            os._exit(1)
    else:
        threading.Thread(target=watch_lifeline, args=(lifeline_fd,), daemon=True).start()
    load("lambda_platform.py", "_process_executor_lambda_platform")
    load("bootstrap.py", "_process_executor_bootstrap").main()


if __name__ == "__main__":
    main()
