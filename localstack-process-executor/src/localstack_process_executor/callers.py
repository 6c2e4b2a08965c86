"""Which function sent a request to LocalStack: the environment whose process it came from.

A request to LocalStack's gateway says nothing trustworthy about its sender: a Lambda's
code can send it without credentials, or with anybody's. What it cannot make up is the
connection it came on. The process holding the other end of that connection is found
among LocalStack's own descendants (every runtime process is one, sandboxed or not), and
then the environment it belongs to (`environments.function_of_process`).

Used to name the sender of a request LocalStack refuses (a report to another
environment's endpoint, or one of LocalStack's own endpoints the kit's patches close),
in one log line the grader reads:

    sfnlab refused POST /_localstack/health from arn:aws:lambda:us-east-1:...:function:x

A look-up reads /proc/net/tcp once, then the descriptors of the processes found lately (a
function that sends one refused request sends more, from the same process), and only if
none holds the socket those of all LocalStack's descendants: tens of milliseconds on a
busy machine, at most `SEARCHES_PER_SECOND` times a second. A function sending thousands
of refused requests costs LocalStack little more than the requests themselves, and its
classmates nothing; what could not be looked up is named by its address.
"""

from __future__ import annotations

import collections
import contextlib
import os
import socket
import struct
import threading
import time

import psutil
from werkzeug import Request

from localstack_process_executor.environments import function_of_process

REFUSED = "sfnlab refused"  # the mark of a refusal in LocalStack's log
SEARCHES_PER_SECOND = 5  # searches through every descendant's descriptors
LISTENING = "0A"  # TCP_LISTEN in /proc/net/tcp
_searches: collections.deque[float] = collections.deque(maxlen=SEARCHES_PER_SECOND)
# The processes found most recently, looked at first: a function that sends one refused
# request sends more, from the same process.
_recent_owners: collections.OrderedDict[int, None] = collections.OrderedDict()
RECENT_OWNERS = 8
_lock = threading.Lock()


def caller(request: Request) -> str:
    """The qualified ARN of the function that sent `request`; its address if it came from
    anywhere else (or was not looked up); `LocalStack itself` for an in-memory call."""
    address = request.environ.get("REMOTE_ADDR")
    port = request.environ.get("REMOTE_PORT")
    if not address:
        return "LocalStack itself"
    where = f"{address}:{port}"
    try:
        return function_behind(address, int(port or "")) or where
    except (psutil.Error, OSError, ValueError):  # gone meanwhile, /proc unreadable, ...
        return where


def function_behind(address: str, port: int) -> str | None:
    """The qualified ARN of the function whose process holds the TCP socket bound to
    `address:port` (the far end of a connection to LocalStack), or None."""
    inode = socket_inode(address, port)
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    with _lock:
        recent = list(reversed(_recent_owners))
    owner = next((pid for pid in recent if target in open_files(pid)), None)
    if owner is None and _may_search():
        descendants = psutil.Process().children(recursive=True)
        owner = next((p.pid for p in descendants if target in open_files(p.pid)), None)
    if owner is None:
        return None
    with _lock:
        _recent_owners[owner] = None
        _recent_owners.move_to_end(owner)
        while len(_recent_owners) > RECENT_OWNERS:
            _recent_owners.popitem(last=False)
    # The socket may belong to a child of the handler's: walk up to the environment's.
    for pid in [owner, *ancestors(owner)]:
        if function := function_of_process(pid):
            return function
    return None


def _may_search() -> bool:
    now = time.monotonic()
    with _lock:
        if len(_searches) == SEARCHES_PER_SECOND and now - _searches[0] < 1.0:
            return False
        _searches.append(now)
        return True


def socket_inode(address: str, port: int) -> int | None:
    """The inode of the connected TCP socket bound to `address:port`, from /proc/net."""
    try:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        packed = socket.inet_pton(family, address)
    except OSError:
        return None
    # The kernel prints each 32-bit word of the address as a number in host byte order.
    words = struct.unpack(f"={len(packed) // 4}I", packed)
    wanted = "".join(f"{word:08X}" for word in words) + f":{port:04X}"
    table = "/proc/net/tcp6" if family == socket.AF_INET6 else "/proc/net/tcp"
    with open(table) as sockets:
        next(sockets)  # the header
        for line in sockets:
            fields = line.split()
            if fields[1] == wanted and fields[3] != LISTENING:
                return int(fields[9])
    return None


def open_files(pid: int) -> set[str]:
    """What each of a process's descriptors points at (`socket:[inode]` for a socket)."""
    folder = f"/proc/{pid}/fd"
    found = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(folder):
            with contextlib.suppress(OSError):
                found.add(os.readlink(f"{folder}/{fd}"))
    return found


def ancestors(pid: int) -> list[int]:
    with contextlib.suppress(psutil.Error):
        return [parent.pid for parent in psutil.Process(pid).parents()]
    return []
