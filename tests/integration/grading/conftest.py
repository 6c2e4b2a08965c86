"""One sandboxed grading LocalStack for the grader's tests, and the class graded once on it.

The class is every submission, the starter and the reference (each in Python and in
JavaScript), plus three cases the grader's own failures need (graded in the same batch,
so nothing is graded twice): a kit fault on one correct submission's first deploy
(retried in a new account), a crash of one check on a copy of the reference, and a copy
of `never-returns` with a time limit of 15 s. While it is graded, the instructor's own
kit runs (`sfnlab up`, the session's LocalStack and inbox) beside a canary server on this
machine's loopback: the targets of `scans-the-machine`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from botocore.exceptions import ClientError

from localstack_process_executor.sandbox import find_bwrap
from sfnlab.grading import SolutionReport, grade
from sfnlab.grading import grader as grader_module
from sfnlab.grading.grading_stack import INSTALL_HINT, grading_stack
from sfnlab.grading.network import network_of
from sfnlab.grading.pytest_plugin import remember
from sfnlab.inbox import InboxClient
from sfnlab.localstack import embedded
from sfnlab.localstack.probe import probe
from sfnlab.settings import PROJECT_ROOT, Settings, load_settings
from sfnlab.testing.submissions import (
    CLASSMATE,
    REFERENCE_JS,
    STARTER_JS,
    assemble,
    assemble_javascript_reference,
    load_all,
)

SECRET = "aws_secret_access_key = sfnlab-test-" + hashlib.sha1(b"secret").hexdigest()
LEFT_BEHIND = ("234.5", "345.5")  # what the hostile submissions' processes sleep for
RETRIED = "renamed-states"  # its first deploy meets a fault of the kit
CRASHED = "grader-crash"  # the reference, with the merge check crashing
SHORT = "short-time-limit"  # never-returns, with a time limit of 15 s
SHORT_LIMIT = 15.0
CRASHING_CHECK = 3  # the merge check


@dataclass(frozen=True)
class KitState:
    """What shows that the instructor's own kit still runs, untouched."""

    localstack: tuple[int, float] | None  # its process: pid and start time
    answers: bool  # LocalStack answers at its endpoint
    inbox_latest: int | None  # the newest request the inbox holds

    @classmethod
    def of(cls, settings: Settings) -> KitState:
        record = embedded.running_embedded(settings)
        health = InboxClient(settings.inbox_url).health() or {}
        return cls(
            (record.pid, record.create_time) if record else None,
            probe(settings.endpoint) is not None,
            health.get("latest"),
        )


@dataclass
class GradedClass:
    reports: dict[str, SolutionReport]
    folders: dict[str, Path]
    home: Path
    seconds: float
    digests_before: dict[Path, str] = field(default_factory=dict)
    deploys: dict[str, list[str]] = field(default_factory=dict)  # folder -> accounts
    isolated: bool = False  # the grading stack had a network of its own
    targets: list[str] = field(default_factory=list)  # what scans-the-machine knocked at
    kit_before: KitState | None = None
    kit_after: KitState | None = None
    canary_saw: list[str] = field(default_factory=list)  # connections and requests


class Canary:
    """An HTTP server on this machine's loopback that records every connection made to
    it, and every request."""

    def __init__(self) -> None:
        self.connections: list[str] = []
        self.requests: list[str] = []
        canary = self

        class Record(BaseHTTPRequestHandler):
            def setup(self) -> None:
                super().setup()
                canary.connections.append(f"from {self.client_address}")

            def handle_one_request(self) -> None:
                super().handle_one_request()
                if self.requestline:
                    canary.requests.append(self.requestline)

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                self.do_GET()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def machine_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback."""
    return [
        address.address
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family.name == "AF_INET" and not address.address.startswith("127.")
    ]


@pytest.fixture(scope="session")
def canary() -> Iterator[Canary]:
    server = Canary()
    yield server
    server.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def left_behind() -> list[str]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if len(cmdline) == 2 and cmdline[0] == "sleep" and cmdline[1] in LEFT_BEHIND:
            found.append(f"{process.pid}: {' '.join(cmdline)}")
    return found


def server_error() -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "InternalError", "Message": "Error while creating lambda: [Errno 9]"},
            "ResponseMetadata": {"HTTPStatusCode": 500},
        },
        "CreateFunction",
    )


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
    with grading_stack(load_settings(), environment={"HOME": str(fake_home)}) as settings:
        yield settings


class Faults:
    """The grader's failures, each for one folder of the class (the others run as usual)."""

    def __init__(self) -> None:
        self.deploys: dict[str, list[str]] = {}
        self._judging = threading.local()  # each solution is judged in a thread of its own
        self._lock = threading.Lock()
        self.real_deploy = grader_module.deploy_into_empty_account
        self.real_run_attempt = grader_module.run_attempt
        self.real_judge = grader_module.judge
        self.real_check = grader_module.CHECKS[CRASHING_CHECK]

    def deploy(self, settings: Settings, lambdas: Path, *args, **kwargs):
        source = lambdas.parent
        with self._lock:
            accounts = self.deploys.setdefault(source.name, [])
            accounts.append(settings.account_id)
            first = len(accounts) == 1
        if source.name == RETRIED and first:
            raise server_error()
        return self.real_deploy(settings, lambdas, *args, **kwargs)

    def run_attempt(self, folder: Path, base: Settings, time_limit: float, *args):
        limit = SHORT_LIMIT if folder.name == SHORT else time_limit
        return self.real_run_attempt(folder, base, limit, *args)

    def judge(self, attempt, time_limit: float) -> None:
        self._judging.folder = attempt.folder.name
        return self.real_judge(attempt, time_limit)

    def check(self, evidence):
        if getattr(self._judging, "folder", None) == CRASHED:
            raise KeyError("a bug of the grader")
        return self.real_check(evidence)

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        checks = list(grader_module.CHECKS)
        checks[CRASHING_CHECK] = self.check
        monkeypatch.setattr(grader_module, "CHECKS", checks)
        monkeypatch.setattr(grader_module, "deploy_into_empty_account", self.deploy)
        monkeypatch.setattr(grader_module, "run_attempt", self.run_attempt)
        monkeypatch.setattr(grader_module, "judge", self.judge)


