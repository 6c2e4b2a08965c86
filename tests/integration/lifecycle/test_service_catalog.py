"""LocalStack's service catalog is built once for the runtime and linked into each state folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sfnlab.localstack import service_catalog
from sfnlab.localstack.install import venv_python
from sfnlab.support.aws import client


def catalogs(folder: Path) -> list[Path]:
    return sorted(folder.rglob(service_catalog.PATTERN)) if folder.exists() else []


def test_localstack_reads_the_runtimes_catalog_and_builds_none_of_its_own(localstack):
    client("stepfunctions", localstack).list_state_machines()  # a first request
    filesystem = localstack.state_dir / "filesystem"
    [linked] = catalogs(filesystem / service_catalog.STATIC_LIBS)
    assert linked.is_symlink()
    assert linked.resolve().parent == localstack.runtime_venv / service_catalog.FOLDER
    # LocalStack keeps a catalog it built itself in its cache folder: there is none.
    assert catalogs(filesystem / "var") == []


def test_the_catalog_is_built_once(localstack):
    python = venv_python(localstack.runtime_venv)
    [first] = service_catalog.built(localstack, python)
    before = first.stat().st_mtime_ns
    assert service_catalog.built(localstack, python) == [first]
    assert first.stat().st_mtime_ns == before


def test_a_catalog_that_cannot_be_built_is_not_linked_and_start_goes_on(tmp_path, localstack):
    # A runtime whose catalog cannot be built (no interpreter there): LocalStack, as it
    # would without the kit, then builds the catalog itself on its first request.
    settings = replace(localstack, home=tmp_path / "home", state_dir=tmp_path / "state")
    settings.runtime_venv.mkdir(parents=True)
    service_catalog.link(settings, tmp_path / "no-python")
    assert catalogs(settings.state_dir) == []
