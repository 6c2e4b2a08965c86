"""Nothing of an environment outlives it: its folder, and every process its handler started,
however the environment ends (deleted, timed out, crashed), even a child that left its
process group with setsid() or was double-forked away."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import psutil
import pytest

from sfnlab.testing.functions import invoke
from sfnlab.testing.waiting import wait_for

# Starts two `sleep 300` that try to escape: one in a session of its own, one double-
# forked (its parent exits at once, so it is re-parented). Then it may time out or crash.
ESCAPER = """
import os, time

def detached(double_fork):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.setsid()
        if double_fork and os.fork() != 0:
            os._exit(0)
        os.write(write, str(os.getpid()).encode())
        os.close(write)
        os.execvp("sleep", ["sleep", "300"])
    os.close(write)
    child = int(os.read(read, 32))
    os.close(read)
    if double_fork:
        os.waitpid(pid, 0)
    return child

def handler(event, context):
    if event.get("then") == "where":
        return {"folder": os.path.dirname(os.environ["HOME"]), "pid": os.getpid()}
    pids = [detached(False), detached(True)]
    print(f"escapers {pids[0]} {pids[1]}", flush=True)
    if event.get("then") == "time out":
        time.sleep(60)
    if event.get("then") == "crash":
        os._exit(1)
    return {"escapers": pids, "pid": os.getpid()}
"""


def escapers_from(response: dict) -> list[int]:
    if "FunctionError" not in response:
        return response["Payload"]["escapers"]
    # Timed out or crashed: the pids are in the function's log.
    log = base64.b64decode(response["LogResult"]).decode()
    line = next(line for line in log.splitlines() if line.startswith("escapers "))
    return [int(pid) for pid in line.split()[1:]]


def gone(pids: list[int]) -> bool:
    def alive(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    return not any(alive(pid) for pid in pids)


@pytest.mark.parametrize("ending", ["deleted", "time out", "crash"])
def test_escaped_children_end_with_their_environment(lambda_client, create_function, ending):
    name = create_function(ESCAPER, timeout=2)
    event = {} if ending == "deleted" else {"then": ending}
    response = invoke(lambda_client, name, event, LogType="Tail")
    pids = escapers_from(response)
    assert len(pids) == 2
    if ending == "deleted":
        assert not gone(pids), "the children run while their environment does"
        lambda_client.delete_function(FunctionName=name)
    else:
        assert response["FunctionError"] == "Unhandled"
    assert wait_for(lambda: gone(pids)), [psutil.Process(p) for p in pids if psutil.pid_exists(p)]


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o700


@pytest.mark.parametrize("ending", ["deleted", "time out", "crash"])
def test_process_folder_is_private_and_removed_when_its_process_ends(
    lambda_client, create_function, ending
):
    name = create_function(ESCAPER, timeout=2)
    where = invoke(lambda_client, name, {"then": "where"})["Payload"]
    folder = Path(where["folder"])
    assert private(folder) and private(folder / "tmp")
    assert os.getuid() == folder.stat().st_uid
    if ending == "deleted":
        lambda_client.delete_function(FunctionName=name)
    else:
        # The same (warm) environment, so the same process and folder.
        response = invoke(lambda_client, name, {"then": ending}, LogType="Tail")
        assert response["FunctionError"] == "Unhandled"
    assert wait_for(lambda: not folder.exists())
    assert wait_for(lambda: gone([where["pid"]]))