def knock_targets(canary: Canary, instructor: Settings) -> list[str]:
    """Where `scans-the-machine` knocks: the canary, the instructor's LocalStack and inbox,
    on loopback; the instructor's LocalStack on the machine's other addresses too (it
    listens on all of them)."""
    targets = [f"127.0.0.1:{port}" for port in (canary.port, instructor.port)]
    targets.append(instructor.inbox_url.removeprefix("http://"))
    targets += [f"{address}:{instructor.port}" for address in machine_addresses()]
    return targets


@pytest.fixture(scope="session")
def graded_class(
    request: pytest.FixtureRequest,
    grading_localstack: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    fake_home: Path,
    canary: Canary,
    localstack: Settings,
) -> GradedClass:
    """Every submission, the starter, the reference and the three cases of the grader's
    own failures, graded in one batch (4 at a time), with the instructor's own kit
    (`localstack`: `sfnlab up`) running beside the grading stack. The reference's report
    goes to `tests/grading` too (the same test group runs it next), which need not grade
    it again."""
    root = tmp_path_factory.mktemp("class")
    # Only a grading stack with a network of its own is given targets to attack: where
    # the machine cannot make one, nothing would stop the attack.
    isolated = network_of(grading_localstack.endpoint) is not None
    targets = knock_targets(canary, localstack) if isolated else []
    placeholders = {
        "@@HOME@@": str(fake_home),
        "@@CLASSMATE@@": str(root / CLASSMATE),
        "@@KIT@@": str(PROJECT_ROOT),
        "@@TARGETS@@": " ".join(targets),
    }
    submissions = {s.name: s for s in load_all()}
    folders = {name: assemble(s, root, placeholders) for name, s in submissions.items()}
    folders["starter"] = PROJECT_ROOT / "starter"
    folders[PROJECT_ROOT.name] = PROJECT_ROOT
    folders[STARTER_JS] = PROJECT_ROOT / "starter-js"
    folders[REFERENCE_JS] = assemble_javascript_reference(root)
    folders[CRASHED] = assemble(None, root, placeholders, name=CRASHED)
    folders[SHORT] = assemble(submissions["never-returns"], root, placeholders, name=SHORT)
    watched = [
        folders[CLASSMATE] / "lambdas" / "merge_to_master.py",
        PROJECT_ROOT / "LICENSE",
        fake_home / ".aws" / "credentials",
    ]
    before = {path: digest(path) for path in watched}
    faults = Faults()
    kit_before = KitState.of(localstack)
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as monkeypatch:
        faults.patch(monkeypatch)
        reports = grade(list(folders.values()), grading_localstack, jobs=4)
    seconds = time.monotonic() - started
    kit_after = KitState.of(localstack)
    canary_saw = canary.connections + canary.requests
    print(f"graded {len(folders)} solutions in {seconds:.1f} s")
    remember(request.config, PROJECT_ROOT, reports[list(folders).index(PROJECT_ROOT.name)])
    return GradedClass(
        {report.solution: report for report in reports},
        folders,
        fake_home,
        seconds,
        before,
        faults.deploys,
        isolated,
        targets,
        kit_before,
        kit_after,
        canary_saw,
    )
