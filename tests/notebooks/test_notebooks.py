"""Every notebook runs top to bottom on the embedded LocalStack, and is committed clean."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from sfnlab.config import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks_in_the_order_a_learner_takes_them():
    names = [path.name for path in NOTEBOOKS]
    assert len(names) == 6 and names == sorted(names)
    assert names[0].startswith("01-") and names[-1].startswith("06-")


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
def test_notebook_runs_top_to_bottom(path, localstack, tmp_path, monkeypatch, output_dir):
    monkeypatch.setenv("SFNLAB_ENDPOINT", localstack.endpoint)
    monkeypatch.setenv("SFNLAB_INBOX_URL", localstack.inbox_url)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(localstack.state_dir))
    notebook = nbformat.read(path, as_version=4)
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
        if output.get("output_type") == "error" or "Error:" in output.get("text", "")
    ]
    assert errors == []
