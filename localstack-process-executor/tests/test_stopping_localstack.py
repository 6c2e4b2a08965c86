"""Stopping LocalStack, or losing it, leaves no process of the kit; `sfnlab up` clears what a
LocalStack that died left on disk; it gives LocalStack the descriptors the system allows."""

from __future__ import annotations

import os
import resource
import signal
from pathlib import Path

import psutil
import pytest
from own_localstacks import make_function
from test_process_hygiene import ESCAPER, gone

from sfnlab.lab import lifecycle
from sfnlab.localstack import embedded
from sfnlab.support.aws import client
from sfnlab.testing.functions import invoke
from sfnlab.testing.waiting import wait_for


def kit_processes(state_dir: Path) -> list[psutil.Process]:
    """Processes that belong to the kit run from `state_dir`: they name it in their command
    line, working folder or environment (LocalStack, the inbox, runtime processes, and
    whatever a handler started)."""
    marker = str(state_dir)
    found = []
    for process in psutil.process_iter():
        try:
            if process.pid == os.getpid():
                continue
            named = (
                any(marker in part for part in process.cmdline())
                or process.cwd().startswith(marker)
                or any(marker in value for value in process.environ().values())
            )
            if named and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.Error:
            continue
    return found


def run_escaper(kit, runtime: str) -> list[int]:
    """Invoke a handler that leaves two escaped children; their pids and the handler's."""
    name = make_function(kit, ESCAPER, runtime)
    result = invoke(client("lambda", kit), name)["Payload"]
    return [*result["escapers"], result["pid"]]


def test_down_stops_escaped_children_and_leaves_no_process_of_the_kit(
    own_localstack, lambda_python_version
):
    kit = own_localstack()
    pids = run_escaper(kit, "python{}.{}".format(*lambda_python_version))
    assert not gone(pids)
    assert lifecycle.down(kit).stopped
    assert wait_for(lambda: gone(pids))
    assert kit_processes(kit.state_dir) == []


def test_localstack_killed_takes_its_lambdas_down_and_next_up_clears_its_folders(
    own_localstack, lambda_python_version
):
    kit = own_localstack()
    pids = run_escaper(kit, "python{}.{}".format(*lambda_python_version))
    left = embedded.leftover_folders(kit)
    assert any("process-executor" in str(f) for f in left), "a process folder"
    assert any("/tmp/lambda/" in str(f) for f in left), "a function's code folder"

    os.kill(embedded.running_embedded(kit).pid, signal.SIGKILL)  # no chance to clean up
    # Each environment's keeper sees its lifeline close and takes all below it down.
    assert wait_for(lambda: gone(pids))
    assert all(folder.exists() for folder in left)

    lifecycle.up(kit)
    assert not any(folder.exists() for folder in left)


@pytest.mark.skipif(
    resource.getrlimit(resource.RLIMIT_NOFILE)[1] <= 1024,
    reason="the hard limit on open files is 1,024 here: nothing to raise",
)
def test_up_raises_localstacks_soft_descriptor_limit(own_localstack):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # a desktop's default
    try:
        kit = own_localstack()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    limits = psutil.Process(embedded.running_embedded(kit).pid).rlimit(psutil.RLIMIT_NOFILE)
    assert limits == (min(hard, 65_536), hard)
