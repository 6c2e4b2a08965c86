"""The workflow picture over definitions with every state type, and executions' marks."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ElementTree

import pytest

from sfnlab.deploy.definition import load_template
from sfnlab.settings import PROJECT_ROOT
from sfnlab.workflow.executions import Execution
from sfnlab.workflow.graph import NOT_REACHED, Flow, draw
from sfnlab.workflow.history import Visit

EVERY_TYPE = {
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


def execution(*visits: Visit, status: str = "RUNNING") -> Execution:
    return Execution(arn="arn:x:execution:m:e", name="e", status=status, path=list(visits))


def all_nodes(flow: Flow):
    for node in flow.nodes.values():
        yield flow, node
        for branch in node.branches:
            yield from all_nodes(branch)


def test_every_state_type_is_drawn_with_its_transitions():
    picture = draw("Every", EVERY_TYPE)
    names = {node.name for _, node in all_nodes(picture.flow) if not node.pseudo}
    assert names == {*EVERY_TYPE["States"], "Left", "Right", "Handle <item>"}
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
    picture = draw("Every", EVERY_TYPE, ran)
    status = {node.name: node.status for _, node in all_nodes(picture.flow)}
    assert status["Work"] == "caught" and status["Broken"] == "failed"
    assert status["Done"] == NOT_REACHED and status["Left"] == NOT_REACHED
    assert picture.flow.nodes["Work"].attempts == 3
    text = "\n".join(line for _, line in picture.lines())
    assert "Work               Task     caught retried 2x [work]" in text
    assert "-> Decide; Broken (catch States.ALL)" in text


def test_a_waiting_state_inside_a_parallel_branch_is_marked():
    waiting = execution(Visit("Fan", "Parallel", "waiting"), Visit("Left", "Pass", "waiting"))
    picture = draw("Every", EVERY_TYPE, waiting)
    left = picture.flow.nodes["Fan"].branches[0].nodes["Left"]
    assert left.status == "waiting"


def test_boxes_do_not_overlap_and_branches_sit_inside_their_state():
    picture = draw("Every", EVERY_TYPE)
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
    svg = draw("Every <machine>", EVERY_TYPE).svg()
    root = ElementTree.fromstring(svg)  # parses: well-formed XML
    assert root.tag.endswith("svg")
    assert "Handle &lt;item&gt;" in svg and "Handle <item>" not in svg
    assert "http://" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
    states = {g.get("data-state") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert "Handle <item>" in states


@pytest.mark.parametrize("suffix", [".svg", ".html"])
def test_picture_saves_as_a_file_to_open(tmp_path, suffix):
    path = draw("Every", EVERY_TYPE).save(tmp_path / f"picture{suffix}")
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
