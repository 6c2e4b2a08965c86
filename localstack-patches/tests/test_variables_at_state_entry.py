"""A state reads the variables as they were at its entry (patch `variables_at_state_entry`).

AWS developer guide, "Passing data between states with variables" and "Transforming data
with JSONata": a state's `Assign` and `Output` are evaluated in parallel, every
expression of the state reading the variables' values at the state's entry; the
assignments take effect for the states after it. AWS's own history of a JSONPath state
with `"OutputPath": "$answer"` beside `"Assign": {"answer": "<omitted>"}` outputs the
earlier value (LocalStack's AWS-validated test `test_state_assign_evaluation_order`).
"""

from __future__ import annotations

import json

from jsonata_runs import jsonata, run


def assigned(finished, state: str) -> dict:
    """The variables a state's exit event records, as values."""
    for event in finished.events:
        details = event.get("stateExitedEventDetails", {})
        if details.get("name") == state:
            return {k: json.loads(v) for k, v in details.get("assignedVariables", {}).items()}
    raise AssertionError(f"{state} never exited")


def test_output_reads_the_value_a_variable_had_at_entry(sfn_client):
    """AWS: in one JSONata state `Assign` raises `$count` from 1 to 2, and `Output` reads 1;
    the next state reads 2, and the exit event records the new value."""
    definition = jsonata(
        {
            "Start": {"Type": "Pass", "Assign": {"count": 1}, "Next": "Raise"},
            "Raise": {
                "Type": "Pass",
                "Assign": {"count": "{% $count + 1 %}"},
                "Output": {"seen": "{% $count %}"},
                "Next": "After",
            },
            "After": {
                "Type": "Pass",
                "Output": {"before": "{% $states.input.seen %}", "now": "{% $count %}"},
                "End": True,
            },
        }
    )
    finished = run(sfn_client, definition)
    assert finished.output == {"before": 1, "now": 2}
    assert assigned(finished, "Raise") == {"count": 2}


def test_a_new_variable_is_unknown_to_its_own_state(sfn_client):
    """AWS: a variable a state assigns for the first time does not exist yet for that
    state's Output: reading it fails the state with States.QueryEvaluationError."""
    definition = jsonata(
        {"Only": {"Type": "Pass", "Assign": {"fresh": 1}, "Output": "{% $fresh %}", "End": True}}
    )
    finished = run(sfn_client, definition)
    assert (finished.status, finished.error) == ("FAILED", "States.QueryEvaluationError")


def test_jsonpath_output_path_reads_the_value_at_entry(sfn_client):
    """AWS's recorded history, in JSONPath: `"OutputPath": "$answer"` beside
    `"Assign": {"answer": "<omitted>"}` outputs 42, the value assigned before."""
    definition = {
        "StartAt": "State0",
        "States": {
            "State0": {"Type": "Pass", "Assign": {"answer": 42}, "Next": "State1"},
            "State1": {
                "Type": "Pass",
                "InputPath": "$answer",
                "ResultPath": "$.theAnswer",
                "OutputPath": "$answer",
                "Assign": {"answer": "<omitted>"},
                "End": True,
            },
        },
    }
    finished = run(sfn_client, definition)
    assert (finished.status, finished.output) == ("SUCCEEDED", 42)
    assert assigned(finished, "State1") == {"answer": "<omitted>"}


def test_a_task_output_reads_the_value_at_entry(sfn_client, notify_function):
    """AWS: the same holds for a Task, whose `Assign` reads its result: its `Output` sees the
    variables as they were when it was entered."""
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": notify_function, "Payload": {"sleep": 0}},
        "Assign": {"notified": "{% $states.result.Payload.notified %}"},
        "Output": {"before": "{% $notified %}"},
        "Next": "After",
    }
    definition = jsonata(
        {
            "Start": {"Type": "Pass", "Assign": {"notified": False}, "Next": "Notify"},
            "Notify": task,
            "After": {"Type": "Pass", "Output": {"now": "{% $notified %}"}, "End": True},
        }
    )
    finished = run(sfn_client, definition)
    assert finished.status == "SUCCEEDED", finished.cause
    assert finished.output == {"now": True}
    exited = finished.of_type("TaskStateExited")[0]
    assert json.loads(exited["stateExitedEventDetails"]["output"]) == {"before": False}


def test_a_catch_output_reads_the_value_at_entry(sfn_client, notify_function):
    """AWS: a Catch's `Assign` and `Output` are evaluated in parallel too: the Catch's
    Output reads the value from before the state, the next state the Catch's new value."""
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Arguments": {
            "FunctionName": notify_function,
            "Payload": {"token": "{% $states.context.Task.Token %}"},
        },
        "TimeoutSeconds": 1,
        "Catch": [
            {
                "ErrorEquals": ["States.Timeout"],
                "Assign": {"tries": "{% $tries + 1 %}"},
                "Output": {"tries": "{% $tries %}"},
                "Next": "After",
            }
        ],
        "Next": "After",
    }
    definition = jsonata(
        {
            "Start": {"Type": "Pass", "Assign": {"tries": 0}, "Next": "Review"},
            "Review": task,
            "After": {
                "Type": "Pass",
                "Output": {"caught": "{% $states.input.tries %}", "now": "{% $tries %}"},
                "End": True,
            },
        }
    )
    finished = run(sfn_client, definition)
    assert finished.output == {"caught": 0, "now": 1}


def test_variables_still_reach_the_states_after(sfn_client):
    """AWS: several states in a row each raise `$n`; each reads the previous state's value,
    and a Choice rule's Assign takes effect for the state it leads to."""
    definition = jsonata(
        {
            "One": {"Type": "Pass", "Assign": {"n": 1}, "Next": "Two"},
            "Two": {"Type": "Pass", "Assign": {"n": "{% $n + 1 %}"}, "Next": "Pick"},
            "Pick": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Condition": "{% $n = 2 %}",
                        "Assign": {"n": "{% $n * 10 %}"},
                        "Output": {"at_choice": "{% $n %}"},
                        "Next": "Done",
                    }
                ],
                "Default": "Done",
            },
            "Done": {
                "Type": "Pass",
                "Output": {"at_choice": "{% $states.input.at_choice %}", "n": "{% $n %}"},
                "End": True,
            },
        }
    )
    assert run(sfn_client, definition).output == {"at_choice": 2, "n": 20}
