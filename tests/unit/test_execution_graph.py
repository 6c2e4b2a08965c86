"""The workflow picture over definitions with every state type, and executions' marks."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ElementTree

import pytest

from sfnlab.deploy.definition import load_template
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.definitions import EVERY_STATE_TYPE
from sfnlab.workflow.executions import Execution
from sfnlab.workflow.graph import NOT_REACHED, Flow, draw
from sfnlab.workflow.history import Visit


def execution(*visits: Visit, status: str = "RUNNING") -> Execution:
    return Execution(arn="arn:x:execution:m:e", name="e", status=status, path=list(visits))


def all_nodes(flow: Flow):
    for node in flow.nodes.values():
        yield flow, node
        for branch in node.branches:
            yield from all_nodes(branch)


def test_every_state_type_is_drawn_with_its_transitions():
    picture = draw("Every", EVERY_STATE_TYPE)
    names = {node.name for _, node in all_nodes(picture.flow) if not node.pseudo}
    assert names == {*EVERY_STATE_TYPE["States"], "Left", "Right", "Handle <item>"}
    arrows = {(a.source, a.target, a.kind) for a in picture.flow.arrows}
    assert ("Work", "Broken", "catch") in arrows
    assert ("Decide", "Broken", "default") in arrows
    assert ("Decide", "Fan", "choice") in arrows
    labels = {a.label for a in picture.flow.arrows if a.kind == "choice"}
    assert labels == {"$.count >= 2", "$.a is present"}
    work = picture.flow.nodes["Work"]
    assert work.retry == "retries up to 2x" and work.detail == "work"
    assert [b.label for b in picture.flow.nodes["Fan"].branches] == ["branch 1", "branch 2"]
    assert [b.label for b in picture.flow.nodes["EachItem"].branches] == ["each item"]


def test_states_are_marked_by_what_happened():
    ran = execution(
        Visit("Prepare", "Pass", "succeeded"),
        Visit("Pause", "Wait", "succeeded"),
        Visit("Work", "Task", "caught", attempts=3),
        Visit("Broken", "Fail", "failed"),
        status="FAILED",
    )
    picture = draw("Every", EVERY_STATE_TYPE, ran)
    status = {node.name: node.status for _, node in all_nodes(picture.flow)}
    assert status["Work"] == "caught" and status["Broken"] == "failed"
    assert status["Done"] == NOT_REACHED and status["Left"] == NOT_REACHED
    assert picture.flow.nodes["Work"].attempts == 3
    text = "\n".join(line for _, line in picture.lines())
    assert "Work               Task     caught retried 2x [work]" in text
    assert "-> Decide; Broken (catch States.ALL)" in text


def test_a_waiting_state_inside_a_parallel_branch_is_marked():
    waiting = execution(Visit("Fan", "Parallel", "waiting"), Visit("Left", "Pass", "waiting"))
    picture = draw("Every", EVERY_STATE_TYPE, waiting)
    left = picture.flow.nodes["Fan"].branches[0].nodes["Left"]
    assert left.status == "waiting"


def test_boxes_do_not_overlap_and_branches_sit_inside_their_state():
    picture = draw("Every", EVERY_STATE_TYPE)
    for flow in {id(f): f for f, _ in all_nodes(picture.flow)}.values():
        boxes = [n for n in flow.nodes.values()]
        for a, b in itertools.combinations(boxes, 2):
            apart = (
                a.x + a.width <= b.x
                or b.x + b.width <= a.x
                or a.y + a.height <= b.y
                or b.y + b.height <= a.y
            )
            assert apart, (a.name, b.name)
    fan = picture.flow.nodes["Fan"]
    inner = sum(branch.width for branch in fan.branches)
    assert fan.width >= inner and fan.height > max(b.height for b in fan.branches)


def test_svg_is_well_formed_and_escapes_names():
    svg = draw("Every <machine>", EVERY_STATE_TYPE).svg()
    root = ElementTree.fromstring(svg)  # parses: well-formed XML
    assert root.tag.endswith("svg")
    assert "Handle &lt;item&gt;" in svg and "Handle <item>" not in svg
    assert "http://" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
    states = {g.get("data-state") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert "Handle <item>" in states


@pytest.mark.parametrize("suffix", [".svg", ".html"])
def test_picture_saves_as_a_file_to_open(tmp_path, suffix):
    path = draw("Every", EVERY_STATE_TYPE).save(tmp_path / f"picture{suffix}")
    text = path.read_text()
    assert text.startswith("<svg" if suffix == ".svg" else "<!doctype html>")
    assert "<script" not in text


def test_the_kits_definition_reads_in_order_of_its_main_path():
    definition = load_template(PROJECT_ROOT / "definitions" / "SolveIssueStepFunction.json")
    order = [line.split()[1] for _, line in draw("SolveIssue", definition).lines()]
    assert order[:4] == ["CreateCode", "CreateBranch", "NotifyReviewers", "ReviewDecision"]
    assert order[-2:] == ["ReviewRejected", "ReviewTimedOut"]


def test_the_jsonata_definition_is_drawn_like_the_jsonpath_one():
    folder = PROJECT_ROOT / "definitions"
    jsonpath = load_template(folder / "SolveIssueStepFunction.json")
    jsonata = load_template(folder / "SolveIssueStepFunctionJSONata.json")
    lines = {line.split()[1]: line for _, line in draw("SolveIssue", jsonata).lines()}
    assert list(lines) == [line.split()[1] for _, line in draw("SolveIssue", jsonpath).lines()]
    # Arguments name the function as Parameters do; a Condition reads without its {% %}.
    assert "[waits for a task token · ${NotifyReviewersFunctionArn}]" in lines["NotifyReviewers"]
    assert "[${CreateCodeFunctionArn}]" in lines["CreateCode"]
    assert "MergeToMaster if $review.approved = true;" in lines["ReviewDecision"]


# The path taken ------------------------------------------------------------------------


def path(*steps: tuple[str, str, str, int | None]) -> list[Visit]:
    """Visits as (name, type, outcome, index of the visit entered from)."""
    visits = []
    for name, kind, outcome, came_from in steps:
        visit = Visit(name, kind, outcome, came_from=came_from)
        visit.exited = outcome in ("succeeded", "caught")
        visits.append(visit)
    return visits


SOLVE_ISSUE = load_template(PROJECT_ROOT / "definitions" / "SolveIssueStepFunction.json")
TWO_REVIEWERS = load_template(PROJECT_ROOT / "definitions" / "TwoReviewersStepFunction.json")


def taken(picture) -> dict[tuple[str, str, str], int]:
    return {(a.source, a.target, a.kind): a.taken for a in picture.flow.arrows if a.taken}


def test_the_arrows_an_approved_run_took_are_marked_and_no_other():
    approved = path(
        ("CreateCode", "Task", "succeeded", None),
        ("CreateBranch", "Task", "succeeded", 0),
        ("NotifyReviewers", "Task", "succeeded", 1),
        ("ReviewDecision", "Choice", "succeeded", 2),
        ("MergeToMaster", "Task", "succeeded", 3),
        ("CreateRelease", "Task", "succeeded", 4),
        ("NotifyOps", "Task", "succeeded", 5),
        ("IssueSolved", "Succeed", "succeeded", 6),
    )
    picture = draw("SolveIssue", SOLVE_ISSUE, execution(*approved, status="SUCCEEDED"))
    assert taken(picture) == {
        ("(start)", "CreateCode", "next"): 1,
        ("CreateCode", "CreateBranch", "next"): 1,
        ("CreateBranch", "NotifyReviewers", "next"): 1,
        ("NotifyReviewers", "ReviewDecision", "next"): 1,
        ("ReviewDecision", "MergeToMaster", "choice"): 1,
        ("MergeToMaster", "CreateRelease", "next"): 1,
        ("CreateRelease", "NotifyOps", "next"): 1,
        ("NotifyOps", "IssueSolved", "next"): 1,
        ("IssueSolved", "(end)", "next"): 1,
    }
    assert picture.flow.nodes["(end)"].status == "succeeded"


def test_a_rejected_run_took_the_default_and_a_timed_out_one_the_catch():
    rejected = path(
        ("NotifyReviewers", "Task", "succeeded", None),
        ("ReviewDecision", "Choice", "succeeded", 0),
        ("ReviewRejected", "Fail", "failed", 1),
    )
    picture = draw("SolveIssue", SOLVE_ISSUE, execution(*rejected, status="FAILED"))
    assert ("ReviewDecision", "ReviewRejected", "default") in taken(picture)
    assert ("ReviewRejected", "(end)", "next") in taken(picture)
    assert picture.flow.nodes["(end)"].status == "failed"
    timed_out = path(
        ("NotifyReviewers", "Task", "caught", None),
        ("ReviewTimedOut", "Fail", "failed", 0),
    )
    picture = draw("SolveIssue", SOLVE_ISSUE, execution(*timed_out, status="FAILED"))
    assert ("NotifyReviewers", "ReviewTimedOut", "catch") in taken(picture)
    assert ("NotifyReviewers", "ReviewDecision", "next") not in taken(picture)


def test_a_waiting_run_has_taken_the_arrows_up_to_the_review_only():
    waiting = path(
        ("CreateCode", "Task", "succeeded", None),
        ("CreateBranch", "Task", "succeeded", 0),
        ("NotifyReviewers", "Task", "waiting", 1),
    )
    picture = draw("SolveIssue", SOLVE_ISSUE, execution(*waiting))
    assert set(taken(picture)) == {
        ("(start)", "CreateCode", "next"),
        ("CreateCode", "CreateBranch", "next"),
        ("CreateBranch", "NotifyReviewers", "next"),
    }
    assert picture.flow.nodes["(end)"].status == NOT_REACHED


def test_both_reviewers_branches_start_from_their_own_start():
    two = path(
        ("CreateBranch", "Task", "succeeded", None),
        ("AskBothReviewers", "Parallel", "succeeded", 0),
        ("AskAna", "Task", "succeeded", None),
        ("AskBob", "Task", "succeeded", None),
        ("BothApproved", "Choice", "succeeded", 1),
        ("MergeToMaster", "Task", "succeeded", 4),
    )
    picture = draw("TwoReviewers", TWO_REVIEWERS, execution(*two))
    branches = picture.flow.nodes["AskBothReviewers"].branches
    for branch, reviewer in zip(branches, ("AskAna", "AskBob"), strict=True):
        assert taken_in(branch) == {("(start)", reviewer): 1, (reviewer, "(end)"): 1}
    assert ("BothApproved", "MergeToMaster", "choice") in taken(picture)


def taken_in(flow: Flow) -> dict[tuple[str, str], int]:
    return {(a.source, a.target): a.taken for a in flow.arrows if a.taken}


LOOP = {
    "StartAt": "Count",
    "States": {
        "Count": {"Type": "Pass", "Next": "Again"},
        "Again": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.n", "NumericLessThan": 3, "Next": "Count"},
                {"Variable": "$.n", "NumericEquals": 7, "Next": "Done"},
            ],
            "Default": "Done",
        },
        "Done": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Catch": [
                {"ErrorEquals": ["Oops"], "Next": "Count"},
                {"ErrorEquals": ["States.ALL"], "Next": "Count"},
            ],
            "Next": "Count",
        },
    },
}


def test_a_state_entered_again_says_how_often_and_its_arrows_count_each_time():
    looped = path(
        ("Count", "Pass", "succeeded", None),
        ("Again", "Choice", "succeeded", 0),
        ("Count", "Pass", "succeeded", 1),
        ("Again", "Choice", "succeeded", 2),
        ("Count", "Pass", "succeeded", 3),
        ("Again", "Choice", "succeeded", 4),
    )
    picture = draw("Loop", LOOP, execution(*looped))
    assert picture.flow.nodes["Count"].entered == 3
    assert taken_in(picture.flow) == {
        ("(start)", "Count"): 1,
        ("Count", "Again"): 3,
        ("Again", "Count"): 2,
    }
    lines = [line.text for line in picture.flow.nodes["Count"].lines]
    assert "✓ succeeded · entered 3x" in lines
    assert 'data-state="Count" data-type="Pass" data-status="succeeded" data-entered="3"' in (
        picture.svg()
    )


def test_of_two_arrows_to_one_state_the_one_the_outcome_took_is_marked():
    caught = Visit("Done", "Task", "caught", came_from=None, error="Oops", exited=True)
    for error, kind_label in (("Oops", "catch Oops"), ("Other", "catch States.ALL")):
        caught.error = error
        back = Visit("Count", "Pass", "succeeded", came_from=0)
        picture = draw("Loop", LOOP, execution(caught, back))
        marked = [a.label for a in picture.flow.arrows if a.taken and a.source == "Done"]
        assert marked == [kind_label]
    done = Visit("Done", "Task", "succeeded", exited=True)
    picture = draw("Loop", LOOP, execution(done, Visit("Count", "Pass", came_from=0)))
    assert [a.kind for a in picture.flow.arrows if a.taken and a.source == "Done"] == ["next"]
    # Two ways from the Choice to Done: the first rule is marked (the history does not say).
    choice = Visit("Again", "Choice", "succeeded", exited=True)
    picture = draw("Loop", LOOP, execution(choice, Visit("Done", "Task", came_from=0)))
    assert [a.label for a in picture.flow.arrows if a.taken] == ["$.n == 7"]


# Every label whole ------------------------------------------------------------------------

LONG = {
    "StartAt": "A" * 80,
    "States": {
        "A" * 80: {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:1:function:" + "f" * 64},
            "Catch": [
                {
                    "ErrorEquals": [
                        "States.Timeout",
                        "States.HeartbeatTimeout",
                        "States.TaskFailed",
                        "Lambda.ServiceException",
                    ],
                    "Next": "Weigh up the review ⚖ 審査",
                }
            ],
            "Next": "Weigh up the review ⚖ 審査",
        },
        "Weigh up the review ⚖ 審査": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.reviews[0].approved", "BooleanEquals": True},
                        {"Variable": "$.reviews[1].approved", "BooleanEquals": True},
                        {"Variable": "$.reviews[2].approved", "BooleanEquals": True},
                    ],
                    "Next": "Ok",
                },
                {"Variable": "$." + "x" * 90, "StringEquals": "y" * 40, "Next": "Ok"},
            ],
            "Default": "Ok",
        },
        "Ok": {"Type": "Succeed"},
    },
}


def text_of(lines: list[str]) -> str:
    return "".join(lines).replace(" ", "")


def every_flow(flow: Flow):
    yield flow
    for node in flow.nodes.values():
        for branch in node.branches:
            yield from every_flow(branch)


@pytest.mark.parametrize("definition", [EVERY_STATE_TYPE, LONG, SOLVE_ISSUE, TWO_REVIEWERS, LOOP])
def test_every_line_fits_its_box_and_nothing_is_cut(definition):
    from sfnlab.workflow.graph_layout import FONTS, LABEL, PAD_X

    for shown in (None, execution(status="RUNNING")):
        picture = draw("Long", definition, shown)
        for flow in every_flow(picture.flow):
            for node in flow.nodes.values():
                widest = max(FONTS[line.css].width(line.text) for line in node.lines)
                room = node.width - (20 if node.pseudo else 2 * PAD_X)
                assert widest <= room, (node.name, node.lines)
                if not node.pseudo:
                    shown_name = [line.text for line in node.lines if line.css == "name"]
                    assert "".join(shown_name) == node.name  # whole, in order
                    assert all("…" not in line.text for line in node.lines)
            for arrow in flow.arrows:
                if arrow.label:
                    assert text_of(arrow.label_lines) == arrow.label.replace(" ", "")
                    width = max(LABEL.width(line) for line in arrow.label_lines)
                    assert width <= arrow.label_box[2]


@pytest.mark.parametrize("definition", [EVERY_STATE_TYPE, LONG, SOLVE_ISSUE, TWO_REVIEWERS, LOOP])
def test_no_box_or_label_overlaps_another(definition):
    picture = draw("Any", definition, execution())
    for flow in every_flow(picture.flow):
        boxes = [(n.name, (n.x, n.y, n.width, n.height)) for n in flow.nodes.values()]
        boxes += [(f"label {a.label}", a.label_box) for a in flow.arrows if a.label_box]
        for (a, (ax, ay, aw, ah)), (b, (bx, by, bw, bh)) in itertools.combinations(boxes, 2):
            apart = ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay
            assert apart, (a, b)


def test_a_long_and_rule_wraps_one_clause_a_line():
    picture = draw("TwoReviewers", TWO_REVIEWERS)
    (rule,) = [a for a in picture.flow.arrows if a.kind == "choice"]
    assert rule.label_lines == [
        "$.reviews[0].approved == true",
        "and $.reviews[1].approved == true",
    ]
    (catch,) = [a for a in draw("S", SOLVE_ISSUE).flow.arrows if a.kind == "catch"]
    assert text_of(catch.label_lines) == "catchStates.Timeout,States.HeartbeatTimeout"


def test_start_and_end_are_pills_as_wide_as_their_word():
    from sfnlab.workflow.graph_layout import PSEUDO

    picture = draw("Every", EVERY_STATE_TYPE)
    start = picture.flow.nodes["(start)"]
    assert start.width >= PSEUDO.width("Start") + 20
    assert '<text x="' in picture.svg() and ">Start</text>" in picture.svg()
