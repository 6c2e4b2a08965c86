"""Solution folders to check, zip and unpack: the kit's own, and the starter, in Python and
in JavaScript."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sfnlab.settings import PROJECT_ROOT


def copy_solution(source: Path, target: Path, lambdas: str = "lambdas") -> Path:
    """`source`'s definition and Lambdas (a solution's files, `lambdas` its Lambdas
    folder) in the new folder `target`."""
    shutil.copytree(source / "definitions", target / "definitions")
    shutil.copytree(source / lambdas, target / "lambdas")
    return target


@pytest.fixture
def solution(tmp_path: Path) -> Path:
    """A copy of the kit's own solution, which meets every requirement."""
    return copy_solution(PROJECT_ROOT, tmp_path / "my-solution")


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    return copy_solution(PROJECT_ROOT / "starter", tmp_path / "starter-copy")


@pytest.fixture
def solution_js(tmp_path: Path) -> Path:
    """The kit's own solution with its JavaScript Lambdas (lambdas-js/) as lambdas/."""
    return copy_solution(PROJECT_ROOT, tmp_path / "my-solution-js", lambdas="lambdas-js")


@pytest.fixture
def starter_js(tmp_path: Path) -> Path:
    return copy_solution(PROJECT_ROOT / "starter-js", tmp_path / "starter-js-copy")
