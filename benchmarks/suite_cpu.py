"""Measure what each test group costs: its wall time and its CPU time, each run alone.

The whole suite is bound by CPU on a 2-core machine (docs/contributing.md), so no
schedule runs it in less time than the CPU all its groups need, divided by the cores.
This runs each group of `test_groups` by itself (`pytest --group NAME`, one process, as a
worker of the whole run holds it), a few at a time, each in a cgroup of its own, so that
everything the group starts is counted: its LocalStacks and their Lambda processes, the
browser, the installs and the graded code. It prints each group's wall and CPU time, the
sums, and that floor.

    .sfnlab/venv/bin/python benchmarks/suite_cpu.py [--at-once 2] [--group NAME ...]

Needs Linux with cgroup v2 (`/sys/fs/cgroup` or `/sys/fs/cgroup/unified`) and root to
make cgroups. Each group starts a LocalStack of its own here, where the whole run starts
one per worker: the sum is a few seconds of CPU per group above what the whole run needs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: pytest's own TOML reader
    import tomli as tomllib

from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.groups import INI, Groups, duration

CGROUP_ROOTS = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))


@dataclass
class Measured:
    group: str
    wall: float
    cpu: float
    summary: str  # pytest's last line


def cgroup_root() -> Path:
    for root in CGROUP_ROOTS:
        if (root / "cgroup.controllers").is_file():
            return root
    sys.exit("suite_cpu.py needs cgroup v2 (no cgroup.controllers under /sys/fs/cgroup)")


def cpu_seconds(cgroup: Path) -> float:
    for line in (cgroup / "cpu.stat").read_text().splitlines():
        name, value = line.split()
        if name == "usage_usec":
            return int(value) / 1e6
    raise RuntimeError(f"{cgroup}/cpu.stat has no usage_usec")


def run_group(group: str, root: Path, scratch: Path) -> Measured:
    cgroup = root / f"sfnlab-suite-cpu-{os.getpid()}-{group}"
    cgroup.mkdir()
    procs = str(cgroup / "cgroup.procs")

    def join_cgroup() -> None:  # in the child, before pytest runs: all it starts stays in
        with open(procs, "w") as f:
            f.write("0")

    log = scratch / f"{group}.log"
    command = [sys.executable, "-m", "pytest", "--group", group, "-n", "0", "-q"]
    command += ["-p", "no:cacheprovider", "--basetemp", str(scratch / group)]
    started = time.monotonic()
    with log.open("w") as out:
        subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=join_cgroup,
            check=False,
        )
    wall = time.monotonic() - started
    # What the group left running (a LocalStack stopping) still counts; then it goes.
    deadline = time.monotonic() + 30
    while (cgroup / "cgroup.procs").read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.2)
    cpu = cpu_seconds(cgroup)
    if (cgroup / "cgroup.procs").read_text().strip():
        (cgroup / "cgroup.kill").write_text("1")
        time.sleep(0.5)
    cgroup.rmdir()
    lines = log.read_text().strip().splitlines()
    return Measured(group, wall, cpu, lines[-1].strip("= ") if lines else "(no output)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--at-once", type=int, default=2, help="groups run at one time")
    parser.add_argument("--group", action="append", default=[], help="only these groups")
    args = parser.parse_args()
    if args.at_once < 1:
        parser.error("--at-once must be 1 or more")
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    names = Groups(pyproject["tool"]["pytest"]["ini_options"][INI]).names
    unknown = sorted(set(args.group) - set(names))
    if unknown:
        parser.error(f"not in {INI}: {', '.join(unknown)} (it lists {', '.join(names)})")
    chosen = [name for name in names if not args.group or name in args.group]
    root = cgroup_root()
    cores = os.cpu_count() or 1
    with (
        tempfile.TemporaryDirectory(prefix="sfnlab-suite-cpu-") as scratch,
        ThreadPoolExecutor(args.at_once) as pool,
    ):
        results = list(pool.map(lambda g: run_group(g, root, Path(scratch)), chosen))
    width = max(len(name) for name in chosen)
    print(f"{'group':<{width}}  {'wall':>10}  {'CPU':>10}  result")
    for one in results:
        print(f"{one.group:<{width}}  {duration(one.wall):>10}  {one.cpu:>8.1f} s  {one.summary}")
    total_cpu = sum(one.cpu for one in results)
    print(
        f"{'sum':<{width}}  {duration(sum(one.wall for one in results)):>10}  {total_cpu:>8.1f} s"
    )
    print(
        f"no schedule on {cores} cores runs these groups in less than "
        f"{duration(total_cpu / cores)} (their CPU / {cores})"
    )


if __name__ == "__main__":
    main()
