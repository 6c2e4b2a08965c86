"""The Lambda service's background work is not held up by waiting tasks (patch
`lambda_task_pool`).

LocalStack 4.14.0 runs it on a pool sized from the CPU count, where stopping a deleted
function's event manager waits up to 2 s for its SQS long poll: a few deletions kept a new
function Pending. What stays the same: functions created while others are deleted become
Active and run; the deleted ones are gone; an asynchronous invocation (the event
manager's work) still runs.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from localstack_python import in_localstack

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.support.polling import poll
from sfnlab.testing.functions import invoke

SOURCE = """
import os

def handler(event, context):
    if event.get("write"):
        with open(event["write"], "w") as out:
            out.write(context.aws_request_id)
    return {"name": context.function_name}
"""


def test_work_runs_while_more_tasks_wait_than_localstack_had_threads():
    """Inside LocalStack: as many waiting tasks as its own pool had threads, and more,
    do not keep the next task from running; with LocalStack's pool, they do."""
    report = in_localstack(
        """
        import json, threading
        from localstack.services.lambda_.invocation.lambda_service import LambdaService

        def blocked_by_waiting_tasks(service):
            size = service.task_executor._max_workers
            release, ran = threading.Event(), threading.Event()
            for _ in range(min(size, 32) + 4):
                service.task_executor.submit(release.wait)
            service.task_executor.submit(ran.set)
            result = not ran.wait(2)
            release.set()
            service.task_executor.shutdown(wait=True)
            return size, result

        before = blocked_by_waiting_tasks(LambdaService())
        from localstack_sfnlab_patches import lambda_task_pool
        lambda_task_pool.apply()
        after = blocked_by_waiting_tasks(LambdaService())
        print(json.dumps({"before": before, "after": after}))
        """
    )
    size_before, blocked_before = report["before"]
    size_after, blocked_after = report["after"]
    assert blocked_before, "LocalStack's own pool no longer waits: is the patch still needed?"
    assert size_after > size_before and not blocked_after


def test_functions_made_while_others_are_deleted_run_and_the_deleted_are_gone(
    lambda_client, create_function, tmp_path
):
    doomed = [create_function(SOURCE) for _ in range(10)]
    for name in doomed:
        lambda_client.delete_function(FunctionName=name)
    fresh = [create_function(SOURCE, wait=False) for _ in range(3)]
    for name in fresh:
        wait_until_ready(lambda_client, name)
        assert invoke(lambda_client, name)["Payload"] == {"name": name}
    for name in doomed:
        with pytest.raises(ClientError) as gone:
            lambda_client.get_function(FunctionName=name)
        assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"

    # An asynchronous invocation goes through the function's event manager.
    written = tmp_path / "event-invoke.txt"
    response = lambda_client.invoke(
        FunctionName=fresh[0],
        InvocationType="Event",
        Payload=json.dumps({"write": str(written)}).encode(),
    )
    assert response["StatusCode"] == 202
    assert poll(written.exists, 30, max_delay=0.2), "the event invocation never ran"
