"""Each environment is its own process, and none outlives its function."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import psutil

from sfnlab.testing.functions import invoke
from sfnlab.testing.waiting import wait_for

PID_REPORTER = """
import os, subprocess, time

def handler(event, context):
    child = subprocess.Popen(["sleep", "300"])
    time.sleep(event.get("hold", 0))
    return {"pid": os.getpid(), "child": child.pid}
"""


def gone(*pids: int) -> bool:
    return not any(psutil.pid_exists(pid) for pid in pids)


def test_parallel_invocations_get_separate_environments(lambda_client, create_function):
    name = create_function(PID_REPORTER)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: invoke(lambda_client, name, {"hold": 1.5}), range(3)))
    pids = {result["Payload"]["pid"] for result in results}
    assert len(pids) == 3
    assert os.getpid() not in pids


def test_deleting_a_function_leaves_no_process(lambda_client, create_function):
    name = create_function(PID_REPORTER)
    result = invoke(lambda_client, name)["Payload"]
    assert psutil.pid_exists(result["pid"])
    lambda_client.delete_function(FunctionName=name)
    assert wait_for(lambda: gone(result["pid"], result["child"]))


def test_updating_a_function_leaves_no_process(lambda_client, create_function):
    name = create_function(PID_REPORTER)
    result = invoke(lambda_client, name)["Payload"]
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"CHANGED": "1"}}
    )
    assert wait_for(lambda: gone(result["pid"], result["child"]))
    assert invoke(lambda_client, name)["Payload"]["pid"] != result["pid"]
