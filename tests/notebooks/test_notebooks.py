"""Every notebook runs top to bottom on the embedded LocalStack, and is committed clean."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from sfnlab.config import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = PROJECT_ROOT / "notebooks" / "solutions" / "README.md"


def test_there_are_notebooks_in_the_order_a_learner_takes_them():
    numbers = [path.name.split("-", 1)[0] for path in NOTEBOOKS]
    assert numbers == [f"{n:02d}" for n in range(1, len(NOTEBOOKS) + 1)]
    assert len(NOTEBOOKS) >= 7


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


def execute(notebook, path, localstack, tmp_path, monkeypatch, output_dir, saved_as=None):
    """Run `notebook` on the session's LocalStack, keep it in test-output/, return its errors."""
    monkeypatch.setenv("SFNLAB_ENDPOINT", localstack.endpoint)
    monkeypatch.setenv("SFNLAB_INBOX_URL", localstack.inbox_url)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(localstack.state_dir))
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute()  # raises CellExecutionError, with the cell and its error, on failure
    finally:
        nbformat.write(notebook, output_dir / "notebooks" / (saved_as or path.name))
    return [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error" or "Error:" in output.get("text", "")
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, localstack, tmp_path, monkeypatch, output_dir):
    notebook = nbformat.read(path, as_version=4)
    assert execute(notebook, path, localstack, tmp_path, monkeypatch, output_dir) == []
    for index in exercise_cells(notebook):
        # As committed, the exercise is the learner's to do: its check must not pass yet.
        assert not printed(notebook.cells[index + 1]).startswith("✓")


def exercise_cells(notebook) -> list[int]:
    return [
        n for n, cell in enumerate(notebook.cells) if "exercise" in cell.metadata.get("tags", [])
    ]


def printed(cell) -> str:
    return "".join(output.get("text", "") for output in cell.get("outputs", []))


def solution_code(number: int) -> str:
    """The Python block of section `## {number}.` of notebooks/solutions/README.md."""
    text = SOLUTIONS.read_text()
    section = re.search(rf"^## {number}\. .*?(?=^## |\Z)", text, re.S | re.M)
    assert section, f"solutions/README.md has no section {number}"
    block = re.search(r"```python\n(.*?)```", section.group(0), re.S)
    assert block, f"section {number} of solutions/README.md has no Python block"
    return block.group(1)


EXERCISES = [path for path in NOTEBOOKS if exercise_cells(nbformat.read(path, as_version=4))]


@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_the_solution_in_solutions_readme_solves_the_exercise(
    path, localstack, tmp_path, monkeypatch, output_dir
):
    """The exercise cell (tagged `exercise`) replaced by its solution: the check says ✓."""
    notebook = nbformat.read(path, as_version=4)
    [index] = exercise_cells(notebook)
    notebook.cells[index].source = solution_code(int(path.name[:2]))
    errors = execute(
        notebook, path, localstack, tmp_path, monkeypatch, output_dir, "solved-" + path.name
    )
    assert errors == []
    assert printed(notebook.cells[index + 1]).startswith("✓"), printed(notebook.cells[index + 1])
