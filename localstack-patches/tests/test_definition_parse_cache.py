"""Each state machine definition is parsed once (patch `definition_parse_cache`).

What stays the same: executions of one definition, even started at once, each run a
program of their own on their own data; two state machines with the same definition
behave alike; a definition Step Functions refuses is refused again, with the same
message, however often it is sent; and the program built from a kept parse tree is the
one a fresh parse builds.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

from localstack_python import in_localstack
from token_waits import ROLE, ended, refusal

# A loop (Choice back to a Pass) keeps per-execution state in the program's components
# busy: a counter that must reach each execution's own limit.
COUNTER = {
    "StartAt": "Start",
    "States": {
        "Start": {"Type": "Pass", "Parameters": {"n": 0, "limit.$": "$.limit"}, "Next": "More"},
        "More": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.n", "NumericLessThanPath": "$.limit", "Next": "Count"},
            ],
            "Default": "Done",
        },
        "Count": {
            "Type": "Pass",
            "Parameters": {"n.$": "States.MathAdd($.n, 1)", "limit.$": "$.limit"},
            "Next": "More",
        },
        "Done": {"Type": "Succeed"},
    },
}


def create(sfn_client, definition: dict) -> str:
    return sfn_client.create_state_machine(
        name=f"test-parse-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn=ROLE,
    )["stateMachineArn"]


def count_to(sfn_client, machine: str, limit: int) -> dict:
    arn = sfn_client.start_execution(stateMachineArn=machine, input=json.dumps({"limit": limit}))[
        "executionArn"
    ]
    assert ended(sfn_client, arn, timeout=60) == "SUCCEEDED"
    return json.loads(sfn_client.describe_execution(executionArn=arn)["output"])


def test_executions_of_one_definition_started_at_once_keep_to_their_own_data(sfn_client):
    machines = [create(sfn_client, COUNTER), create(sfn_client, COUNTER)]  # same text twice
    try:
        runs = [(machines[limit % 2], limit) for limit in range(1, 9)]
        with ThreadPoolExecutor(8) as pool:
            outputs = list(pool.map(lambda run: count_to(sfn_client, *run), runs))
        assert outputs == [{"n": limit, "limit": limit} for _, limit in runs]
    finally:
        for machine in machines:
            sfn_client.delete_state_machine(stateMachineArn=machine)


def test_a_refused_definition_is_refused_every_time_with_the_same_message(sfn_client):
    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": "yes"}}})
    refusals = [
        refusal(
            sfn_client.create_state_machine,
            name=f"test-parse-broken-{uuid.uuid4().hex[:8]}",
            definition=broken,
            roleArn=ROLE,
        )
        for _ in range(2)
    ]
    assert refusals[0] is not None and refusals[0][0] == "InvalidDefinition"
    assert refusals[0] == refusals[1]
    checks = [sfn_client.validate_state_machine_definition(definition=broken) for _ in range(2)]
    assert checks[0]["result"] == checks[1]["result"] == "FAIL"
    assert checks[0]["diagnostics"] == checks[1]["diagnostics"]


def test_a_kept_tree_gives_each_use_a_fresh_program_like_a_fresh_parse():
    report = in_localstack(
        f"""
        import json, threading
        from localstack.services.stepfunctions.asl.parse import asl_parser
        from localstack.services.stepfunctions.asl.parse.asl_parser import (
            AmazonStateLanguageParser, ASLParserException)
        fresh_parse = AmazonStateLanguageParser.parse
        from localstack_sfnlab_patches import definition_parse_cache as patch
        patch.patch_parser(asl_parser)

        text = {json.dumps(COUNTER)!r}
        program, tree = AmazonStateLanguageParser.parse(text)
        again, same_tree = AmazonStateLanguageParser.parse(text)
        fresh_program, fresh_tree = fresh_parse(text)

        def shape(component, depth=0):
            # The program's components, by type and own plain values, all the way down.
            if depth > 40:
                return "..."
            if isinstance(component, (str, int, float, bool, type(None))):
                return component
            if isinstance(component, (list, tuple)):
                return [shape(c, depth + 1) for c in component]
            if isinstance(component, dict):
                return {{str(k): shape(v, depth + 1) for k, v in component.items()}}
            if hasattr(component, "__dict__"):
                return [type(component).__name__, {{
                    k: shape(v, depth + 1) for k, v in sorted(vars(component).items())
                    if not k.startswith("_")}}]
            return type(component).__name__

        # Eight threads at once: each gets a program of its own from the one tree.
        programs, errors = [], []
        def use():
            try:
                programs.append(AmazonStateLanguageParser.parse(text))
            except Exception as e:
                errors.append(repr(e))
        threads = [threading.Thread(target=use) for _ in range(8)]
        [t.start() for t in threads]; [t.join() for t in threads]

        raised = []
        for _ in range(2):
            try:
                AmazonStateLanguageParser.parse('{{"StartAt": "A", "States": {{"A": ')
            except ASLParserException as e:
                raised.append(repr(e))
        small = patch.ParseTrees(size=2)
        for n in range(3):
            small.put(str(n), n)
        small.get("1")
        small.put("3", 3)
        print(json.dumps({{
            "tree_kept": tree is same_tree and len(patch.TREES) == 1,
            "programs_own": program is not again
                and len({{id(p) for p, _ in programs}} | {{id(program), id(again)}}) == 10,
            "tree_shared": all(t is tree for _, t in programs),
            "same_program": shape(again) == shape(fresh_program) == shape(program),
            "same_tree": tree.toStringTree(recog=tree.parser)
                == fresh_tree.toStringTree(recog=fresh_tree.parser),
            "errors": errors,
            "raised": raised,
            "lru": [small.get(str(n)) for n in range(4)],
        }}))
        """
    )
    assert report["tree_kept"] and report["tree_shared"] and report["programs_own"]
    assert report["same_program"] and report["same_tree"]
    assert report["errors"] == []
    assert len(report["raised"]) == 2 and report["raised"][0] == report["raised"][1]
    assert report["lru"] == [None, 1, None, 3]
