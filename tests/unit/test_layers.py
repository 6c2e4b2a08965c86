"""The kit's import structure: each module imports from the layers below its own only.

The layers are written once, in pyproject.toml (`[tool.importlinter]`), and checked with
import-linter: `lint-imports` from the kit's environment shows the same.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from sfnlab.settings import PROJECT_ROOT

tomllib = pytest.importorskip("tomllib", reason="Python 3.11 reads pyproject.toml")
CONTRACT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_every_module_of_the_kit_has_a_layer():
    """A module left out of the layers would be free to import anything."""
    layers = CONTRACT["contracts"][0]["layers"]
    placed = {name.strip() for line in layers for name in line.split("|")}
    package = PROJECT_ROOT / "src" / "sfnlab"
    found = {
        f"sfnlab.{path.stem if path.is_file() else path.name}"
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem not in ("__init__", "__main__"))
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert found == placed


@pytest.mark.skipif(sys.version_info < (3, 11), reason="import-linter needs Python 3.11")
def test_no_module_imports_from_a_layer_above_its_own():
    linter = shutil.which("lint-imports", path=str(PROJECT_ROOT / ".sfnlab" / "venv" / "bin"))
    linter = linter or shutil.which("lint-imports")
    assert linter, "import-linter is a development dependency: `uv sync` installs it"
    result = subprocess.run(
        [linter, "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(sys.version_info < (3, 11), reason="grimp comes with import-linter")
def test_no_module_of_the_kit_imports_itself_through_others():
    """No import circle, within a layer either: each concept has one home others import."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("sfnlab")
    circles = sorted(
        f"{module} -> {imported} -> ... -> {module}"
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    )
    assert circles == []


def test_every_module_is_named_in_the_layout_page():
    """docs/layout.md is where a contributor looks for a module's home: each one is there,
    in its own package's row."""
    rows = (PROJECT_ROOT / "docs" / "layout.md").read_text().splitlines()
    package = PROJECT_ROOT / "src" / "sfnlab"
    missing = []
    for path in sorted(package.rglob("*.py")):
        folder = path.parent.relative_to(package).as_posix()
        if path.name == "__init__.py" or "__pycache__" in path.parts:
            continue
        home = f"| `{folder}/` |" if folder != "." else f"| `{path.name}` |"
        if not any(row.startswith(home) and f"`{path.name}`" in row for row in rows):
            missing.append(path.relative_to(package).as_posix())
    assert not missing, f"not in docs/layout.md's tables: {missing}"
