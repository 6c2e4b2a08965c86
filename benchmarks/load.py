"""A class at once: 100 SolveIssue executions, half approved, half rejected.

Deploys the kit's own exercise to a LocalStack of its own (own port, own state folder),
starts the executions all at once, approves or rejects each through the approve Lambda as
soon as its reviewers' notification arrives, and waits for every one to end. Meanwhile it
samples LocalStack and every process it started (runtime processes, their keepers,
whatever handlers started). Then it waits out the keep-alive and checks that the idle
environments are gone. Everything is stopped at the end.

    .sfnlab/venv/bin/python benchmarks/load.py [--executions 100] [--ulimit-n 1024]

`--ulimit-n N` first lowers this process's soft and hard limits on open files to N, as
`bash -c 'ulimit -n 1024; ...'` would, so LocalStack runs under that limit too (`sfnlab
up` raises the soft limit to the hard one, so both must be lowered).
It prints each figure beside its target.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from cpu_meter import CpuMeter

from sfnlab.deploy.resources import deploy
from sfnlab.exercise import APPROVE, REVIEWERS_CHANNEL
from sfnlab.inbox import InboxClient
from sfnlab.lab import lifecycle
from sfnlab.support.aws import client
from sfnlab.support.polling import poll
from sfnlab.testing.settings import settings_for
from sfnlab.workflow import executions
from sfnlab.workflow.approval import decision_event

END_TO_END_TARGET = 30.0
MEMORY_TARGET_MB = 2048
DESCRIPTORS_TARGET = 1024


def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"{name:<52} {value:>18}   {target}{mark}")


def family(localstack: psutil.Process) -> list[psutil.Process]:
    """LocalStack and every process below it: runtime processes, their keepers, and
    whatever handlers started (a keeper adopts what its runtime leaves behind)."""
    try:
        return [localstack, *localstack.children(recursive=True)]
    except psutil.Error:
        return [localstack]


@dataclass
class Peaks:
    rss_mb: float = 0.0
    pss_mb: float = 0.0
    descriptors: int = 0
    threads: int = 0
    processes: int = 0
    samples: int = 0


class Sampler(threading.Thread):
    """Every `interval` s: memory of LocalStack and its processes, LocalStack's descriptors
    and threads; keeps the peaks."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.localstack = psutil.Process(pid)
        self.interval = interval
        self.peaks = Peaks()
        self.stopping = threading.Event()

    def sample(self) -> None:
        rss = pss = 0
        processes = family(self.localstack)
        for process in processes:
            try:
                memory = process.memory_full_info()
            except psutil.Error:
                continue
            rss += memory.rss
            pss += memory.pss
        peaks = self.peaks
        peaks.rss_mb = max(peaks.rss_mb, rss / 2**20)
        peaks.pss_mb = max(peaks.pss_mb, pss / 2**20)
        peaks.processes = max(peaks.processes, len(processes))
        try:
            peaks.descriptors = max(peaks.descriptors, self.localstack.num_fds())
            peaks.threads = max(peaks.threads, self.localstack.num_threads())
        except psutil.Error:
            pass
        peaks.samples += 1

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            self.sample()


@dataclass
class Run:
    started: dict[str, bool] = field(default_factory=dict)  # execution name -> approve?
    notifications: dict[str, int] = field(default_factory=dict)
    decided: dict[str, str] = field(default_factory=dict)  # name -> error, "" if fine
    outcomes: dict[str, str] = field(default_factory=dict)  # name -> status / error
    lock: threading.Lock = field(default_factory=threading.Lock)


def start_all(settings, count: int, run: Run) -> None:
    def start(index: int) -> None:
        name = f"load-{index:03d}-{'approve' if index % 2 == 0 else 'reject'}"
        executions.start(settings, name=name)
        with run.lock:
            run.started[name] = index % 2 == 0

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(start, range(count)))


def decide(settings, token: str, name: str, approve: bool, run: Run) -> None:
    """What a reviewer does: invoke the approve Lambda with the token."""
    lam = client("lambda", settings)
    event = decision_event(approve, token, "bob", None)
    try:
        response = lam.invoke(
            FunctionName=APPROVE.function_name(), Payload=json.dumps(event).encode()
        )
        payload = response["Payload"].read().decode()
        error = (
            f"{response['FunctionError']}: {payload[:200]}" if "FunctionError" in response else ""
        )
    except Exception as e:
        error = f"{type(e).__name__}: {e}"
    with run.lock:
        run.decided[name] = error


def review_all(settings, run: Run, count: int, deadline: float) -> None:
    """Read the reviewers' channel as notifications arrive; decide each execution once."""
    inbox = InboxClient(settings.inbox_url)
    seen_id = 0
    with ThreadPoolExecutor(16) as pool:
        while time.monotonic() < deadline:
            fresh = inbox.requests(channel=REVIEWERS_CHANNEL, since=seen_id, limit=1000)
            for request in sorted(fresh, key=lambda r: r.id):
                seen_id = max(seen_id, request.id)
                body = request.json if isinstance(request.json, dict) else {}
                name, token = body.get("execution"), body.get("taskToken")
                with run.lock:
                    if name not in run.started:
                        continue
                    run.notifications[name] = run.notifications.get(name, 0) + 1
                    first = run.notifications[name] == 1
                if first and token:
                    pool.submit(decide, settings, token, name, run.started[name], run)
            with run.lock:
                if len(run.decided) == len(run.notifications) == len(run.started) == count:
                    return
            time.sleep(0.1)


