"""Definitions the tests and the picture's benchmark draw: one with every state type."""

from __future__ import annotations

EVERY_STATE_TYPE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"ok": True}, "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Work"},
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:1:function:work"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Broken"}],
            "Next": "Decide",
        },
        "Decide": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.count", "NumericGreaterThanEquals": 2, "Next": "Fan"},
                {"And": [{"Variable": "$.a", "IsPresent": True}], "Next": "EachItem"},
            ],
            "Default": "Broken",
        },
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}},
            ],
            "Next": "Done",
        },
        "EachItem": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Handle <item>",
                "States": {"Handle <item>": {"Type": "Pass", "End": True}},
            },
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "Broken": {"Type": "Fail", "Error": "Oops"},
    },
}
