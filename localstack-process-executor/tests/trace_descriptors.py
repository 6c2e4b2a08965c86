"""Trace LocalStack's close() calls under the stress test's load, and show double closes.

    .sfnlab/venv/bin/python localstack-process-executor/tests/trace_descriptors.py [SECONDS]

Starts an embedded LocalStack of its own (own port and state folder), attaches
`strace -f` to it, runs the mixed load of test_stress.py, stops everything, and reports
every close() in LocalStack's own threads (not its child processes) that failed with
EBADF, with the earlier close of the same descriptor. A close that fails so is a
descriptor closed twice; had another thread opened a file in between, it would have
got that number and lost it to the second close. Linux with strace only.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from test_stress import WORKERS, Load, code_folders

from sfnlab.lab import lifecycle
from sfnlab.testing.settings import settings_for

SYSCALLS = "close,openat,pipe2,socket,accept4,dup2,dup3,clone,clone3,vfork,fork"
LINE = re.compile(r"^(\d+) +(\S+) (.*)$")
CALL = re.compile(r"^(\w+)\((.*)\)\s+= (-?\d+|\?)")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")


@dataclass
class Call:
    tid: int
    time: str
    name: str
    args: str
    result: int | None


def parse(path: Path) -> list[Call]:
    """strace -f -tt lines, with calls split by other threads put back together."""
    calls: list[Call] = []
    unfinished: dict[int, str] = {}
    for raw in path.read_text(errors="replace").splitlines():
        line = LINE.match(raw)
        if not line:
            continue
        tid, at, rest = int(line.group(1)), line.group(2), line.group(3)
        if rest.endswith("<unfinished ...>"):
            unfinished[tid] = rest.removesuffix("<unfinished ...>").rstrip()
            continue
        resumed = RESUMED.match(rest)
        if resumed:
            rest = unfinished.pop(tid, resumed.group(1) + "(") + resumed.group(2)
        call = CALL.match(rest)
        if call:
            result = int(call.group(3)) if call.group(3) != "?" else None
            calls.append(Call(tid, at, call.group(1), call.group(2), result))
    return calls


def localstack_calls(calls: list[Call]) -> list[Call]:
    """The calls made by LocalStack's threads, not by the processes it started."""
    children: set[int] = set()
    for call in calls:
        forked = call.name in ("clone", "clone3", "vfork", "fork") and (call.result or 0) > 0
        if forked and (call.tid in children or "CLONE_THREAD" not in call.args):
            children.add(call.result)
    return [call for call in calls if call.tid not in children]


def double_closes(calls: list[Call]) -> list[tuple[Call, Call | None]]:
    """Each close() that failed with EBADF, with the last successful close of that number."""
    last_close: dict[int, Call] = {}
    found = []
    for call in calls:
        if call.name != "close" or not call.args.isdigit():
            continue
        fd = int(call.args)
        if call.result == 0:
            last_close[fd] = call
        elif call.result is not None and call.result < 0:
            found.append((call, last_close.get(fd)))
    return found


def main(seconds: float) -> int:
    if not shutil.which("strace"):
        print("strace is not installed.")
        return 2
    state = Path(tempfile.mkdtemp(prefix="trace-descriptors-"))
    settings = settings_for(state)
    trace = state / "strace.txt"
    pid = lifecycle.up(settings).pid
    threads = os.listdir(f"/proc/{pid}/task")
    strace = subprocess.Popen(
        ["strace", "-f", "-tt", "-e", f"trace={SYSCALLS}", "-o", str(trace)]
        + [arg for tid in threads for arg in ("-p", tid)],
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1)  # attached
        lam = boto3.client(
            "lambda",
            endpoint_url=settings.endpoint,
            region_name=settings.region,
            aws_access_key_id=settings.account_id,
            aws_secret_access_key="test",
            config=Config(retries={"total_max_attempts": 1}, max_pool_connections=4 * WORKERS),
        )
        load = Load(lam)
        load.run(seconds, WORKERS)
        time.sleep(3)
        leaked = code_folders(state)
    finally:
        strace.send_signal(signal.SIGINT)
        strace.wait()
        lifecycle.down(settings)
    calls = localstack_calls(parse(trace))
    closes = [c for c in calls if c.name == "close"]
    doubles = double_closes(calls)
    print(f"load: {load.lifecycles} lifecycles, {load.invocations} invocations in {seconds:g} s")
    print(f"errors: {len(load.errors)}")
    for error in load.errors[:5]:
        print(f"  {error}")
    print(f"code folders left behind: {len(leaked)}")
    print(f"close() in LocalStack's threads: {len(closes)}, failed with EBADF: {len(doubles)}")
    for failed, earlier in doubles[:10]:
        before = f"closed by thread {earlier.tid} at {earlier.time}" if earlier else "never open"
        print(f"  fd {failed.args}: thread {failed.tid} at {failed.time}; {before}")
    print(f"trace: {trace}")
    return 1 if doubles or load.errors or leaked else 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 40))
