"""An expression that cannot be evaluated fails its state with States.QueryEvaluationError.

The execution ends FAILED at once, with one EvaluationFailed event naming the state and
the field, worded as AWS words it (the causes below are those AWS recorded for the same
definitions where it recorded one). Nothing stays RUNNING.
"""

from __future__ import annotations

import time

import pytest
from jsonata_runs import jsonata, pass_output, run

QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
PREFIX = "An error occurred while executing the state '{state}' (entered at the event id #2). "


def failed_with(result, state: str, cause: str, location: str) -> None:
    full_cause = PREFIX.format(state=state) + cause
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        QUERY_EVALUATION_ERROR,
        full_cause,
    )
    evaluation_failed = result.of_type("EvaluationFailed")
    assert [event["evaluationFailedEventDetails"] for event in evaluation_failed] == [
        {
            "error": QUERY_EVALUATION_ERROR,
            "cause": full_cause,
            "location": location,
            "state": state,
        }
    ]
    assert result.types[-1] == "ExecutionFailed"


def test_undefined_output_field_as_aws_recorded(sfn_client):
    result = run(
        sfn_client,
        jsonata(
            {"State0": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": True}}
        ),
    )
    failed_with(
        result,
        "State0",
        "The JSONata expression '$doesNotExist' specified for the field 'Output/result' "
        "returned nothing (undefined).",
        "Output/result",
    )
    assert result.types == [
        "ExecutionStarted",
        "PassStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]


def test_undefined_task_argument_as_aws_recorded(sfn_client):
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "{% $doesNotExist %}", "Payload": {}},
        "End": True,
    }
    result = run(sfn_client, jsonata({"State0": task}))
    failed_with(
        result,
        "State0",
        "The JSONata expression '$doesNotExist' specified for the field 'Arguments/FunctionName' "
        "returned nothing (undefined).",
        "Arguments/FunctionName",
    )
    assert result.types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]


def test_undefined_assign_as_aws_recorded(sfn_client):
    state = {"Type": "Pass", "Assign": {"result": "{% $doesNotExist %}"}, "End": True}
    result = run(sfn_client, jsonata({"State0": state}))
    failed_with(
        result,
        "State0",
        "The JSONata expression '$doesNotExist' specified for the field 'Assign/result' "
        "returned nothing (undefined).",
        "Assign/result",
    )


@pytest.mark.parametrize(
    ("items", "shown"),
    [("1", "'number' for value: 1"), ("'string'", "'string' for value: \"string\"")],
)
def test_map_items_that_are_not_an_array_as_aws_recorded(sfn_client, items, shown):
    state = {
        "Type": "Map",
        "Items": "{% " + items + " %}",
        "ItemProcessor": {"StartAt": "Pass", "States": {"Pass": {"Type": "Pass", "End": True}}},
        "End": True,
    }
    result = run(sfn_client, jsonata({"MapIterateState": state}))
    failed_with(
        result,
        "MapIterateState",
        f"The JSONata expression '{items}' specified for the field 'Items' returned an "
        f"unexpected result type. Expected 'array', but was {shown}",
        "Items",
    )
    assert result.types[-3:] == ["EvaluationFailed", "MapStateFailed", "ExecutionFailed"]


def test_an_error_during_evaluation_names_jsonatas_code(sfn_client):
    result = run(
        sfn_client,
        pass_output({"sum": "{% $states.input.a + $states.input.b %}"}),
        {"a": 1, "b": "x"},
    )
    failed_with(
        result,
        "Only",
        "The JSONata expression '$states.input.a + $states.input.b' specified for the field "
        "'Output/sum' threw an error during evaluation. T2002: The right side of the + operator "
        "must evaluate to a number",
        "Output/sum",
    )


def test_an_unknown_function_as_aws_recorded(sfn_client):
    # AWS's recorded run of LocalStack's old $randomSeeded, which AWS does not have.
    output = {"FunctionResult": "{% $randomSeeded($states.input.FunctionInput.fst) %}"}
    result = run(sfn_client, pass_output(output), {"FunctionInput": {"fst": 3}})
    failed_with(
        result,
        "Only",
        "The JSONata expression '$randomSeeded($states.input.FunctionInput.fst)' specified for the "
        "field 'Output/FunctionResult' threw an error during evaluation. T1006: Attempted to "
        "invoke a non-function",
        "Output/FunctionResult",
    )


