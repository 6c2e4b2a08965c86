"""Every notebook runs top to bottom on the embedded LocalStack, with the solution of each
of its exercises run in place (a broken solution fails here), and is committed clean."""

from __future__ import annotations

import ast
import builtins
import importlib.util
import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from sfnlab.deploy import remembered
from sfnlab.deploy.resources import deploy
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client, state_machine_arns
from sfnlab.testing.nodejs_runtime_api import node_or_skip

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = PROJECT_ROOT / "notebooks" / "solutions"
EXERCISE = "✏️ Exercise"


def exercise_cells(notebook) -> list[int]:
    return [i for i, cell in enumerate(notebook.cells) if EXERCISE in cell.source]


def solution_of(cell_source: str):
    """The solution file an exercise cell links to (solutions/NN-name.py)."""
    found = re.search(r"\(solutions/([\w.-]+\.py)\)", cell_source)
    return SOLUTIONS / found.group(1) if found else None


def test_there_are_notebooks_in_the_order_a_learner_takes_them():
    names = [path.name for path in NOTEBOOKS]
    assert len(names) >= 6 and names == sorted(names)
    numbers = [int(name[:2]) for name in names]
    assert numbers == list(range(1, len(names) + 1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_opens_with_questions_and_closes_with_key_points(path):
    notebook = nbformat.read(path, as_version=4)
    assert "**Questions**" in notebook.cells[0].source
    assert "**Objectives**" in notebook.cells[0].source
    assert notebook.cells[-1].source.startswith("## Key points")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_exercise_links_a_solution_file_that_exists(path):
    notebook = nbformat.read(path, as_version=4)
    for index in exercise_cells(notebook):
        solution = solution_of(notebook.cells[index].source)
        assert solution is not None and solution.is_file(), notebook.cells[index].source[:80]
        assert solution.name.startswith(path.name[:3])


def test_every_solution_file_belongs_to_an_exercise():
    linked = {
        solution_of(nbformat.read(path, as_version=4).cells[index].source)
        for path in NOTEBOOKS
        for index in exercise_cells(nbformat.read(path, as_version=4))
    }
    assert set(SOLUTIONS.glob("*.py")) == linked


def with_solutions(notebook):
    """The notebook with each exercise's solution as a code cell right after it."""
    for index in reversed(exercise_cells(notebook)):
        solution = solution_of(notebook.cells[index].source)
        notebook.cells.insert(index + 1, new_code_cell(solution.read_text()))
    return notebook


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
@pytest.mark.timeout(600)  # a notebook's cells: up to 180 s each (the client's own limit)
def test_notebook_runs_top_to_bottom_with_its_solutions(
    path, localstack, tmp_path, monkeypatch, output_dir
):
    run_notebook(
        path, nbformat.read(path, as_version=4), localstack, tmp_path, monkeypatch, output_dir
    )


def test_notebook_5_runs_in_javascript_with_its_solution(
    localstack, tmp_path, monkeypatch, output_dir
):
    """LANGUAGE = "javascript": the kit's JavaScript Lambdas deployed, the JavaScript starter
    copied, and the exercise's solution written in JavaScript, graded 100."""
    node_or_skip()
    path = PROJECT_ROOT / "notebooks" / "05-build-it-yourself.ipynb"
    notebook = in_language(nbformat.read(path, as_version=4), "javascript")
    try:
        notebook = run_notebook(
            path, notebook, localstack, tmp_path, monkeypatch, output_dir, "05-javascript"
        )
    finally:  # the session's other tests expect the kit's Python Lambdas
        remembered.remember(localstack, deploy(localstack).request)
    printed = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "SolveIssue is deployed with its JavaScript Lambdas" in printed
    copied = {path.name for path in (tmp_path / "my-solution" / "lambdas").iterdir()}
    assert copied == {path.name for path in (PROJECT_ROOT / "starter-js" / "lambdas").iterdir()}


def deploys_lambdas(code: str) -> bool:
    """Whether a notebook's code deploys the exercise's Lambdas: `notebook.setup()` does,
    unless told `deploy=False`, and so does `deploy(...)`."""
    return bool(re.search(r"notebook\.setup\((?!deploy=False\))|(?<![\w.])deploy\(", code))


def test_every_notebook_that_deploys_lambdas_sets_its_language_first():
    without = []
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        first = next(cell for cell in notebook.cells if cell.cell_type == "code")
        code = "".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
        if not deploys_lambdas(code):  # TestState alone, say: no Lambda runs
            assert "LANGUAGE" not in code, path.name
            without.append(path.name)
            continue
        assert re.search(r'^LANGUAGE = "python"$', first.source, re.MULTILINE), path.name
        assert "notebook.setup(language=LANGUAGE)" in code or "language=LANGUAGE" in code
    assert without == ["11-one-state-tested-alone.ipynb"]  # the others run the exercise


def in_language(notebook, language: str):
    """The notebook with its LANGUAGE setting changed."""
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    first.source = first.source.replace('LANGUAGE = "python"', f'LANGUAGE = "{language}"')
    assert f'LANGUAGE = "{language}"' in first.source
    return notebook


def run_notebook(path, notebook, localstack, tmp_path, monkeypatch, output_dir, name=None):
    """Run `notebook` (read from `path`) with its exercises' solutions on the session's
    LocalStack; fail on any error it shows. Returns it, run."""
    monkeypatch.setenv("SFNLAB_ENDPOINT", localstack.endpoint)
    monkeypatch.setenv("SFNLAB_INBOX_URL", localstack.inbox_url)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(localstack.state_dir))
    monkeypatch.setenv("SFNLAB_MY_SOLUTION", str(tmp_path / "my-solution"))
    before = executions_in(localstack)
    notebook = with_solutions(notebook)
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute()  # raises CellExecutionError, with the cell and its error, on failure
    finally:
        nbformat.write(notebook, output_dir / "notebooks" / f"{name or path.stem}.ipynb")
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
        or any(line.startswith("Error:") for line in output.get("text", "").splitlines())
    ]
    assert errors == []
    # Nothing left waiting for `sfnlab token` to find later, and named as the kit names runs.
    started = {arn: run for arn, run in executions_in(localstack).items() if arn not in before}
    assert [run["name"] for run in started.values() if run["status"] == "RUNNING"] == []
    assert [run["name"] for run in started.values() if not run["name"].startswith("solve-")] == []
    return notebook


def executions_in(settings) -> dict[str, dict]:
    """Every execution of every state machine in the learner's account, by ARN."""
    sfn = client("stepfunctions", settings)
    return {
        run["executionArn"]: run
        for arn in state_machine_arns(sfn).values()
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
        for run in page["executions"]
    }


def names_bound(sources: list[str]) -> set[str]:
    """Every name the code binds: imports, assignments, definitions, loop targets."""
    bound = set(dir(builtins))
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                bound.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
    return bound


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_module_an_exercise_tells_the_learner_to_use_is_imported_first(path):
    """`copy.deepcopy(...)` in an exercise needs `import copy` in the notebook (or in the
    exercise's own words): the learner's cell has only what the notebook gave it."""
    notebook = nbformat.read(path, as_version=4)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    for index in exercise_cells(notebook):
        spans = re.findall(r"`([^`]+)`", notebook.cells[index].source)
        bound = names_bound(code + spans)
        for span in spans:
            try:
                tree = ast.parse(span)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    name = node.value.id
                    if name not in bound and importlib.util.find_spec(name) is not None:
                        raise AssertionError(f"{path.name}: `{span}` uses {name}, never imported")
