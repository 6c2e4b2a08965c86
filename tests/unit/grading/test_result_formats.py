"""Every report format against the schema written from its platform's published
specification (schemas/), for each kind of outcome: full marks, points missing, a kit
fault, a hand-in refused, problems found before anything ran."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import jsonschema
import pytest

from sfnlab.grading.checks import met, not_checked, not_met
from sfnlab.grading.grader import SolutionReport, refused_report
from sfnlab.grading.platforms import gradescope, prairielearn
from sfnlab.grading.reports import as_dict, junit_xml, step_summary
from sfnlab.grading.requirements import REQUIREMENTS
from sfnlab.settings import PROJECT_ROOT

SCHEMAS = PROJECT_ROOT / "schemas"


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


def full_marks() -> SolutionReport:
    return SolutionReport("alice", "alice.zip", [met(r, "as expected.") for r in REQUIREMENTS])


def points_missing() -> SolutionReport:
    verdicts = [met(r, "ok.") for r in REQUIREMENTS[:5]]
    verdicts += [not_met(r, "it did not <b>happen</b> | at all.") for r in REQUIREMENTS[5:]]
    report = SolutionReport("bob", "bob/", verdicts, warnings=["lambdas/x.py: it does not compile"])
    return report


def kit_fault() -> SolutionReport:
    reason = "could not grade (kit error): EndpointConnectionError: Could not connect"
    return SolutionReport(
        "carol", "carol/", [not_checked(r, reason) for r in REQUIREMENTS], explained=reason
    )


def refused() -> SolutionReport:
    return refused_report("mallory", "mallory.zip", "mallory.zip unpacks to more than 32 MB")


def problems_before() -> SolutionReport:
    report = SolutionReport("dave", "dave/", [not_met(r, "it never ran.") for r in REQUIREMENTS])
    report.problems = ["lambdas/notify_ops.py is missing"]
    return report


OUTCOMES = {
    "full marks": full_marks,
    "points missing": points_missing,
    "kit fault": kit_fault,
    "refused": refused,
    "problems before": problems_before,
}


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("visibility", gradescope.VISIBILITIES)
def test_gradescope_results_follow_its_specification(outcome, visibility):
    report = OUTCOMES[outcome]()
    results = gradescope.results(report, visibility)
    jsonschema.validate(results, schema("gradescope-results"))
    assert [t["name"] for t in results["tests"]] == [r.title for r in REQUIREMENTS]
    assert results["score"] == sum(t["score"] for t in results["tests"]) == report.score
    assert [t["max_score"] for t in results["tests"]] == [r.points for r in REQUIREMENTS]
    assert [t["output"] for t in results["tests"]] == [v.feedback for v in report.verdicts]
    if outcome == "kit fault":  # no score shown to the learner, only why
        assert {t["visibility"] for t in results["tests"]} == {"hidden"}
        assert results["output"].startswith("Not graded: the grading kit failed")
        assert results["extra_data"]["sfnlab"]["graded"] is False
    else:
        assert {t["visibility"] for t in results["tests"]} == {visibility}


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_prairielearn_results_follow_its_specification(outcome):
    report = OUTCOMES[outcome]()
    results = prairielearn.results(report)
    jsonschema.validate(results, schema("prairielearn-results"))
    assert len(json.dumps(results).encode()) <= prairielearn.MAX_BYTES
    if outcome in ("kit fault", "refused", "problems before"):  # it costs no attempt
        assert results["gradable"] is False and "score" not in results
        assert results["format_errors"]
    else:
        assert results["score"] == report.score / 100
        assert [(t["points"], t["max_points"]) for t in results["tests"]] == [
            (v.points, v.requirement.points) for v in report.verdicts
        ]
        assert [t["output"] for t in results["tests"]] == [v.feedback for v in report.verdicts]


def test_prairielearn_results_keep_within_1_mb_and_keep_the_points():
    report = points_missing()
    report.notes = ["x" * 3_000_000]
    report.verdicts[-1].feedback = "y" * 2_000_000
    results = prairielearn.results(report)
    assert len(json.dumps(results).encode()) <= prairielearn.MAX_BYTES
    assert results["score"] == 0.6 and results["output"].endswith("[cut: too long]")
    jsonschema.validate(results, schema("prairielearn-results"))


def element_as_dict(element: ElementTree.Element) -> dict:
    """An XML element as {'tag', 'attributes', 'text', 'children'}, for the JSON Schema."""
    found: dict = {"tag": element.tag, "attributes": dict(element.attrib)}
    if element.text and element.text.strip():
        found["text"] = element.text
    if len(element):
        found["children"] = [element_as_dict(child) for child in element]
    return found


def test_junit_is_one_case_per_requirement_with_its_points_in_properties():
    reports = [OUTCOMES[name]() for name in OUTCOMES]
    root = ElementTree.fromstring(junit_xml(reports).split("\n", 1)[1])
    jsonschema.validate(element_as_dict(root), schema("junit-report"))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["alice", "bob", "carol", "mallory", "dave"]
    for suite, report in zip(suites, reports, strict=True):
        cases = suite.findall("testcase")
        assert [c.get("name") for c in cases] == [r.id for r in REQUIREMENTS]
        points = [int(c.find("properties/property[@name='points']").get("value")) for c in cases]
        assert sum(points) == report.score
    carol = suites[2]
    assert carol.get("errors") == "9" and carol.get("failures") == "0"  # the kit's, not hers
    assert root.get("errors") == "9"


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_the_json_report_follows_its_schema(outcome):
    jsonschema.validate(as_dict(OUTCOMES[outcome]()), schema("sfnlab-report"))


def test_the_step_summary_keeps_each_row_on_one_line():
    text = step_summary([points_missing()])
    rows = [line for line in text.splitlines() if line.startswith("| ✗")]
    assert len(rows) == len(REQUIREMENTS) - 5
    assert all(row.count(" | ") == 2 for row in rows)  # the pipe in the feedback is escaped
    assert text.startswith("## bob: 60/100")
