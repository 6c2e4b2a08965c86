"""Every JSONata feature Step Functions documents, on the embedded LocalStack (no JVM).

Expected values are AWS's: the examples of its JSONata and variables guides, and the
results AWS recorded for the same definitions (the `*.snapshot.json` files LocalStack
keeps of its tests run against AWS).
"""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
from jsonata_runs import create, finish, jsonata, pass_output, run, start

from sfnlab.testing.waiting import wait_for

ECHO = """
def handler(event, context):
    return event
"""

FAILS = """
def handler(event, context):
    raise ValueError("the build is red")
"""

RETURNS_AT_ONCE = """
def handler(event, context):
    return {"told": True}
"""


def lambda_task(function: str, **fields) -> dict:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": function, "Payload": fields.pop("Payload", {})},
        **fields,
    }


def test_arguments_and_output_give_the_guides_converted_example(sfn_client, create_function):
    # The JSONPath-to-JSONata example of AWS's guide: same result from both languages.
    echo = create_function(ECHO)
    definition = jsonata(
        {
            "Remember": {"Type": "Pass", "Assign": {"customerName": "María"}, "Next": "Call"},
            "Call": lambda_task(
                echo,
                Payload={
                    "static": "Hello",
                    "title": "{% $states.input.title %}",
                    "name": "{% $customerName %}",
                    "not-evaluated": "$customerName",
                },
                Output="{% $states.result.Payload %}",
                End=True,
            ),
        }
    )
    result = run(sfn_client, definition, {"title": "Doctor"})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {
        "static": "Hello",
        "title": "Doctor",
        "name": "María",
        "not-evaluated": "$customerName",
    }


def test_a_jsonpath_state_reads_variables_without_a_jvm_too(sfn_client, create_function):
    # The same example's JSONPath side: "name.$": "$customerName" reads the variable.
    echo = create_function(ECHO)
    definition = {
        "StartAt": "Remember",
        "States": {
            "Remember": {"Type": "Pass", "Assign": {"customerName": "María"}, "Next": "Call"},
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": echo,
                    "Payload": {
                        "static": "Hello",
                        "title.$": "$.title",
                        "name.$": "$customerName",
                        "not-evaluated": "$customerName",
                    },
                },
                "OutputPath": "$.Payload",
                "End": True,
            },
        },
    }
    result = run(sfn_client, definition, {"title": "Doctor"})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {
        "static": "Hello",
        "title": "Doctor",
        "name": "María",
        "not-evaluated": "$customerName",
    }


def test_states_holds_input_result_and_context(sfn_client, create_function):
    echo = create_function(ECHO)
    definition = jsonata(
        {
            "Call": lambda_task(
                echo,
                Payload={"doubled": "{% $states.input.n * 2 %}"},
                Output={
                    "input": "{% $states.input %}",
                    "result": "{% $states.result.Payload %}",
                    "state": "{% $states.context.State.Name %}",
                    "execution": "{% $states.context.Execution.Name %}",
                    "startInput": "{% $states.context.Execution.Input %}",
                },
                End=True,
            )
        }
    )
    result = run(sfn_client, definition, {"n": 21})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["input"] == {"n": 21}
    assert result.output["result"] == {"doubled": 42}
    assert result.output["state"] == "Call"
    assert result.arn.endswith(":" + result.output["execution"])
    assert result.output["startInput"] == {"n": 21}


def test_states_error_output_is_the_caught_error(sfn_client, create_function):
    failing = create_function(FAILS)
    definition = jsonata(
        {
            "Call": lambda_task(
                failing,
                Catch=[
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Output": "{% $states.errorOutput %}",
                        "Assign": {"failedWith": "{% $states.errorOutput.Error %}"},
                        "Next": "Report",
                    }
                ],
                End=True,
            ),
            "Report": {
                "Type": "Pass",
                "Output": {"error": "{% $states.input.Error %}", "variable": "{% $failedWith %}"},
                "End": True,
            },
        }
    )
    result = run(sfn_client, definition)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"error": "ValueError", "variable": "ValueError"}
    caught = result.of_type("PassStateEntered")[0]["stateEnteredEventDetails"]["input"]
    assert "the build is red" in caught


