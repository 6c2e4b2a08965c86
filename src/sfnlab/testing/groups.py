"""The suite's test groups: each runs on one worker of its own, and is timed.

A pytest plugin, loaded by the `-p` option in pyproject.toml. The groups are listed there
(`test_groups`, one `name = path [path ...]` a line, longest first), each path a folder,
a file or a test's node id; a test belongs to the group of the most specific path that
holds it, or else to a group named for its own folder. Tests run in the order of the
paths in the list: the longest groups first, and the grader's tests before
`tests/grading`, which then finds the reference graded.

In a parallel run with `--dist loadgroup` (`scripts/run_tests.sh`) this plugin hands
pytest-xdist a scheduler that gives each group whole to one worker, where the worker's
session fixtures (one LocalStack, say) serve the whole group, and the next group of the
list to the first worker free (with `--no-loadscope-reorder`, the longest first). It
groups by paths, not by `xdist_group` marks, which pytest-xdist 3.8 cannot read under
pytest 9.2 (it renames node ids through an attribute pytest no longer has).

The tests of the group named `alone` hold the machine to a tight time bound: each runs
while no other test of the run does (listed last, they come when the other groups end).

At the end of a run of several groups it prints each group's time, from its first test's
start to its last test's end, with the worker it ran on. `--group NAME` (repeatable) runs
only the tests of the groups named, exactly as the whole run would hold them
(`benchmarks/suite_cpu.py` measures each group so).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

INI = "test_groups"
ALONE = "alone"
TURNS = "sfnlab_test_turns"  # the folder of the turns' lock files, handed to the workers
_GROUPS = pytest.StashKey["Groups"]()
_TURNS_FOLDER = pytest.StashKey[Path]()  # on a parallel run's controller


@dataclass
class Timing:
    tests: int = 0
    start: float = float("inf")
    stop: float = 0.0
    workers: set[str] = field(default_factory=set)


class Groups:
    """The groups' paths (relative to the rootdir), in the order of the list; what each
    group took."""

    def __init__(self, lines: list[str]) -> None:
        self.paths: list[tuple[str, str]] = []  # (path, group) in the order of the list
        for line in lines:
            name, separator, paths = line.partition("=")
            if not separator or not name.strip() or not paths.split():
                raise pytest.UsageError(f"{INI}: {line!r} is not `name = path [path ...]`")
            self.paths += [(path.rstrip("/"), name.strip()) for path in paths.split()]
        self.names = list(dict.fromkeys(name for _, name in self.paths))
        self.timings: dict[str, Timing] = {}

    def place(self, nodeid: str) -> tuple[int, str]:
        """(order, group) of a test, from its node id."""
        holding = [
            (len(path), order, name)
            for order, (path, name) in enumerate(self.paths)
            if nodeid == path or nodeid.startswith((f"{path}/", f"{path}::"))
        ]
        if holding:
            _, order, name = max(holding)
            return order, name
        return len(self.paths), nodeid.split("::", 1)[0].rpartition("/")[0]

    def group_of(self, nodeid: str) -> str:
        return self.place(nodeid)[1]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        timing = self.timings.setdefault(self.group_of(report.nodeid), Timing())
        timing.tests += report.when == "setup"
        timing.start = min(timing.start, report.start)
        timing.stop = max(timing.stop, report.stop)
        node = getattr(report, "node", None)  # the worker, in a parallel run's controller
        if node is not None:
            timing.workers.add(node.gateway.id)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if len(self.timings) < 2:  # one group's time is the run's
            return
        terminalreporter.write_sep("=", "time per test group")
        known = [name for name in self.names if name in self.timings]
        width = max(len(name) for name in self.timings)
        for name in known + sorted(set(self.timings) - set(known)):
            timing = self.timings[name]
            on = f"  on {','.join(sorted(timing.workers))}" if timing.workers else ""
            terminalreporter.write_line(
                f"{name:<{width}}  {duration(timing.stop - timing.start):>10}  "
                f"{timing.tests:>4} tests{on}"
            )


class Turns:
    """Which tests of a parallel run's workers run at once: any number share the room, a
    test of the `alone` group has it to itself. While one waits for the room to empty it
    holds the turnstile, so that no test enters meanwhile. The locks (flock) go with the
    worker's process, however it ends."""

    def __init__(self, folder: Path) -> None:
        self.turnstile = os.open(folder / "turnstile", os.O_RDONLY | os.O_CREAT, 0o600)
        self.room = os.open(folder / "room", os.O_RDONLY | os.O_CREAT, 0o600)

    @contextmanager
    def turn(self, alone: bool) -> Iterator[None]:
        fcntl.flock(self.turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(self.room, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            if not alone:
                fcntl.flock(self.turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self.room, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(self.turnstile, fcntl.LOCK_UN)


def duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--group",
        action="append",
        default=[],
        metavar="NAME",
        help="run only the tests of this group of test_groups (repeatable)",
    )
    parser.addini(
        INI,
        "the suite's test groups, longest first: `name = path [path ...]` a line; the "
        f"tests of the group `{ALONE}` run while no other test does",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    groups = Groups(config.getini(INI))
    config.stash[_GROUPS] = groups
    config.pluginmanager.register(groups, "sfnlab-test-groups")
    worker = getattr(config, "workerinput", None)
    if worker is not None and TURNS in worker:
        config.pluginmanager.register(TakingTurns(groups, Turns(Path(worker[TURNS]))))
    elif worker is None and config.getoption("dist", None) == "loadgroup":
        config.stash[_TURNS_FOLDER] = Path(tempfile.mkdtemp(prefix="sfnlab-test-turns-"))


class TakingTurns:
    """On a parallel run's worker: every test waits for its turn."""

    def __init__(self, groups: Groups, turns: Turns) -> None:
        self.groups, self.turns = groups, turns

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        with self.turns.turn(alone=self.groups.group_of(item.nodeid) == ALONE):
            return (yield)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's, when it is there
def pytest_configure_node(node) -> None:
    folder = node.config.stash.get(_TURNS_FOLDER, None)
    if folder is not None:
        node.workerinput[TURNS] = str(folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_TURNS_FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups = config.stash[_GROUPS]
    items.sort(key=lambda item: groups.place(item.nodeid)[0])  # stable: collection order within
    wanted = config.getoption("group")
    if wanted:
        unknown = sorted(set(wanted) - set(groups.names))
        if unknown:
            raise pytest.UsageError(
                f"--group {', '.join(unknown)}: not in {INI} (it lists {', '.join(groups.names)})"
            )
        kept, left = [], []
        for item in items:
            (kept if groups.group_of(item.nodeid) in wanted else left).append(item)
        if left:
            config.hook.pytest_deselected(items=left)
            items[:] = kept


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's, when it is there
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    groups = config.stash[_GROUPS]

    class GroupScheduling(LoadScopeScheduling):
        """pytest-xdist's scheduling by scope, each group one scope."""

        def _split_scope(self, nodeid: str) -> str:
            return groups.group_of(nodeid)

    return GroupScheduling(config, log)