def watch_ends(settings, run: Run, count: int, deadline: float) -> None:
    """Until all `count` have ended: one listing of the running executions per round, and
    one description of each that ended."""
    sfn = client("stepfunctions", settings)
    machine = executions.state_machine_arn(settings)
    prefix = machine.replace(":stateMachine:", ":execution:")
    while time.monotonic() < deadline:
        running = set()
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=machine, statusFilter="RUNNING"
        ):
            running.update(item["name"] for item in page["executions"])
        with run.lock:
            ended = set(run.started) - running - set(run.outcomes)
        for name in ended:
            described = sfn.describe_execution(executionArn=f"{prefix}:{name}")
            if described["status"] == "RUNNING":
                continue  # started after the listing
            with run.lock:
                run.outcomes[name] = described["status"] + (
                    f" {described['error']}" if described.get("error") else ""
                )
        with run.lock:
            if len(run.outcomes) == count:
                return
        time.sleep(0.5)


def expected_outcome(approve: bool) -> str:
    return "SUCCEEDED" if approve else "FAILED ReviewRejected"


def environments(localstack: psutil.Process) -> list[psutil.Process]:
    """Runtime processes assigned to a function: they run in its code folder (spares and
    keepers run in their process folder)."""
    found = []
    for process in family(localstack)[1:]:
        try:
            if "/lambda/" in process.cwd():
                found.append(process)
        except psutil.Error:
            continue
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=100)
    parser.add_argument("--ulimit-n", type=int, help="lower the open-files limit to this first")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up after (s)")
    args = parser.parse_args()
    if args.ulimit_n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.ulimit_n, args.ulimit_n))
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)
    print(f"open-files limit (soft, hard): {limit}; {os.cpu_count()} CPUs; ", end="")
    print(f"load average {os.getloadavg()[0]:.1f}")

    settings = settings_for(Path(tempfile.mkdtemp(prefix="sfnlab-load-")))
    run = Run()
    try:
        status = lifecycle.up(settings)
        deploy(settings)
        keepalive_ms = int(psutil.Process(status.pid).environ().get("LAMBDA_KEEPALIVE_MS", 600_000))
        sampler = Sampler(status.pid)
        sampler.start()
        # Environments live for seconds here: a look every 0.5 s sees them, and costs less.
        with CpuMeter(status.pid, sample=0.5) as cpu:
            began = time.monotonic()
            deadline = began + args.timeout
            watchers = [
                threading.Thread(target=task, args=(settings, run, args.executions, deadline))
                for task in (review_all, watch_ends)
            ]
            for watcher in watchers:
                watcher.start()
            start_all(settings, args.executions, run)
            for watcher in watchers:
                watcher.join()
            elapsed = time.monotonic() - began
        sampler.stopping.set()
        sampler.join()
        peaks = sampler.peaks

        wrong = {
            name: run.outcomes.get(name, "still RUNNING")
            for name, approve in run.started.items()
            if run.outcomes.get(name) != expected_outcome(approve)
        }
        lost = [name for name in run.started if run.notifications.get(name, 0) == 0]
        duplicated = [name for name, n in run.notifications.items() if n > 1]
        refused = {name: error for name, error in run.decided.items() if error}
        n = args.executions
        print()
        row("executions started", str(len(run.started)), f"{n}", len(run.started) == n)
        row(
            "ended as decided (approve: SUCCEEDED, reject: FAILED)",
            str(n - len(wrong)),
            f"{n}",
            not wrong,
        )
        row("reviewers' notifications lost", str(len(lost)), "0", not lost)
        row("reviewers' notifications duplicated", str(len(duplicated)), "0", not duplicated)
        row("decisions refused or failed", str(len(refused)), "0", not refused)
        row(
            "end to end",
            f"{elapsed:.1f} s",
            f"<= {END_TO_END_TARGET:.0f} s",
            elapsed <= END_TO_END_TARGET,
        )
        row(
            "peak RSS, LocalStack + its processes (summed)",
            f"{peaks.rss_mb:.0f} MB",
            f"< {MEMORY_TARGET_MB} MB",
            peaks.rss_mb < MEMORY_TARGET_MB,
        )
        row("peak PSS, same processes (shared pages split)", f"{peaks.pss_mb:.0f} MB")
        row(
            "peak descriptors held by LocalStack",
            str(peaks.descriptors),
            f"< {DESCRIPTORS_TARGET}",
            peaks.descriptors < DESCRIPTORS_TARGET,
        )
        row("peak LocalStack threads", str(peaks.threads))
        row("CPU time of LocalStack itself, during the run", f"{cpu.localstack_seconds:.1f} s")
        row("CPU time of the processes below it (runtimes)", f"{cpu.lambda_seconds:.1f} s")
        row("processes started below LocalStack (2 per cold start)", str(cpu.started))
        row("peak processes (LocalStack and all below it)", str(peaks.processes))
        for name, outcome in list(wrong.items())[:5]:
            print(f"  {name}: {outcome}")
        for name, error in list(refused.items())[:5]:
            print(f"  {name}: {error}")

        localstack = psutil.Process(status.pid)
        busy = len(environments(localstack))
        gone = poll(lambda: not environments(localstack), keepalive_ms / 1000 + 30, max_delay=1)
        row(
            f"environments after the keep-alive ({keepalive_ms / 1000:g} s)",
            f"{busy} -> {len(environments(localstack))}",
            "0",
            gone,
        )
        ok = not (wrong or lost or duplicated or refused) and gone
        ok = ok and elapsed <= END_TO_END_TARGET and peaks.rss_mb < MEMORY_TARGET_MB
        return 0 if ok and peaks.descriptors < DESCRIPTORS_TARGET else 1
    finally:
        lifecycle.down(settings)
        shutil.rmtree(settings.state_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
