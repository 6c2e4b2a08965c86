"""Finding interpreters: only ones that really run count, and the nearest newer wins."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from localstack_process_executor import interpreters
from localstack_process_executor.interpreters import (
    Interpreter,
    candidates,
    find_first,
    this_or_newer,
)


def fake_python(folder: Path, name: str, prints: str | None) -> Path:
    """A `python3.N` stand-in: prints `prints` as its version, or fails like a bad shim."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if prints is None:
        body = "echo 'pyenv: python3.13: command not found' >&2; exit 127"
    else:
        body = f"echo {prints}"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture(autouse=True)
def fresh_probe_cache(monkeypatch):
    monkeypatch.setattr(interpreters, "_probe_cache", {})


def test_a_shim_that_does_not_run_is_skipped(tmp_path):
    shims = tmp_path / "shims"
    real = tmp_path / "versions" / "3.13.0" / "bin"
    fake_python(shims, "python3.13", None)
    working = fake_python(real, "python3.13", "3.13")
    found = find_first([(3, 13)], directories=[str(shims), str(real)])
    assert found == Interpreter(str(working), (3, 13))


def test_a_name_that_lies_about_its_version_is_skipped(tmp_path):
    fake_python(tmp_path / "a", "python3.12", "3.11")
    honest = fake_python(tmp_path / "b", "python3.12", "3.12")
    found = find_first([(3, 12)], directories=[str(tmp_path / "a"), str(tmp_path / "b")])
    assert found is not None and found.path == str(honest)


def test_nearest_newer_version_wins_when_the_exact_one_is_missing(tmp_path):
    for version in ("3.10", "3.12", "3.13"):
        fake_python(tmp_path, f"python{version}", version)
    found = find_first(this_or_newer((3, 11)), directories=[str(tmp_path)])
    assert found is not None and found.version == (3, 12)


def test_nothing_found_is_none(tmp_path):
    fake_python(tmp_path, "python3.10", "3.10")
    assert find_first(this_or_newer((3, 11)), directories=[str(tmp_path)]) is None


def test_explicit_interpreters_come_first(tmp_path):
    fake_python(tmp_path / "path", "python3.12", "3.12")
    chosen = fake_python(tmp_path / "chosen", "my-python", "3.12")
    found = find_first([(3, 12)], extra=[str(chosen)], directories=[str(tmp_path / "path")])
    assert found is not None and found.path == str(chosen)


def test_candidates_only_take_python3_minor_names(tmp_path):
    for name in ("python3.12", "python3", "python3.12-config", "python"):
        fake_python(tmp_path, name, "3.12")
    assert [Path(p).name for p, _ in candidates(directories=[str(tmp_path)])] == ["python3.12"]


def test_this_python_is_found(monkeypatch):
    version = sys.version_info[:2]
    found = find_first([version])
    assert found is not None and found.version == version
