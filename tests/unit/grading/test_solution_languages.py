"""A solution in JavaScript, or in both languages step by step, is checked as one in Python
is: each step's file says its language, and is checked in it."""

from __future__ import annotations

import shutil

import pytest

from sfnlab.deploy.step_code import read_step_files
from sfnlab.exercise import APPROVE, JAVASCRIPT, PYTHON, STEPS
from sfnlab.grading.solution_files import check, handler_files
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.nodejs_runtime_api import node_or_skip


def test_the_kits_javascript_solution_passes_every_check(solution_js):
    findings = check(solution_js)
    assert findings.problems == [] and findings.warnings == []
    assert sorted(findings.files)[1:] == sorted(
        path.relative_to(solution_js) for path in (solution_js / "lambdas").glob("*.js")
    )
    files = read_step_files(solution_js / "lambdas")
    assert {code.language for code in files.code.values()} == {JAVASCRIPT}
    assert files.of(APPROVE).file == "approveStepWithToken.js"
    assert files.of(APPROVE).handler == "approveStepWithToken.handler"


def test_the_javascript_starter_says_what_is_missing_as_the_python_one_does(starter, starter_js):
    assert check(starter_js).problems == check(starter).problems
    assert [w for w in check(starter_js).warnings if "lambdas/" in w] == []


def mixed(solution, solution_js):
    """The Python solution with Create Branch and the approve Lambda in JavaScript."""
    for step in (STEPS[1], APPROVE):
        (solution / "lambdas" / PYTHON.file_name(step)).unlink()
        shutil.copy(solution_js / "lambdas" / JAVASCRIPT.file_name(step), solution / "lambdas")
    shutil.copy(solution_js / "lambdas" / "simulatedAction.js", solution / "lambdas")
    return solution


def test_a_solution_may_mix_languages_step_by_step(solution, solution_js):
    folder = mixed(solution, solution_js)
    findings = check(folder)
    assert findings.problems == [] and findings.warnings == []
    files = read_step_files(folder / "lambdas")
    languages = {key: code.language.name for key, code in files.code.items()}
    assert languages == {
        "CreateCode": "python",
        "CreateBranch": "javascript",
        "NotifyReviewers": "python",
        "MergeToMaster": "python",
        "CreateRelease": "python",
        "NotifyOps": "python",
        "ApproveStepWithToken": "javascript",
    }
    assert files.of(STEPS[1]).runtime == "nodejs20.x"
    assert files.of(STEPS[0]).runtime == "python3.12"


def test_an_es_module_counts_as_a_steps_javascript_file(solution):
    (solution / "lambdas" / "notify_ops.py").unlink()
    (solution / "lambdas" / "notifyOps.mjs").write_text(
        "export const handler = async (event) => event;\n"
    )
    assert check(solution).problems == []
    code = read_step_files(solution / "lambdas").of(STEPS[-1])
    assert (code.file, code.handler) == ("notifyOps.mjs", "notifyOps.handler")


def test_a_step_in_both_languages_is_a_problem_naming_the_file_that_would_run(solution):
    shutil.copy(PROJECT_ROOT / "lambdas-js" / "createCode.js", solution / "lambdas")
    assert check(solution).problems == [
        "lambdas/create_code.py and lambdas/createCode.js are both there: each step has one "
        "handler file, in one language (the grader would run lambdas/create_code.py); "
        "remove the other"
    ]


@pytest.mark.parametrize(
    ("fixture", "missing"),
    [("solution", "lambdas/notify_ops.py"), ("solution_js", "lambdas/notifyOps.js")],
)
def test_a_missing_step_is_named_in_the_solutions_language(request, fixture, missing):
    folder = request.getfixturevalue(fixture)
    (folder / missing).unlink()
    assert check(folder).problems == [f"{missing} is missing"]


def test_a_missing_step_of_a_mixed_solution_is_named_in_both(solution, solution_js):
    folder = mixed(solution, solution_js)
    (folder / "lambdas" / "notify_ops.py").unlink()
    assert check(folder).problems == ["lambdas/notify_ops.py or lambdas/notifyOps.js is missing"]


def test_an_empty_folder_misses_every_step_in_either_language(tmp_path):
    problems = check(tmp_path).problems
    assert len(problems) == 1 + len(handler_files(JAVASCRIPT))
    assert "lambdas/create_code.py or lambdas/createCode.js is missing" in problems


def test_a_javascript_handler_that_does_not_parse_costs_points(solution_js):
    node_or_skip()
    (solution_js / "lambdas" / "notifyOps.js").write_text("exports.handler = async (e) => {\n")
    (solution_js / "lambdas" / "createCode.js").write_text("exports.handler = (event => event;\n")
    findings = check(solution_js)
    assert findings.problems == []
    [create_code, notify_ops] = findings.warnings
    assert create_code.startswith("lambdas/createCode.js: it does not parse: SyntaxError: ")
    assert "(line 1)" in create_code
    assert notify_ops.startswith("lambdas/notifyOps.js: it does not parse: SyntaxError: ")


def test_a_javascript_handler_without_a_handler_costs_points(solution_js):
    (solution_js / "lambdas" / "createCode.js").write_text("exports.main = async (e) => e;\n")
    (solution_js / "lambdas" / "tools.js").write_text("exports.handler = async (e) => e;\n")
    (solution_js / "lambdas" / "notifyOps.js").write_text("module.exports = require('./tools');\n")
    assert check(solution_js).warnings == [
        "lambdas/createCode.js: it exports no handler, the function each Lambda's handler "
        "setting names (`exports.handler = async (event, context) => ...`)"
    ]
