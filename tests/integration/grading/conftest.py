"""One sandboxed grading LocalStack for the grader's tests, and the class graded once on it."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from localstack_process_executor.sandbox import find_bwrap
from sfnlab.config import PROJECT_ROOT, Settings
from sfnlab.grading import SolutionReport, grade
from sfnlab.grading.stack import INSTALL_HINT, grading_stack
from tests.integration.grading.submissions import CLASSMATE, assemble, load_all

SECRET = "aws_secret_access_key = sfnlab-test-" + hashlib.sha1(b"secret").hexdigest()
LEFT_BEHIND = ("234.5", "345.5")  # what the hostile submissions' processes sleep for


@dataclass
class GradedClass:
    reports: dict[str, SolutionReport]
    folders: dict[str, Path]
    home: Path
    seconds: float
    digests_before: dict[Path, str] = field(default_factory=dict)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def left_behind() -> list[str]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if len(cmdline) == 2 and cmdline[0] == "sleep" and cmdline[1] in LEFT_BEHIND:
            found.append(f"{process.pid}: {' '.join(cmdline)}")
    return found


@pytest.fixture(scope="session")
def fake_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The instructor's home as the grading LocalStack sees it, with credentials to steal."""
    home = tmp_path_factory.mktemp("instructor-home")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(f"[default]\n{SECRET}\n")
    return home


@pytest.fixture(scope="session")
def grading_localstack(fake_home: Path):
    if find_bwrap() is None:
        pytest.skip(f"bubblewrap is not installed. {INSTALL_HINT}")
    with grading_stack(environment={"HOME": str(fake_home)}) as settings:
        yield settings


@pytest.fixture(scope="session")
def graded_class(
    grading_localstack: Settings, tmp_path_factory: pytest.TempPathFactory, fake_home: Path
) -> GradedClass:
    """Every submission, the starter and the reference, graded in one batch (4 at a time)."""
    root = tmp_path_factory.mktemp("class")
    placeholders = {
        "@@HOME@@": str(fake_home),
        "@@CLASSMATE@@": str(root / CLASSMATE),
        "@@KIT@@": str(PROJECT_ROOT),
    }
    folders = {s.name: assemble(s, root, placeholders) for s in load_all()}
    folders["starter"] = PROJECT_ROOT / "starter"
    folders[PROJECT_ROOT.name] = PROJECT_ROOT
    watched = [
        folders[CLASSMATE] / "lambdas" / "merge_to_master.py",
        PROJECT_ROOT / "LICENSE",
        fake_home / ".aws" / "credentials",
    ]
    before = {path: digest(path) for path in watched}
    started = time.monotonic()
    reports = grade(list(folders.values()), grading_localstack, jobs=4)
    seconds = time.monotonic() - started
    print(f"graded {len(folders)} solutions in {seconds:.1f} s")
    return GradedClass(
        {report.solution: report for report in reports}, folders, fake_home, seconds, before
    )
