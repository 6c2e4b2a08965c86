"""LocalStack keeps no idle connection to itself for each internal client.

Step Functions calls Lambda through LocalStack's own gateway with a client made for the
state machine's role, a new one for each task. LocalStack 4.14 kept each client's
connection open (two descriptors in LocalStack) until the client left its cache of 256:
a class's load of executions ran LocalStack towards a desktop's limit of 1,024 open
files (patch `internal_client_connections`).
"""

from __future__ import annotations

import json
import os
import uuid

from sfnlab.localstack import embedded
from sfnlab.support.polling import poll

EXECUTIONS = 20
ROLE = "arn:aws:iam::000000000000:role/internal-connections"


def sockets(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


def test_lambda_tasks_leave_no_connection_behind(localstack, sfn_client, create_function):
    function = create_function("def handler(event, context):\n    return event\n")
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function, "Payload.$": "$"},
                "End": True,
            }
        },
    }
    machine = sfn_client.create_state_machine(
        name=f"connections-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    pid = embedded.running_embedded(localstack).pid

    def run_all() -> None:
        arns = [
            sfn_client.start_execution(stateMachineArn=machine, input=json.dumps({"n": n}))[
                "executionArn"
            ]
            for n in range(EXECUTIONS)
        ]
        for arn in arns:
            assert poll(
                lambda arn=arn: (
                    sfn_client.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
                ),
                60,
                max_delay=0.2,
            )

    run_all()  # what LocalStack opens once for Step Functions and Lambda is open now
    before = sockets(pid)
    run_all()
    # Each task's client would have kept one: 2 x 20 more descriptors.
    assert poll(lambda: sockets(pid) <= before + 4, 10, max_delay=0.5), (before, sockets(pid))
