"""Every notebook runs top to bottom on the embedded LocalStack, with the solution of each
of its exercises run in place (a broken solution fails here), and is committed clean."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from sfnlab.settings import PROJECT_ROOT

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
    monkeypatch.setenv("SFNLAB_ENDPOINT", localstack.endpoint)
    monkeypatch.setenv("SFNLAB_INBOX_URL", localstack.inbox_url)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(localstack.state_dir))
    monkeypatch.setenv("SFNLAB_MY_SOLUTION", str(tmp_path / "my-solution"))
    notebook = with_solutions(nbformat.read(path, as_version=4))
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute()  # raises CellExecutionError, with the cell and its error, on failure
    finally:
        nbformat.write(notebook, output_dir / "notebooks" / path.name)
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
        or any(line.startswith("Error:") for line in output.get("text", "").splitlines())
    ]
    assert errors == []
