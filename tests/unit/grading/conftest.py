"""Solution folders to check, zip and unpack: the kit's own, and the starter."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sfnlab.settings import PROJECT_ROOT


def copy_solution(source: Path, target: Path) -> Path:
    """`source`'s definition and Lambdas (a solution's files) in the new folder `target`."""
    for part in ("definitions", "lambdas"):
        shutil.copytree(source / part, target / part)
    return target


@pytest.fixture
def solution(tmp_path: Path) -> Path:
    """A copy of the kit's own solution, which meets every requirement."""
    return copy_solution(PROJECT_ROOT, tmp_path / "my-solution")


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    return copy_solution(PROJECT_ROOT / "starter", tmp_path / "starter-copy")
