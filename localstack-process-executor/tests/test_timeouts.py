"""A function's Timeout is enforced, and takes the function's whole process tree with it."""

from __future__ import annotations

import base64
import re

import psutil

from sfnlab.testing.functions import invoke
from sfnlab.testing.waiting import wait_for

SLEEPER = """
import os, subprocess, time

INVOCATIONS = 0

def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    if event.get("sleep"):
        child = subprocess.Popen(["sleep", "300"])
        print(f"pids {os.getpid()} {child.pid}", flush=True)
        time.sleep(event["sleep"])
    return {"invocations": INVOCATIONS, "pid": os.getpid()}
"""


def test_timeout_fails_the_invocation_with_aws_error(lambda_client, create_function):
    name = create_function(SLEEPER, timeout=1)
    response = invoke(lambda_client, name, {"sleep": 30}, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "Sandbox.Timedout"
    assert response["Payload"]["errorMessage"].endswith("Task timed out after 1.00 seconds")
    log = base64.b64decode(response["LogResult"]).decode()
    assert "Task timed out after 1.00 seconds" in log
    assert "Status: timeout" in log


def test_timeout_kills_the_process_tree(lambda_client, create_function):
    name = create_function(SLEEPER, timeout=1)
    response = invoke(lambda_client, name, {"sleep": 30}, LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    pids = [int(pid) for pid in re.search(r"pids (\d+) (\d+)", log).groups()]
    assert wait_for(lambda: not any(psutil.pid_exists(pid) for pid in pids))


def test_next_invocation_after_a_timeout_gets_a_fresh_environment(lambda_client, create_function):
    name = create_function(SLEEPER, timeout=1)
    first = invoke(lambda_client, name)["Payload"]
    assert first["invocations"] == 1
    assert invoke(lambda_client, name)["Payload"]["invocations"] == 2  # warm: same process
    invoke(lambda_client, name, {"sleep": 30})
    after = invoke(lambda_client, name)["Payload"]
    assert after["invocations"] == 1  # module state is gone: a fresh process
    assert after["pid"] != first["pid"]
