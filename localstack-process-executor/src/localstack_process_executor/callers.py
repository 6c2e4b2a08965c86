"""Which function sent a request to LocalStack: the environment whose process it came from.

A request to LocalStack's gateway says nothing trustworthy about its sender: a Lambda's
code can send it without credentials, or with anybody's. What it cannot make up is the
connection it came on. The process holding the other end of that connection is found
among LocalStack's own descendants (every runtime process is one, sandboxed or not), and
then the environment it belongs to (`executor.function_of_process`).

Used to name the sender of a request LocalStack refuses (a report to another
environment's endpoint, or one of LocalStack's own endpoints the kit's patches close),
in one log line the grader reads:

    sfnlab refused POST /_localstack/health from arn:aws:lambda:us-east-1:...:function:x

At most `LOOKUPS_PER_SECOND` are looked up: a function sending thousands of requests
costs LocalStack no more than the requests themselves; the rest are named by address.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time

import psutil
from werkzeug import Request

REFUSED = "sfnlab refused"  # the mark of a refusal in LocalStack's log
LOOKUPS_PER_SECOND = 20
_recent: collections.deque[float] = collections.deque(maxlen=LOOKUPS_PER_SECOND)
_lock = threading.Lock()


def caller(request: Request) -> str:
    """The qualified ARN of the function that sent `request`; its address if it came from
    anywhere else (or was not looked up); `LocalStack itself` for an in-memory call."""
    address = request.environ.get("REMOTE_ADDR")
    port = request.environ.get("REMOTE_PORT")
    if not address:
        return "LocalStack itself"
    where = f"{address}:{port}"
    if port is None or not _may_look_up():
        return where
    try:
        return function_behind(address, int(port)) or where
    except (psutil.Error, OSError, ValueError):  # gone meanwhile, /proc unreadable, ...
        return where


def _may_look_up() -> bool:
    now = time.monotonic()
    with _lock:
        if len(_recent) == LOOKUPS_PER_SECOND and now - _recent[0] < 1.0:
            return False
        _recent.append(now)
        return True


def function_behind(address: str, port: int) -> str | None:
    """The qualified ARN of the function whose process has a TCP socket bound to
    `address:port` (the far end of a connection to LocalStack), or None."""
    from localstack_process_executor.executor import function_of_process

    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            for connection in process.net_connections(kind="tcp"):
                local = connection.laddr
                if local and local.port == port and local.ip == address:
                    # The socket may belong to a child of the handler's: walk up.
                    for pid in [process.pid, *ancestors(process)]:
                        if function := function_of_process(pid):
                            return function
                    return None
    return None


def ancestors(process: psutil.Process) -> list[int]:
    with contextlib.suppress(psutil.Error):
        return [parent.pid for parent in process.parents()]
    return []
