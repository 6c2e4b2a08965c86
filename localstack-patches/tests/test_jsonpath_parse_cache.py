"""Each JSONPath expression is parsed once (patch `jsonpath_parse_cache`): what stays the same.

The patch changes how often LocalStack parses, never what an expression means: every
path still selects from the data it is given (the same text on other data selects other
values), executions running at once do not see each other's data, a path that finds
nothing fails the state as before, and a parsed expression equals a fresh parse of it.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from localstack_python import in_localstack
from token_waits import ROLE, ended

# Every kind of path a workflow uses: a field, an index (unpacked, as AWS does), a
# wildcard, a slice, a filter, the context object, a nested ResultPath, a Choice.
PICK = {
    "id.$": "$.order.id",
    "first.$": "$.order.items[0].sku",
    "skus.$": "$.order.items[*].sku",
    "rest.$": "$.order.items[1:]",
    "big.$": "$.order.items[?(@.qty > 2)].sku",
    "execution.$": "$$.Execution.Name",
}
DEFINITION = {
    "StartAt": "Pick",
    "States": {
        "Pick": {
            "Type": "Pass",
            "Parameters": PICK,
            "ResultPath": "$.picked.now",
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.picked.now.first", "StringEquals": "x", "Next": "X"},
            ],
            "Default": "Other",
        },
        "X": {"Type": "Pass", "Result": "x", "ResultPath": "$.route", "Next": "Out"},
        "Other": {"Type": "Pass", "Result": "other", "ResultPath": "$.route", "Next": "Out"},
        "Out": {"Type": "Pass", "OutputPath": "$.picked.now", "End": True},
    },
}


def order(number: int) -> dict:
    """Data of its own for each execution: the same paths select different values (the
    filter always finds two or three items: LocalStack unpacks a single match)."""
    skus = ["x", "y", "z"] if number % 2 == 0 else ["q", "r", "s"]
    quantities = [number % 5, 3, 4]
    return {
        "order": {
            "id": f"A-{number}",
            "items": [{"sku": sku, "qty": qty} for sku, qty in zip(skus, quantities, strict=True)],
        }
    }


def expected(data: dict, name: str) -> dict:
    items = data["order"]["items"]
    return {
        "id": data["order"]["id"],
        "first": items[0]["sku"],
        "skus": [item["sku"] for item in items],
        "rest": items[1:],
        "big": [item["sku"] for item in items if item["qty"] > 2],
        "execution": name,
    }


@pytest.fixture(scope="module")
def machine(sfn_client):
    arn = sfn_client.create_state_machine(
        name=f"test-jsonpath-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(DEFINITION),
        roleArn=ROLE,
    )["stateMachineArn"]
    yield arn
    sfn_client.delete_state_machine(stateMachineArn=arn)


def run(sfn_client, machine: str, number: int) -> tuple[dict, dict]:
    name = f"order-{number}-{uuid.uuid4().hex[:6]}"
    data = order(number)
    arn = sfn_client.start_execution(stateMachineArn=machine, name=name, input=json.dumps(data))[
        "executionArn"
    ]
    assert ended(sfn_client, arn, timeout=30) == "SUCCEEDED"
    output = json.loads(sfn_client.describe_execution(executionArn=arn)["output"])
    return output, expected(data, name)


def test_the_same_paths_select_each_executions_own_data_when_run_at_once(sfn_client, machine):
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda number: run(sfn_client, machine, number), range(12)))
    for output, wanted in results:
        assert output == wanted
    # The filter found different items for different data: nothing was kept but the parse.
    assert {tuple(output["big"]) for output, _ in results} == {
        tuple(wanted["big"]) for _, wanted in results
    }
    assert len({tuple(output["big"]) for output, _ in results}) > 2


def test_a_path_that_finds_nothing_fails_the_state_every_time(sfn_client):
    definition = {
        "StartAt": "Read",
        "States": {"Read": {"Type": "Pass", "Parameters": {"v.$": "$.missing"}, "End": True}},
    }
    arn = sfn_client.create_state_machine(
        name=f"test-jsonpath-missing-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn=ROLE,
    )["stateMachineArn"]
    try:
        failures = []
        for attempt in range(2):
            execution = sfn_client.start_execution(
                stateMachineArn=arn, input=json.dumps({"present": attempt})
            )["executionArn"]
            assert ended(sfn_client, execution) == "FAILED"
            described = sfn_client.describe_execution(executionArn=execution)
            failures.append((described["error"], described["cause"]))
        assert failures[0][0] == failures[1][0] == "States.Runtime"
        assert "The JSONPath '$.missing' specified for the field 'v.$'" in failures[0][1]
        assert '{"present": 1}' in failures[1][1]  # about the second run's own input
    finally:
        sfn_client.delete_state_machine(stateMachineArn=arn)


def test_a_kept_parse_equals_a_fresh_one_and_is_bounded():
    report = in_localstack(
        """
        import json, threading
        from jsonpath_ng import parse as plain_parse
        from jsonpath_ng.ext import parse as extended_parse
        from localstack_sfnlab_patches import jsonpath_parse_cache as patch

        paths = ["$", "$.a", "$.a.b[0]", "$.list[*].x", "$.list[1:]", "$.list[-1:]",
                 "$.list[?(@.n > 1)].x", "$.list[?(@.x == 'b')]", "$['odd key']",
                 "$.a..b", "$.list[*].n"]
        data = {"a": {"b": [7, 8]}, "odd key": 1,
                "list": [{"x": "a", "n": 1}, {"x": "b", "n": 2}, {"x": "c", "n": 3}]}
        cached = patch.cached(extended_parse)
        same = all(
            cached(p) == extended_parse(p)
            and [m.value for m in cached(p).find(data)]
            == [m.value for m in extended_parse(p).find(data)]
            for p in paths
        )
        plain = patch.cached(plain_parse)
        target = {"in": 1}
        updated = plain("$.out.deep").update_or_create(dict(target), {"v": 2})
        fresh = plain_parse("$.out.deep").update_or_create(dict(target), {"v": 2})

        # Eight threads at once get equal expressions, and results.
        found, errors = [], []
        def work():
            try:
                for p in paths * 20:
                    found.append((p, [m.value for m in cached(p).find(data)]))
            except Exception as e:
                errors.append(repr(e))
        threads = [threading.Thread(target=work) for _ in range(8)]
        [t.start() for t in threads]; [t.join() for t in threads]
        fresh_values = {p: [m.value for m in extended_parse(p).find(data)] for p in paths}
        agree = len(found) == 8 * 20 * len(paths) and all(v == fresh_values[p] for p, v in found)

        # A path that does not parse raises every time, and is not kept.
        raised = 0
        for _ in range(2):
            try:
                cached("$.a[?(@.b ==")
            except Exception:
                raised += 1
        kept = cached.cache_info().currsize
        small = patch.cached(extended_parse, size=4)
        for p in paths:
            small(p)
        small(paths[-1])  # the most recent stays
        print(json.dumps({
            "same": same, "updated": updated == fresh, "agree": agree, "errors": errors,
            "raised": raised, "kept": kept, "paths": len(paths),
            "bounded": small.cache_info().currsize == 4, "hits": small.cache_info().hits,
        }))
        """
    )
    assert report["same"] and report["updated"] and report["agree"]
    assert report["errors"] == [] and report["raised"] == 2
    assert report["kept"] == report["paths"]  # the broken path was not kept
    assert report["bounded"] and report["hits"] == 1
