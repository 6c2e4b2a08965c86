"""Paths select what AWS's paths select, execution after execution, with parsed JSONPaths
reused (patch `stepfunctions_jsonpath_cache`): each execution gets its own values."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

from sfnlab.polling import poll

ROLE = "arn:aws:iam::000000000000:role/jsonpath-cache"
DEFINITION = {
    "StartAt": "Shape",
    "States": {
        "Shape": {
            "Type": "Pass",
            "InputPath": "$.issue",
            "Parameters": {"id.$": "$.id", "labels.$": "$.labels[1:]", "first.$": "$.labels[0]"},
            "ResultPath": "$.shaped",
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.shaped.first", "StringEquals": "bug", "Next": "Bug"}],
            "Default": "Other",
        },
        "Bug": {
            "Type": "Pass",
            "Result": "bug",
            "ResultPath": "$.kind",
            "OutputPath": "$",
            "End": True,
        },
        "Other": {"Type": "Pass", "Result": "other", "ResultPath": "$.kind", "End": True},
    },
}


def test_each_execution_gets_its_own_values(sfn_client):
    machine = sfn_client.create_state_machine(
        name=f"jsonpath-{uuid.uuid4().hex[:8]}", definition=json.dumps(DEFINITION), roleArn=ROLE
    )["stateMachineArn"]

    def run(n: int) -> tuple[int, dict]:
        first = "bug" if n % 2 else "docs"
        event = {"issue": {"id": n, "labels": [first, f"l{n}", f"m{n}"]}}
        arn = sfn_client.start_execution(stateMachineArn=machine, input=json.dumps(event))[
            "executionArn"
        ]
        poll(
            lambda: sfn_client.describe_execution(executionArn=arn)["status"] != "RUNNING",
            60,
            max_delay=0.2,
        )
        return n, json.loads(sfn_client.describe_execution(executionArn=arn)["output"])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, range(16)))
    for n, output in results:
        first = "bug" if n % 2 else "docs"
        assert output == {
            "issue": {"id": n, "labels": [first, f"l{n}", f"m{n}"]},
            "shaped": {"id": n, "labels": [f"l{n}", f"m{n}"], "first": first},
            "kind": "bug" if n % 2 else "other",
        }