def test_assign_keeps_a_quote_a_quote(sfn_client):
    # AWS's recorded run of this definition: Check outputs true, and the history shows
    # the variable as the JSON text "\"".
    definition = jsonata(
        {
            "Pass": {"Type": "Pass", "Assign": {"var": '"'}, "Next": "Check"},
            "Check": {"Type": "Pass", "Output": "{% $var = '\"' %}", "End": True},
        }
    )
    result = run(sfn_client, definition)
    assert result.output is True
    exited = result.of_type("PassStateExited")[0]["stateExitedEventDetails"]
    assert exited["assignedVariables"] == {"var": '"\\""'}


def test_variables_live_on_in_later_states_and_can_be_null(sfn_client):
    definition = jsonata(
        {
            "Count": {
                "Type": "Pass",
                "Assign": {
                    "total": "{% $sum($states.input.prices) %}",
                    "who": "{% $states.input.customer %}",
                    "nothing": None,
                    "quoted": "{% 'he said \"hi\"' %}",
                },
                "Next": "Wait",
            },
            "Wait": {"Type": "Pass", "Output": {}, "Next": "Report"},
            "Report": {
                "Type": "Pass",
                "Output": {
                    "line": "{% $who & ' owes ' & $string($total) %}",
                    "nothing": "{% $type($nothing) %}",
                    "quoted": "{% $quoted %}",
                },
                "End": True,
            },
        }
    )
    result = run(sfn_client, definition, {"prices": [1.5, 2.5, 6], "customer": "Ana"})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"line": "Ana owes 10", "nothing": "null", "quoted": 'he said "hi"'}


CHOICE = jsonata(
    # The Choice example of AWS's guide, written in JSONata.
    {
        "ChoiceStateX": {
            "Type": "Choice",
            "Choices": [
                {"Condition": "{% $not($states.input.type = 'Private') %}", "Next": "Public"},
                {"Condition": "{% $states.input.value = 0 %}", "Next": "ValueIsZero"},
                {
                    "Condition": "{% $states.input.value >= 20 and $states.input.value < 30 %}",
                    "Next": "ValueInTwenties",
                },
            ],
            "Default": "DefaultState",
        },
        "Public": {"Type": "Pass", "End": True},
        "ValueIsZero": {"Type": "Pass", "End": True},
        "ValueInTwenties": {"Type": "Pass", "End": True},
        "DefaultState": {"Type": "Fail", "Cause": "No Matches!"},
    }
)


@pytest.mark.parametrize(
    ("execution_input", "branch"),
    [
        ({"type": "Private", "value": 22}, "ValueInTwenties"),  # as AWS recorded it
        ({"type": "Public", "value": 22}, "Public"),
        ({"type": "Private", "value": 0}, "ValueIsZero"),
        ({"type": "Private", "value": 31}, "DefaultState"),
    ],
)
def test_choice_condition_picks_the_branch(sfn_client, execution_input, branch):
    result = run(sfn_client, CHOICE, execution_input)
    entered = [
        event["stateEnteredEventDetails"]["name"]
        for event in result.events
        if event["type"].endswith("StateEntered")
    ]
    assert entered == ["ChoiceStateX", branch]
    if branch == "DefaultState":
        assert (result.status, result.cause) == ("FAILED", "No Matches!")
    else:
        assert result.status == "SUCCEEDED" and result.output == execution_input


def test_map_items_and_item_selector_as_aws_recorded(sfn_client):
    definition = jsonata(
        {
            "Start": {
                "Type": "Pass",
                "Assign": {"ItemsVar": ["Item1", "Item2"]},
                "Next": "MapIterateState",
            },
            "MapIterateState": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "Items": "{% $ItemsVar %}",
                "ItemSelector": {
                    "map_item_value": "{% $states.context.Map.Item.Value %}",
                    "var_sample": "{% $ItemsVar %}",
                    "string_literal": "string literal",
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Pass",
                    "States": {"Pass": {"Type": "Pass", "End": True}},
                },
                "End": True,
            },
        }
    )
    result = run(sfn_client, definition)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [
        {
            "map_item_value": item,
            "var_sample": ["Item1", "Item2"],
            "string_literal": "string literal",
        }
        for item in ("Item1", "Item2")
    ]


