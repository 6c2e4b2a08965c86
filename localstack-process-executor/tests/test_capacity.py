"""Live environments are bounded: warm ones are reused, idle ones give way, invocations
beyond the cap wait for a turn (warm ones first) and are throttled as Lambda throttles, and
idle ones stop after the keep-alive.

Most of these run on a LocalStack of their own with room for two environments
(PROCESS_EXECUTOR_MAX_ENVIRONMENTS=2) and a three-second wait for a turn.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import psutil
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from own_localstacks import make_function, most_at_once, start_localstack

from sfnlab.lab import lifecycle
from sfnlab.localstack import embedded
from sfnlab.testing.waiting import wait_for

SLEEPER = """
import os, time

def handler(event, context):
    started = time.time()
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "folder": os.path.dirname(os.environ["HOME"]),
            "started": started, "ended": time.time()}
"""


@pytest.fixture(scope="module")
def room_for_two(tmp_path_factory, lambda_interpreter):
    kit = start_localstack(
        tmp_path_factory.mktemp("room-for-two"),
        PROCESS_EXECUTOR_MAX_ENVIRONMENTS="2",
        PROCESS_EXECUTOR_QUEUE_SECONDS="3",
    )
    yield kit
    lifecycle.down(kit)


@pytest.fixture(scope="module")
def runtime(lambda_python_version) -> str:
    return "python{}.{}".format(*lambda_python_version)


def lambda_without_retries(kit):
    """A client that shows every throttle (the kit's own retries them)."""
    return boto3.client(
        "lambda",
        endpoint_url=kit.endpoint,
        region_name=kit.region,
        aws_access_key_id=kit.account_id,
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=120),
    )


def call(lam, name: str, event: dict) -> dict:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event))
    assert "FunctionError" not in response
    return json.loads(response["Payload"].read())


def test_invocations_beyond_the_cap_wait_for_a_turn_and_reuse_warm_environments(
    room_for_two, runtime
):
    name = make_function(room_for_two, SLEEPER, runtime)
    lam = lambda_without_retries(room_for_two)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: call(lam, name, {"sleep": 0.5}), range(6)))
    assert most_at_once(results) == 2
    # The ones that waited took the two warm environments rather than starting new ones.
    assert len({r["pid"] for r in results}) == 2


def test_invocations_that_wait_too_long_are_throttled_as_lambda_throttles(room_for_two, runtime):
    name = make_function(room_for_two, SLEEPER, runtime)
    lam = lambda_without_retries(room_for_two)

    def attempt(_):
        try:
            return call(lam, name, {"sleep": 8})
        except ClientError as e:
            return e.response

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(attempt, range(4)))
    served = [o for o in outcomes if "pid" in o]
    throttled = [o for o in outcomes if "Error" in o]
    assert len(served) == 2 and len(throttled) == 2
    for response in throttled:
        assert response["Error"]["Code"] == "TooManyRequestsException"
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert response["Reason"] == "ConcurrentInvocationLimitExceeded"


def test_idle_environments_give_way_least_recently_used_first(room_for_two, runtime):
    first, second, third = (make_function(room_for_two, SLEEPER, runtime) for _ in range(3))
    lam = lambda_without_retries(room_for_two)
    one = call(lam, first, {})
    two = call(lam, second, {})
    three = call(lam, third, {})  # no room: the first, idle the longest, gives way
    assert wait_for(lambda: not psutil.pid_exists(one["pid"]))
    assert wait_for(lambda: not Path(one["folder"]).exists())
    assert psutil.pid_exists(two["pid"]) and psutil.pid_exists(three["pid"])
    assert call(lam, second, {})["pid"] == two["pid"]  # still warm
    assert call(lam, first, {})["pid"] != one["pid"]  # started afresh


def test_a_freed_turn_goes_to_an_invocation_with_a_warm_process_first(room_for_two, runtime):
    """Both turns busy; an invocation of another function queues first, then one of the
    function about to finish. When that one finishes, the later invocation takes its idle
    process (no cold start); only then does the other start one. First come, first served
    would have stopped that process for the other function, then started it again."""
    short, long, other = (make_function(room_for_two, SLEEPER, runtime) for _ in range(3))
    lam = lambda_without_retries(room_for_two)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(call, lam, short, {"sleep": 1.5})
        pool.submit(call, lam, long, {"sleep": 3})
        time.sleep(0.7)  # both turns taken
        queued_first = pool.submit(call, lam, other, {})
        time.sleep(0.3)
        queued_second = pool.submit(call, lam, short, {})
        warm, cold = queued_second.result(), queued_first.result()
    assert warm["pid"] == first.result()["pid"]
    assert warm["started"] < cold["started"]


