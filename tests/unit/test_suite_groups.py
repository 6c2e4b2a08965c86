"""The suite's groups (`sfnlab.testing.groups`), on a small suite of their own run by
pytest-xdist as `scripts/run_tests.sh` runs the kit's: each group whole on one worker, in
the order of its paths, its time printed at the end; the `alone` group's tests while no
other test runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sfnlab.testing.groups import Groups

# Every test of the small suite notes its worker and when it ran.
CONFTEST = """
import json, os, time
import pytest

from sfnlab.testing.groups import Groups

@pytest.fixture(autouse=True)
def record(request):
    started = time.time()
    yield
    line = {
        "test": request.node.nodeid,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "-"),
        "start": started,
        "end": time.time(),
    }
    with open(os.environ["GROUPS_LOG"], "a") as log:
        log.write(json.dumps(line) + "\\n")
"""
# `alone` first, so that it starts while the other groups start too.
GROUPS = """
[pytest]
test_groups =
    {alone} = timed/test_timed.py::test_measured
    big = big
    ordered = zeta alpha
    small = small timed
"""
PYTEST = (sys.executable, "-m", "pytest", "-p", "sfnlab.testing.groups", "-p", "no:cacheprovider")
PARALLEL = ("-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder")


@dataclass
class Run:
    output: str
    errors: str
    code: int
    tests: list[dict]  # in the order they ended: test, worker, start, end

    def of(self, folder: str) -> list[dict]:
        return [test for test in self.tests if test["test"].startswith(f"{folder}/")]

    @property
    def measured(self) -> dict:
        (test,) = [test for test in self.tests if "test_measured" in test["test"]]
        return test

    def overlapping_the_measured(self) -> list[str]:
        measured = self.measured
        return [
            test["test"]
            for test in self.tests
            if test is not measured
            and test["start"] < measured["end"]
            and measured["start"] < test["end"]
        ]


def sleeping(count: int, seconds: float) -> str:
    return "\n".join(
        f"def test_{n}():\n    __import__('time').sleep({seconds})\n" for n in range(count)
    )


def run_suite(folder: Path, *args: str, alone: str = "alone", groups: str = GROUPS) -> Run:
    folder.mkdir()
    (folder / "pytest.ini").write_text(groups.format(alone=alone))
    (folder / "conftest.py").write_text(CONFTEST)
    for name, count in {"big": 6, "zeta": 2, "alpha": 2, "small": 2, "unlisted": 1}.items():
        (folder / name).mkdir()
        (folder / name / f"test_{name}.py").write_text(sleeping(count, 0.05))
    (folder / "timed").mkdir()
    (folder / "timed" / "test_timed.py").write_text(
        "def test_measured():\n    __import__('time').sleep(0.5)\n\n" + sleeping(1, 0.05)
    )
    log = folder / "ran.jsonl"
    result = subprocess.run(
        [*PYTEST, "--basetemp", str(folder / "tmp"), *args],
        cwd=folder,
        env={**os.environ, "GROUPS_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=240,
    )
    tests = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return Run(result.stdout, result.stderr, result.returncode, tests)


@pytest.fixture(scope="module")
def parallel(tmp_path_factory) -> Run:
    run = run_suite(tmp_path_factory.mktemp("suite") / "parallel", *PARALLEL)
    assert run.code == 0 and len(run.tests) == 15, run.output + run.errors
    return run


def test_each_group_runs_whole_on_one_worker(parallel):
    groups = {
        "alone": [parallel.measured],
        "big": parallel.of("big"),
        "ordered": parallel.of("zeta") + parallel.of("alpha"),
        "small": parallel.of("small")
        + [t for t in parallel.of("timed") if t["test"].endswith("::test_0")],
        "unlisted": parallel.of("unlisted"),
    }
    workers = {name: {test["worker"] for test in tests} for name, tests in groups.items()}
    assert all(len(on) == 1 for on in workers.values()), workers
    assert set().union(*workers.values()) == {"gw0", "gw1"}  # and they ran at once


def test_a_groups_tests_run_in_the_order_of_its_paths(parallel):
    assert max(t["end"] for t in parallel.of("zeta")) <= min(
        t["start"] for t in parallel.of("alpha")
    )


def test_a_test_of_the_alone_group_runs_while_no_other_test_does(parallel, tmp_path):
    assert parallel.overlapping_the_measured() == []
    # The same suite with that group named otherwise: others run beside it.
    control = run_suite(tmp_path / "control", *PARALLEL, alone="measured")
    assert control.code == 0, control.output + control.errors
    assert control.overlapping_the_measured() != []


def test_each_groups_time_and_worker_are_printed_at_the_end(parallel):
    summary = parallel.output.split("time per test group", 1)[1].splitlines()[1:6]
    assert [line.split()[0] for line in summary] == ["alone", "big", "ordered", "small", "unlisted"]
    assert re.fullmatch(r"big +\d+ s +6 tests  on gw[01]", summary[1]), summary
    assert re.fullmatch(r"small +\d+ s +3 tests  on gw[01]", summary[3]), summary
    assert re.search(r"^=+ 15 passed in .*=+$", parallel.output, re.M)  # pytest's own, last


def test_one_process_runs_the_groups_in_the_order_of_the_list(tmp_path):
    run = run_suite(tmp_path / "serial")
    assert run.code == 0, run.output + run.errors
    folders = [test["test"].split("/")[0] for test in run.tests]
    big, zeta, alpha, small = ["big"] * 6, ["zeta"] * 2, ["alpha"] * 2, ["small"] * 2
    assert folders == ["timed", *big, *zeta, *alpha, *small, "timed", "unlisted"]
    assert re.search(r"^big +\d+ s +6 tests$", run.output, re.M)


def test_the_group_option_runs_only_the_groups_named(tmp_path):
    run = run_suite(tmp_path / "chosen", "--group", "ordered", "--group", "alone")
    assert run.code == 0, run.output + run.errors
    ran = [test["test"] for test in run.tests]
    assert ran == [
        "timed/test_timed.py::test_measured",
        "zeta/test_zeta.py::test_0",
        "zeta/test_zeta.py::test_1",
        "alpha/test_alpha.py::test_0",
        "alpha/test_alpha.py::test_1",
    ]
    assert "5 passed, 10 deselected" in run.output


def test_the_group_option_refuses_a_group_not_listed(tmp_path):
    run = run_suite(tmp_path / "unknown", "--group", "bigg")
    assert run.code == 4, run.output + run.errors  # pytest's usage error
    assert "--group bigg: not in test_groups (it lists alone, big, ordered, small)" in run.errors


def test_a_group_line_that_names_no_path_is_refused():
    with pytest.raises(pytest.UsageError, match=r"'big =' is not `name = path \[path \.\.\.\]`"):
        Groups(["big ="])


def test_the_most_specific_path_decides_a_tests_group():
    groups = Groups(["suite = tests", "one = tests/a/test_x.py::test_y", "a = tests/a"])
    assert groups.place("tests/a/test_x.py::test_y") == (1, "one")
    assert groups.place("tests/a/test_x.py::test_y_and_more") == (2, "a")
    assert groups.place("tests/ab/test_x.py::test_y") == (0, "suite")
    assert groups.place("elsewhere/deep/test_z.py::test_w") == (3, "elsewhere/deep")


def test_every_test_file_of_the_suite_is_in_a_listed_group():
    """A file left out would form a group of its own, scheduled after every listed one:
    the run's tail."""
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11 reads pyproject.toml")

    from sfnlab.settings import PROJECT_ROOT

    ini = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    groups = Groups(ini["ini_options"]["test_groups"])
    unlisted = [
        path.relative_to(PROJECT_ROOT).as_posix()
        for folder in ini["ini_options"]["testpaths"]
        for path in sorted((PROJECT_ROOT / folder).rglob("test_*.py"))
        if groups.place(f"{path.relative_to(PROJECT_ROOT).as_posix()}::test")[0]
        == len(groups.paths)
        and "submissions" not in path.parts
    ]
    assert not unlisted, f"in no group of pyproject.toml's test_groups: {unlisted}"
