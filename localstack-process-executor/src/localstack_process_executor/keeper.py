"""The first process of every execution environment: it starts the runtime, and keeps it.

On Linux it becomes a child subreaper and forks: the child runs the runtime
(`bootstrap.py`), the keeper stays behind. Whatever the handler starts stays below the
keeper, even after `setsid()` or a double fork (orphans are re-parented to the nearest
subreaper, not to init). When the runtime exits, the keeper kills everything below it
and exits the way the runtime did, so the executor sees the runtime's own exit status;
when the lifeline pipe closes (LocalStack is gone, however it went) it does the same.

Elsewhere there is no keeper: the runtime runs in this process, and a closed lifeline
kills its process group.

It imports almost nothing before it forks, so that the keeper stays small.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

# Set by the executor: the read end of the lifeline pipe, whose write end it holds.
LIFELINE_FD = "_PROCESS_EXECUTOR_LIFELINE_FD"
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


def main() -> None:
    lifeline_fd = int(os.environ[LIFELINE_FD])
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
    load("bootstrap.py", "_process_executor_bootstrap").main()


if __name__ == "__main__":
    main()