def test_map_items_array_may_hold_expressions(sfn_client):
    definition = jsonata(
        {
            "Map": {
                "Type": "Map",
                "Items": [1, "{% $number('2') %}", "{% $states.input.three %}"],
                "ItemSelector": {
                    "value": "{% $states.context.Map.Item.Value %}",
                    "index": "{% $states.context.Map.Item.Index %}",
                },
                "ItemProcessor": {
                    "StartAt": "Square",
                    "States": {
                        "Square": {
                            "Type": "Pass",
                            "Output": "{% $states.input.value * $states.input.value %}",
                            "End": True,
                        }
                    },
                },
                "Output": "{% $states.result %}",
                "End": True,
            }
        }
    )
    result = run(sfn_client, definition, {"three": 3})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [1, 4, 9]


# AWS's recorded results for these expressions ($partition, $range, $parse) and for
# States.Hash, the intrinsic $hash replaces, on "input data".
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$partition([1,2,3,4,5,6,7,8,9], 3)", [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
        ("$partition([0], 1)", [[0]]),
        ("$partition([0, 1, 2], 2)", [[0, 1], [2]]),
        ("$partition([0, 1, 2, 3], 5)", [[0, 1, 2, 3]]),
        ("$range(0, 10, 2)", [0, 2, 4, 6, 8, 10]),
        ("$range(0, 10, 3)", [0, 3, 6, 9]),
        ("$range(1, 9, 9)", 1),
        ("$range(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("$range(10, 0, -5)", [10, 5, 0]),
        ("$count($range(1, 1000, 1))", 1000),
        ("$hash('input data', 'MD5')", "812f45842bc6d66ee14572ce20db8e86"),
        ("$hash('input data', 'SHA-1')", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        (
            "$hash('input data', 'SHA-256')",
            "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3",
        ),
        (
            "$hash('input data', 'SHA-384')",
            "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b"
            "87525bdc835ebb27e1fb9e9374a15562",
        ),
        (
            "$hash('input data', 'SHA-512')",
            "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce"
            "2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
        ),
        ("$parse('-0')", 0),
        ("$parse('1.1')", 1.1),
        ("$parse('\"HelloWorld\"')", "HelloWorld"),
        ("$parse('[1, 2, \"HelloWorld\"]')", [1, 2, "HelloWorld"]),
        ("$parse($states.input.text)", {"Arg1": 1, "Arg2": []}),
    ],
)
def test_step_functions_functions(sfn_client, expression, expected):
    result = run(
        sfn_client, pass_output("{% " + expression + " %}"), {"text": '{"Arg1": 1, "Arg2": []}'}
    )
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == expected


def test_random_with_a_seed_repeats_and_without_varies(sfn_client):
    definition = pass_output(
        {
            "seeded": "{% [$random(42), $random(42), $random($states.input.seed)] %}",
            "other": "{% $random(43) %}",
            "unseeded": "{% [$random(), $random(), $random()] %}",
        }
    )
    first = run(sfn_client, definition, {"seed": 42}).output
    again = run(sfn_client, definition, {"seed": 42}).output
    seeded = first["seeded"]
    assert seeded[0] == seeded[1] == seeded[2] == again["seeded"][0]
    assert first["other"] != seeded[0]
    assert all(0 <= number < 1 for number in [*seeded, first["other"], *first["unseeded"]])
    assert len(set(first["unseeded"] + again["unseeded"])) == 6


def test_uuid_is_a_fresh_version_4_uuid(sfn_client):
    result = run(sfn_client, pass_output({"a": "{% $uuid() %}", "b": "{% $uuid() %}"}))
    version_4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert version_4.match(result.output["a"]) and version_4.match(result.output["b"])
    assert result.output["a"] != result.output["b"]


