"""Limits AWS Lambda enforces, enforced alike: the response size, and the Init phase.

AWS: a synchronous response over 6 MB (6,291,556 bytes) fails the invocation with
`Function.ResponseSizeTooLarge` and `FunctionError: Unhandled`. An Init phase (importing
the handler's module) is limited to 10 s; one that takes longer is run again with the
first invocation, within the function's timeout: the invocation then succeeds if that
is enough, and times out (`Sandbox.Timedout`) if not. It never hangs.
"""

from __future__ import annotations

import time

import psutil

from sfnlab.testing.functions import invoke
from sfnlab.testing.waiting import wait_for

LIMIT = 6 * 1024 * 1024 + 100  # 6,291,556 bytes

SIZED = """
def handler(event, context):
    return "x" * event["length"]
"""

SLOW_INIT = """
import os, time

time.sleep(11)  # longer than the 10 s AWS allows an Init phase

def handler(event, context):
    return {"pid": os.getpid()}
"""


def test_a_response_of_exactly_the_limit_is_returned(lambda_client, create_function):
    name = create_function(SIZED)
    # A JSON string of n characters is n + 2 bytes (its quotes).
    response = invoke(lambda_client, name, {"length": LIMIT - 2})
    assert "FunctionError" not in response
    assert len(response["Payload"]) == LIMIT - 2


def test_a_response_over_the_limit_fails_as_on_aws(lambda_client, create_function):
    name = create_function(SIZED)
    response = invoke(lambda_client, name, {"length": LIMIT - 1})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"] == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
        "(6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    # The environment is fine: the next invocation is answered.
    assert invoke(lambda_client, name, {"length": 3})["Payload"] == "xxx"


def test_an_init_over_10_s_that_the_timeout_cannot_cover_times_out(lambda_client, create_function):
    name = create_function(SLOW_INIT, timeout=2)
    started = time.monotonic()
    response = invoke(lambda_client, name, LogType="Tail")
    took = time.monotonic() - started
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "Sandbox.Timedout"
    assert response["Payload"]["errorMessage"].endswith("Task timed out after 2.00 seconds")
    assert 12 <= took < 60, "10 s of Init, then 2 s of the invocation's own time"
    # No process is left importing the module.
    assert wait_for(lambda: not processes_in_code_of(name))


def test_an_init_over_10_s_runs_again_within_the_invocation(lambda_client, create_function):
    name = create_function(SLOW_INIT, timeout=30)
    response = invoke(lambda_client, name)
    assert "FunctionError" not in response, response["Payload"]
    # Warm afterwards: the second invocation does not wait for an Init.
    started = time.monotonic()
    again = invoke(lambda_client, name)
    assert again["Payload"]["pid"] == response["Payload"]["pid"]
    assert time.monotonic() - started < 10


def processes_in_code_of(name: str) -> list[psutil.Process]:
    """Runtime processes of function `name` (they run in its code folder)."""
    found = []
    for process in psutil.process_iter():
        try:
            if f"/{name}-" in process.cwd():
                found.append(process)
        except psutil.Error:
            continue
    return found