def test_a_queue_of_three_functions_is_served_whole_never_beyond_the_cap(room_for_two, runtime):
    """Thirty invocations of three functions at once, on room for two: every one is
    served (the turns handed on, none lost or given twice), never more than two run at a
    time, and warm processes serve most of them."""
    names = [make_function(room_for_two, SLEEPER, runtime) for _ in range(3)]
    lam = lambda_without_retries(room_for_two)
    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(lambda i: call(lam, names[i % 3], {"sleep": 0.05}), range(30)))
    assert len(results) == 30
    assert most_at_once(results) <= 2
    # First come, first served: over twenty processes; warm first: three or four.
    assert len({r["pid"] for r in results}) <= 8


def test_an_invocation_passed_over_for_warm_ones_goes_next_after_half_its_wait(
    own_localstack, runtime
):
    """Room for one. An invocation of a function without a process queues, then a stream
    of invocations of a warm function queues behind it: the stream goes first, but once
    the first has waited half its queue time (4 of 8 s) it goes next, before the stream
    is through, and is not throttled. (First come, first served would have taken it at
    once; warm first without a bound, last.)"""
    kit = own_localstack(PROCESS_EXECUTOR_MAX_ENVIRONMENTS="1", PROCESS_EXECUTOR_QUEUE_SECONDS="8")
    warm, cold = (make_function(kit, SLEEPER, runtime) for _ in range(2))
    lam = lambda_without_retries(kit)
    with ThreadPoolExecutor(12) as pool:
        busy = pool.submit(call, lam, warm, {"sleep": 1})
        time.sleep(0.3)
        queued = time.time()
        passed_over = pool.submit(call, lam, cold, {})
        time.sleep(0.1)
        stream = [pool.submit(call, lam, warm, {"sleep": 0.4}) for _ in range(10)]
        passed_over, busy = passed_over.result(), busy.result()
        stream = [future.result() for future in stream]
    assert passed_over["started"] - queued >= 3.5  # the warm ones went first ...
    assert passed_over["started"] < max(r["started"] for r in stream)  # ... not all of them


def test_an_invocation_is_given_the_environment_whose_process_is_waiting(room_for_two, runtime):
    """A function with two environments, the first of which gave its process up to another
    function: the next invocation takes the second one's live process, instead of starting
    a process in the first (LocalStack by itself takes the first ready one it created)."""
    name, other = (make_function(room_for_two, SLEEPER, runtime) for _ in range(2))
    lam = lambda_without_retries(room_for_two)
    first = call(lam, name, {})
    with ThreadPoolExecutor(2) as pool:
        # The first environment, warm, takes the short one; the long one needs a second.
        short = pool.submit(call, lam, name, {"sleep": 0.3})
        time.sleep(0.1)
        long = pool.submit(call, lam, name, {"sleep": 1})
        short, long = short.result(), long.result()
    assert short["pid"] == first["pid"] != long["pid"]
    call(lam, other, {})  # no room: the first environment, idle the longest, gives way
    assert wait_for(lambda: not psutil.pid_exists(first["pid"]))
    assert call(lam, name, {})["pid"] == long["pid"]


def test_idle_environments_stop_after_the_keep_alive(own_localstack, runtime):
    kit = own_localstack(LAMBDA_KEEPALIVE_MS="1000")
    name = make_function(kit, SLEEPER, runtime)
    result = call(lambda_without_retries(kit), name, {})
    started = time.monotonic()
    assert wait_for(lambda: not psutil.pid_exists(result["pid"]), timeout=15)
    assert time.monotonic() - started >= 0.5
    assert wait_for(lambda: not Path(result["folder"]).exists())


def test_the_kit_keeps_idle_environments_for_a_minute(localstack):
    """README: idle environments stop after 60 s, LocalStack's own default being 10 min."""
    process = psutil.Process(embedded.running_embedded(localstack).pid)
    assert process.environ()["LAMBDA_KEEPALIVE_MS"] == "60000"
