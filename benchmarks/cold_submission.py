"""Measure one submission graded from a cold start, as in a Gradescope container.

The kit's autograder zip is installed into a folder laid out as Gradescope's container
(`setup.sh`, byte code compiled, as the image build does), once; then `run_autograder`
grades the kit's own solution there, `--runs` times, each a new process with nothing
warm: LocalStack's start, the deploy, the three runs, the clean-up (LocalStack stopped).
It prints the wall time of the whole run; its CPU time (every process of it, those that
outlive their parents too, from a cgroup of its own where this machine allows one: on a
busy shared machine the wall time says little, the CPU time what an idle one needs); its
peak memory (every process's RSS summed, sampled every 50 ms; and the cgroup's own peak,
page cache included, as a container's limit counts it); then where the time went, phase
by phase. Medians, with the range.

    .sfnlab/venv/bin/python benchmarks/cold_submission.py [--runs 3] [--root DIR]

`--root DIR` keeps the installed folder there (and reuses it when it is there already).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import psutil

from sfnlab.grading.platforms.packages import gradescope_zip
from sfnlab.localstack.install import find_runtime_python
from sfnlab.settings import load_settings
from sfnlab.testing.submissions import assemble

TARGET_SECONDS = 10.0
TARGET_BYTES = 1.5 * 1024**3
TIMINGS = "sfnlab timings: "


def clean_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFNLAB_", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if ".sfnlab/venv" not in p
    )
    return env


def install(root: Path) -> None:
    """The autograder zip unpacked into `root`/source and its setup.sh run, as Gradescope
    builds the image (byte code compiled)."""
    if (root / "source" / "kit" / ".sfnlab" / "localstack-venv").is_dir():
        return
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    made = gradescope_zip(root / "autograder.zip")
    with zipfile.ZipFile(made) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder", "install-kit.sh"):
        (root / "source" / script).chmod(0o755)
    env = clean_environment()
    env["SFNLAB_PYTHON"] = find_runtime_python(load_settings()).path
    print("Installing the autograder as Gradescope's image build does ...", file=sys.stderr)
    started = time.monotonic()
    subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, check=True)
    print(f"installed in {time.monotonic() - started:.0f} s", file=sys.stderr)


class Cgroups:
    """A memory and a CPU cgroup of the run's own, where this machine allows (as root):
    the memory a container's limit would count (page cache included), and the CPU time
    of every process of the run, those that outlive their parents included."""

    def __init__(self) -> None:
        self.made: dict[str, Path] = {}
        name = f"sfnlab-cold-{os.getpid()}-{time.monotonic_ns()}"
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, where = line.split(":", 2)
            for controller in ("memory", "cpuacct"):  # cgroup v1
                if controller in controllers.split(","):
                    self.make(controller, Path("/sys/fs/cgroup") / controller / where.lstrip("/"))
            if controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").exists():
                self.make("unified", Path("/sys/fs/cgroup") / where.lstrip("/"))
        self.name = name

    def make(self, kind: str, base: Path) -> None:
        candidate = base / f"sfnlab-cold-{os.getpid()}-{time.monotonic_ns()}"
        with contextlib.suppress(OSError):
            candidate.mkdir()
            self.made[kind] = candidate

    def wrap(self, command: list[str]) -> list[str]:
        if not self.made:
            return command
        joins = " && ".join(f'echo $$ > "{path}/cgroup.procs"' for path in self.made.values())
        return ["sh", "-c", f'{joins} && exec "$@"', "sh", *command]

    def read(self, kind: str, file: str) -> str | None:
        path = self.made.get(kind)
        try:
            return (path / file).read_text() if path else None
        except OSError:
            return None

    def memory_peak(self) -> int | None:
        text = self.read("memory", "memory.max_usage_in_bytes") or self.read(
            "unified", "memory.peak"
        )
        return int(text) if text else None

    def cpu_seconds(self) -> float | None:
        text = self.read("cpuacct", "cpuacct.usage")
        if text:
            return int(text) / 1e9
        stat = self.read("unified", "cpu.stat")
        for line in (stat or "").splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) / 1e6
        return None

    def remove(self) -> None:
        for path in self.made.values():
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


def tree_peak(process: psutil.Popen, stop: threading.Event, found: list[int]) -> None:
    """The most memory (RSS) the process and everything below it held at once."""
    peak = 0
    while not stop.is_set():
        total = 0
        try:
            members = [process, *process.children(recursive=True)]
        except psutil.Error:
            members = []
        for member in members:
            with contextlib.suppress(psutil.Error):
                total += member.memory_info().rss
        peak = max(peak, total)
        time.sleep(0.05)
    found.append(peak)


def one_run(root: Path) -> dict:
    """`run_autograder` on the kit's own solution; wall time, memory, phases."""
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = assemble(None, Path(scratch), {}, name="solution")
        shutil.copytree(folder, submission)
    env = clean_environment()
    env["SFNLAB_PLATFORM_ROOT"] = str(root)
    cgroup = Cgroups()
    stop, peaks = threading.Event(), []
    started = time.monotonic()
    process = psutil.Popen(
        cgroup.wrap([str(root / "source" / "run_autograder")]),
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sampler = threading.Thread(target=tree_peak, args=(process, stop, peaks))
    sampler.start()
    output, _ = process.communicate(timeout=600)
    wall = time.monotonic() - started
    stop.set()
    sampler.join()
    cgroup_peak, cpu = cgroup.memory_peak(), cgroup.cpu_seconds()
    cgroup.remove()
    results = json.loads((root / "results" / "results.json").read_text())
    timings = next(
        (
            json.loads(line[len(TIMINGS) :])
            for line in output.splitlines()
            if line.startswith(TIMINGS)
        ),
        {},
    )
    if results.get("score") != 100.0:
        print(output, file=sys.stderr)
    return {
        "wall": wall,
        "tree_peak": peaks[0],
        "cgroup_peak": cgroup_peak,
        "cpu": cpu,
        "score": results.get("score"),
        "timings": timings,
    }


def spread(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    values = [v / scale for v in values]
    if len(values) == 1:
        return f"{values[0]:.2f} {unit}"
    return f"{statistics.median(values):.2f} {unit} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, help="the container folder (kept)")
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="sfnlab-cold-"))
    try:
        install(root)
        runs = [one_run(root) for _ in range(max(1, args.runs))]
    finally:
        if args.root is None:
            shutil.rmtree(root, ignore_errors=True)
    walls = [run["wall"] for run in runs]
    peaks = [run["tree_peak"] for run in runs]
    gib = 1024**3
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    print(f"{'measure':<56} {'value':>24}   target")
    print(
        f"{'run_autograder, one submission from cold (wall)':<56} {spread(walls):>24}   "
        f"<= {TARGET_SECONDS:.0f} s  {ok(statistics.median(walls) <= TARGET_SECONDS)}"
    )
    peak_ok = ok(statistics.median(peaks) <= TARGET_BYTES)
    label = "peak memory, all its processes (RSS summed)"
    print(f"{label:<56} {spread(peaks, 'GB', gib):>24}   <= 1.5 GB  {peak_ok}")
    cgroup = [run["cgroup_peak"] for run in runs if run["cgroup_peak"] is not None]
    if cgroup:
        label = "peak memory of its cgroup (page cache included)"
        print(f"{label:<56} {spread(cgroup, 'GB', gib):>24}")
    cpu = [run["cpu"] for run in runs if run["cpu"] is not None]
    if cpu:
        label = "CPU time of all its processes (user + system)"
        print(f"{label:<56} {spread(cpu):>24}")
        label = "the same on an idle 2-core machine, if CPU-bound (CPU / 2)"
        print(f"{label:<56} {spread([c / 2 for c in cpu]):>24}")
    scores = sorted({run["score"] for run in runs})
    print(f"{'score (the kit solution: 100 expected)':<56} {scores!s:>24}")
    print("where the time goes (median of the runs):")
    phases = list(runs[0]["timings"])
    for phase in phases:
        values = [run["timings"].get(phase, 0.0) for run in runs]
        print(f"  {phase:<54} {spread(values):>24}")
    load = psutil.getloadavg()[0]
    print(f"(load average at the end: {load:.1f}, on {psutil.cpu_count()} cores)")


if __name__ == "__main__":
    main()
