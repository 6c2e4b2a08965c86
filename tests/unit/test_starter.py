"""The starter: the layout of a solution, with the work left to the learner."""

from __future__ import annotations

import ast
import re
import subprocess

from sfnlab.exercise import APPROVE, JAVASCRIPT, STEPS
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.nodejs_runtime_api import node_or_skip

STARTER = PROJECT_ROOT / "starter"


def test_the_starters_inbox_helper_is_the_kits():
    # The starter is a complete layout; its one finished file must not drift from the kit's.
    kit = (PROJECT_ROOT / "lambdas" / "simulated_action.py").read_text()
    assert (PROJECT_ROOT / "starter" / "lambdas" / "simulated_action.py").read_text() == kit


def test_starter_has_a_todo_handler_for_every_step():
    for step in [*STEPS, APPROVE]:
        source = (STARTER / "lambdas" / f"{step.module}.py").read_text()
        assert "TODO" in source, step.module
        functions = {
            node.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)
        }
        assert functions == {"lambda_handler"}, step.module


def test_starter_has_no_solution_in_it():
    definition = (STARTER / "definitions" / "SolveIssueStepFunction.json").read_text()
    assert "waitForTaskToken" not in definition and "Choice" not in definition


def test_the_starter_and_notebook_5_say_what_sfnlab_check_says_of_the_sandbox():
    """One line about the sandbox, the same wherever a learner checks their own work."""
    import json
    import re

    from sfnlab.grading.own_work import NO_SANDBOX

    def words(text: str) -> str:
        return re.sub(r"\s+", " ", text)

    readme = (STARTER / "README.md").read_text()
    assert words(NO_SANDBOX) in words(readme)
    assert "sfnlab check my-solution" in readme and "sfnlab grade my-solution" not in readme
    notebook = json.loads((PROJECT_ROOT / "notebooks" / "05-build-it-yourself.ipynb").read_text())
    markdown = " ".join(
        "".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown"
    )
    assert words(NO_SANDBOX) in words(markdown)
    # The grader's three runs, named as its feedback names them.
    assert "*the step's own run*" in words(markdown)
    assert "approves once and rejects once" not in words(markdown)
    code = " ".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    assert "check_solution(" in code


STARTER_JS = PROJECT_ROOT / "starter-js"


def test_the_javascript_starter_is_laid_out_as_the_python_one():
    assert (STARTER_JS / "definitions" / "SolveIssueStepFunction.json").read_text() == (
        STARTER / "definitions" / "SolveIssueStepFunction.json"
    ).read_text()
    kit = (PROJECT_ROOT / "lambdas-js" / "simulatedAction.js").read_text()
    assert (STARTER_JS / "lambdas" / "simulatedAction.js").read_text() == kit
    names = {path.name for path in (STARTER_JS / "lambdas").iterdir()}
    assert names == {JAVASCRIPT.file_name(step) for step in [*STEPS, APPROVE]} | {
        "simulatedAction.js"
    }


def test_the_javascript_starter_has_a_todo_handler_for_every_step():
    for step in [*STEPS, APPROVE]:
        source = (STARTER_JS / "lambdas" / JAVASCRIPT.file_name(step)).read_text()
        assert "TODO" in source, step.module
        assert re.findall(r"\bexports\.(\w+)\s*=", source) == ["handler"], step.module
        assert f"TODO: write {JAVASCRIPT.handler_setting(step)}" in source


def test_the_javascript_starters_handlers_fail_saying_todo():
    script = (
        "const file = process.argv[1];"
        "require(file).handler({}, {}).then(() => process.exit(3),"
        " (e) => { console.log(e.message); });"
    )
    for step in STEPS:  # the approve Lambda's needs the AWS SDK, which the runtime gives
        path = STARTER_JS / "lambdas" / JAVASCRIPT.file_name(step)
        done = subprocess.run(
            [node_or_skip(), "-e", script, str(path)], capture_output=True, text=True, timeout=60
        )
        assert done.stdout.strip() == f"TODO: write {JAVASCRIPT.handler_setting(step)}"


def test_both_starters_say_how_a_steps_language_is_found():
    for readme in (STARTER / "README.md", STARTER_JS / "README.md"):
        text = re.sub(r"\s+", " ", readme.read_text())
        assert "find each step's language by its file in `lambdas/`" in text, readme
        assert "A solution may mix them" in text or "may mix them" in text, readme


def test_the_javascript_starter_says_what_sfnlab_check_says_of_the_sandbox():
    from sfnlab.grading.own_work import NO_SANDBOX

    readme = re.sub(r"\s+", " ", (STARTER_JS / "README.md").read_text())
    assert re.sub(r"\s+", " ", NO_SANDBOX) in readme
    assert "cp -r starter-js my-solution" in readme and "sfnlab check my-solution" in readme
