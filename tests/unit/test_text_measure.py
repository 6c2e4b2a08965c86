"""Measuring and wrapping the picture's text: never wider than the room, nothing lost."""

from __future__ import annotations

import pytest

from sfnlab.workflow.text_measure import Font, wrap, wrap_clauses

SANS = Font(10.5)
BOLD = Font(13, bold=True)
MONO = Font(10, mono=True)


def test_wide_letters_measure_wider_than_narrow_ones_and_bold_wider_still():
    assert SANS.width("WWW") > SANS.width("iii") * 2
    assert BOLD.width("Review") > Font(13).width("Review")
    assert MONO.width("iii") == MONO.width("WWW")
    assert SANS.width("審査") >= 2 * 10.5  # characters outside the table count a whole em


@pytest.mark.parametrize("font", [SANS, BOLD, MONO])
@pytest.mark.parametrize(
    "text",
    [
        "Task · waits for a task token",
        "${NotifyReviewersFunctionArn}",
        "arn:aws:lambda:us-east-1:000000000000:function:sfnlab-notify-reviewers",
        "A" * 80,
        "catch States.Timeout, States.HeartbeatTimeout, States.TaskFailed",
        '審査 ⚖ <b>&amp;</b> "quoted"',
        "",
    ],
)
@pytest.mark.parametrize("room", [280, 120, 30, 1, -5])
def test_wrapped_lines_fit_and_keep_every_character(font, text, room):
    lines = wrap(text, font, room)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        # A single character wider than the room is the one thing that cannot fit.
        assert font.width(line) <= room or len(line) <= 1


def test_lines_break_at_spaces_first_then_inside_names():
    assert wrap("Task · waits for a task token", SANS, 120) == [
        "Task · waits for a",
        "task token",
    ]
    lines = wrap("${NotifyReviewersFunctionArn}", MONO, 120)
    assert lines == ["${NotifyReviewers", "FunctionArn}"]


def test_a_rule_wraps_before_its_and_or_clauses():
    rule = "$.a == true and $.b == true or $.c is present"
    assert wrap_clauses(rule, MONO, 1000) == [rule]
    assert wrap_clauses(rule, MONO, 130) == ["$.a == true", "and $.b == true", "or $.c is present"]
