"""The suite's test groups: each runs on one worker of its own, and is timed.

A pytest plugin, loaded by the `-p` option in pyproject.toml. The groups are listed there
(`test_groups`, one `name = folder [folder ...]` a line, longest first); a test belongs
to the first group with a folder that holds it, or else to a group named for its own
folder. Each test gets its group's `xdist_group` mark, so that a parallel run with
`--dist loadgroup` (`scripts/run_tests.sh`) keeps a group on one worker, where the
worker's session fixtures (one LocalStack, say) serve the whole group. Tests run in the
order of the list, and within a group in the order of its folders (the grader's tests
before `tests/grading`, which then finds the reference graded), which
`--no-loadscope-reorder` keeps in a parallel run: the longest groups start first.

At the end of a run of several groups it prints each group's time, from its first test's
start to its last test's end, with the worker it ran on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pytest

INI = "test_groups"
_GROUPS = pytest.StashKey["Groups"]()


@dataclass
class Timing:
    tests: int = 0
    start: float = float("inf")
    stop: float = 0.0
    workers: set[str] = field(default_factory=set)


class Groups:
    """The groups, in order, each with its folders (relative to the rootdir)."""

    def __init__(self, lines: list[str]) -> None:
        self.folders: list[tuple[str, PurePosixPath]] = []  # in order of the list
        for line in lines:
            name, separator, folders = line.partition("=")
            if not separator or not name.strip() or not folders.split():
                raise pytest.UsageError(f"{INI}: {line!r} is not `name = folder [folder ...]`")
            for folder in folders.split():
                self.folders.append((name.strip(), PurePosixPath(folder.strip("/"))))
        self.names = list(dict.fromkeys(name for name, _ in self.folders))
        self.timings: dict[str, Timing] = {}

    def place(self, nodeid: str) -> tuple[int, str]:
        """(order, group) of a test, from its node id."""
        path = PurePosixPath(nodeid.split("::", 1)[0])
        for order, (name, folder) in enumerate(self.folders):
            if path.is_relative_to(folder):
                return order, name
        return len(self.folders), str(path.parent)

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


def duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI,
        "the suite's test groups, longest first: `name = folder [folder ...]` a line",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    groups = Groups(config.getini(INI))
    config.stash[_GROUPS] = groups
    config.pluginmanager.register(groups, "sfnlab-test-groups")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups = config.stash[_GROUPS]
    placed = {item.nodeid: groups.place(item.nodeid) for item in items}
    items.sort(key=lambda item: placed[item.nodeid][0])  # stable: collection order within
    if config.pluginmanager.hasplugin("xdist"):
        for item in items:
            item.add_marker(pytest.mark.xdist_group(placed[item.nodeid][1]))