def test_eval_is_not_available(sfn_client):
    result = run(sfn_client, pass_output("{% $eval('1 + 1') %}"))
    assert result.error == QUERY_EVALUATION_ERROR
    assert result.cause.endswith("T1006: Attempted to invoke a non-function")


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        (
            "$range(1, 1001, 1)",
            "$range: the result would have 1001 items, more than the 1000 allowed",
        ),
        ("$range(1, 5, 0)", "$range: the step must not be 0"),
        ("$partition([1, 2], 0)", "$partition: the chunk size must be positive, got 0"),
        (
            "$hash('x', 'SHA-3')",
            "$hash: the algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512",
        ),
        ("$parse('{not json')", '$parse: "{not json" is not JSON'),
        ("$random('seed')", '$random: the seed must be an integer, got "seed"'),
    ],
)
def test_step_functions_functions_refuse_what_aws_refuses(sfn_client, expression, problem):
    result = run(sfn_client, pass_output("{% " + expression + " %}"))
    assert result.error == QUERY_EVALUATION_ERROR
    assert "threw an error during evaluation. " + problem in result.cause


def test_a_condition_that_is_not_a_boolean(sfn_client):
    choice = {
        "Type": "Choice",
        "Choices": [{"Condition": "{% $states.input.approved %}", "Next": "Done"}],
        "Default": "Done",
    }
    result = run(
        sfn_client, jsonata({"Decide": choice, "Done": {"Type": "Succeed"}}), {"approved": "yes"}
    )
    failed_with(
        result,
        "Decide",
        "The JSONata expression '$states.input.approved' specified for the field 'Condition' "
        "returned an unexpected result type. Expected 'boolean', but was 'string' "
        'for value: "yes"',
        "Condition",
    )


@pytest.mark.parametrize("timeout", ["'an hour'", "0", "1.5"])
def test_timeout_seconds_must_be_a_positive_integer(sfn_client, timeout):
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Arguments": {"FunctionName": "never-called", "Payload": {}},
        "TimeoutSeconds": "{% " + timeout + " %}",
        "End": True,
    }
    result = run(sfn_client, jsonata({"Review": task}))
    assert result.error == QUERY_EVALUATION_ERROR
    assert (
        "specified for the field 'TimeoutSeconds' returned an unexpected result type"
        in result.cause
    )


def test_fail_error_must_be_a_string(sfn_client):
    result = run(sfn_client, jsonata({"Stop": {"Type": "Fail", "Error": "{% 42 %}"}}))
    failed_with(
        result,
        "Stop",
        "The JSONata expression '42' specified for the field 'Error' returned an unexpected "
        "result type. Expected 'string', but was 'number' for value: 42",
        "Error",
    )


def test_a_waiting_task_with_a_broken_argument_ends_at_once(sfn_client):
    # The first JSONata workflow a learner writes: it used to stay RUNNING at its Task.
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Arguments": {
            "FunctionName": "sfnlab-notify-reviewers",
            "Payload": {
                "token": "{% $states.context.Task.Token %}",
                "branch": "{% $states.input.branch.name %}",
            },
        },
        "End": True,
    }
    began = time.monotonic()
    result = run(sfn_client, jsonata({"NotifyReviewers": task}), {"branch": "main"}, timeout=10)
    assert time.monotonic() - began < 5
    failed_with(
        result,
        "NotifyReviewers",
        "The JSONata expression '$states.input.branch.name' specified for the field "
        "'Arguments/Payload/branch' returned nothing (undefined).",
        "Arguments/Payload/branch",
    )
    assert not result.of_type("TaskScheduled")


def test_a_failing_expression_can_be_caught(sfn_client):
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "{% $missing %}"},
        "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Handled"}],
        "End": True,
    }
    result = run(sfn_client, jsonata({"Call": task, "Handled": {"Type": "Succeed"}}))
    assert result.status == "SUCCEEDED"
    assert len(result.of_type("EvaluationFailed")) == 1
