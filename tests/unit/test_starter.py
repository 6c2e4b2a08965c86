"""The starter: the layout of a solution, with the work left to the learner."""

from __future__ import annotations

import ast

from sfnlab.exercise import APPROVE, STEPS
from sfnlab.settings import PROJECT_ROOT

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