@pytest.mark.parametrize(
    ("field", "execution_input", "expected"),
    [
        # As AWS recorded them: the Fail state's Error, then its Cause, from the input.
        ("Error", {"error": "Exception"}, {"error": "Exception"}),
        (
            "Cause",
            {"cause": "This failed to due an Exception."},
            {"cause": "This failed to due an Exception."},
        ),
    ],
)
def test_fail_error_and_cause_as_expressions(sfn_client, field, execution_input, expected):
    key = field.lower()
    definition = jsonata({"FailState": {"Type": "Fail", field: f"{{% $states.input.{key} %}}"}})
    result = run(sfn_client, definition, execution_input)
    assert result.status == "FAILED"
    assert result.of_type("ExecutionFailed")[0]["executionFailedEventDetails"] == expected


def waiting_task(function: str, **fields) -> dict:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Arguments": {
            "FunctionName": function,
            "Payload": {"token": "{% $states.context.Task.Token %}"},
        },
        **fields,
    }


def test_timeout_seconds_as_an_expression(sfn_client, create_function):
    told = create_function(RETURNS_AT_ONCE)
    definition = jsonata(
        {
            "Review": waiting_task(
                told, TimeoutSeconds="{% $states.input.minutes * 0 + 1 %}", End=True
            )
        }
    )
    result = run(sfn_client, definition, {"minutes": 60})
    assert (result.status, result.error) == ("FAILED", "States.Timeout")


def test_heartbeat_seconds_as_an_expression(sfn_client, create_function):
    told = create_function(RETURNS_AT_ONCE)
    definition = jsonata(
        {
            "Review": waiting_task(
                told,
                TimeoutSeconds=60,
                HeartbeatSeconds="{% $states.input.heartbeat %}",
                End=True,
            )
        }
    )
    began = time.monotonic()
    result = run(sfn_client, definition, {"heartbeat": 1})
    # No heartbeat came within the expression's 1 s, long before the 60 s timeout.
    assert time.monotonic() - began < 30
    assert result.status == "FAILED" and result.of_type("TaskTimedOut")
    # AWS records a missed heartbeat as States.Timeout (States.HeartbeatTimeout is a name
    # for Catch and Retry only: see heartbeat_timeout_catchable).
    assert result.error == "States.Timeout"


def test_task_token_from_states_context_resumes_the_task(sfn_client, create_function):
    told = create_function(RETURNS_AT_ONCE)
    definition = jsonata({"Review": waiting_task(told, Output="{% $states.result %}", End=True)})
    execution = start(sfn_client, create(sfn_client, definition))
    token = wait_for_token(sfn_client, execution)
    sfn_client.send_task_success(taskToken=token, output='{"approved": true}')
    result = finish(sfn_client, execution)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"approved": True}


def wait_for_token(sfn_client, execution: str) -> str:
    def scheduled() -> str | None:
        for event in sfn_client.get_execution_history(executionArn=execution)["events"]:
            if event["type"] == "TaskScheduled":
                parameters = json.loads(event["taskScheduledEventDetails"]["parameters"])
                return parameters["Payload"]["token"]
        return None

    token = wait_for(scheduled, 10)
    assert token, "the task was never scheduled"
    return token


def test_executions_at_once_each_see_their_own_input(sfn_client):
    machine = create(
        sfn_client,
        jsonata(
            {
                "Keep": {
                    "Type": "Pass",
                    "Assign": {"n": "{% $states.input.n %}"},
                    "Next": "Square",
                },
                "Square": {"Type": "Pass", "Output": "{% $n * $n %}", "End": True},
            }
        ),
    )
    executions: dict[int, str] = {}

    def launch(n: int) -> None:
        executions[n] = start(sfn_client, machine, {"n": n})

    threads = [threading.Thread(target=launch, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {n: finish(sfn_client, arn).output for n, arn in executions.items()} == {
        n: n * n for n in range(8)
    }


def test_no_java_is_installed_or_started(sfn_client, localstack):
    result = run(sfn_client, pass_output("{% $uppercase('no jvm') %}"))
    assert result.output == "NO JVM"
    log = localstack.log_file.read_text(errors="replace")
    for trace in ("Installation of java", "temurin", "jpype", "JVM bridge"):
        assert trace.lower() not in log.lower()
