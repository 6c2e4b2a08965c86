"""The LocalStack a class is graded on: embedded, of its own, with learners' code sandboxed.

`sfnlab grade` never grades on the learner's or instructor's own LocalStack: it starts a
dedicated embedded one on a free port with a state folder of its own, whose process
executor runs every Lambda inside bubblewrap (`PROCESS_EXECUTOR_SANDBOX=bwrap`, see the
executor's `sandbox.py`), and stops it afterwards. Ordinary `sfnlab up` runs a learner's
own code without a sandbox.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from localstack_process_executor.config import MAX_ENVIRONMENTS
from localstack_process_executor.sandbox import find_bwrap
from sfnlab.errors import LearnerError
from sfnlab.exercise import STEPS
from sfnlab.lab import lifecycle
from sfnlab.localstack import embedded
from sfnlab.localstack.install import ensure_runtime_env
from sfnlab.settings import DEFAULT_GRADING_JOBS, Settings
from sfnlab.support.aws import client
from sfnlab.support.network import free_port

SANDBOX_VARIABLE = "PROCESS_EXECUTOR_SANDBOX"
# What grading has LocalStack do, service by service, and a call that changes nothing:
# the grader's own calls, and LocalStack's when it runs them (code kept in S3, a queue
# per function for its events, logs and metrics, execution events for EventBridge).
SERVICES_USED = {
    "lambda": lambda api: api.list_functions(),
    "stepfunctions": lambda api: api.validate_state_machine_definition(
        definition='{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
    ),
    "iam": lambda api: api.list_roles(),
    "sts": lambda api: api.get_caller_identity(),
    "s3": lambda api: api.list_buckets(),
    "sqs": lambda api: api.list_queues(),
    "logs": lambda api: api.describe_log_groups(),
    "cloudwatch": lambda api: api.list_metrics(),
    "events": lambda api: api.list_event_buses(),
}
INSTALL_HINT = (
    "Install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: "
    "`sudo dnf install bubblewrap`; Arch: `sudo pacman -S bubblewrap`), or pass --no-sandbox "
    "to run the learners' code unsandboxed, as you, with your files in reach."
)
OWN_WORK_HINT = "Checking your own solution? `sfnlab check` needs no sandbox."


class SandboxUnavailable(LearnerError):
    """bubblewrap is missing or cannot create its namespaces here."""


def stack_settings(state_dir: Path, base: Settings) -> Settings:
    """Settings of a LocalStack of its own: a free loopback port, its own state folder."""
    return replace(
        base,
        endpoint=f"http://127.0.0.1:{free_port()}",  # both free now, both loopback
        state_dir=state_dir,
        inbox_url=f"http://127.0.0.1:{free_port()}",
        lambda_inbox_url_given=False,
        target="localstack",
    )


def check_sandbox() -> str:
    """bwrap's path, once it has shown it can build a sandbox here."""
    bwrap = find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable(
            "Grading runs learners' code inside bubblewrap (bwrap), which is not installed.",
            hint=f"{INSTALL_HINT} {OWN_WORK_HINT}",
        )
    result = subprocess.run(
        [bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--die-with-parent", "true"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap is installed but cannot build a sandbox here: {result.stderr.strip()}",
            hint="It needs user namespaces (or root); see your distribution's notes on "
            f"bubblewrap. {INSTALL_HINT} {OWN_WORK_HINT}",
        )
    return bwrap


def load_services(settings: Settings) -> None:
    """Have LocalStack load every service grading uses, before the first solution starts.

    LocalStack loads a service on its first request: about 1.7 s here, holding its
    interpreter, which the first solutions of a class would otherwise wait out on their
    clocks (their time limits too).
    """
    for service, call in SERVICES_USED.items():
        call(client(service, settings))


def environments_for(jobs: int) -> int:
    """Room for every function of `jobs` solutions at once, so that none has to give its
    process up to another solution's (each cold start is a sandbox, an interpreter and
    the handler's imports); within the executor's default at least, and a laptop's memory
    at most."""
    functions = len(STEPS) + 1  # the steps and the approve Lambda
    return min(max(int(MAX_ENVIRONMENTS.default), jobs * (functions + 1)), 64)


@contextlib.contextmanager
def grading_stack(
    base: Settings,
    sandbox: bool = True,
    state_dir: Path | None = None,
    environment: Mapping[str, str] | None = None,
    jobs: int = DEFAULT_GRADING_JOBS,
) -> Iterator[Settings]:
    """Start a dedicated embedded LocalStack for grading; stop it and its files afterwards.

    It shares the kit's folder and region with `base`, and nothing else: its own port,
    state folder and inbox address.

    `environment` adds to LocalStack's (a test gives it a fake home, say); its
    environments are sized for `jobs` solutions at once, unless
    PROCESS_EXECUTOR_MAX_ENVIRONMENTS says otherwise."""
    if sandbox:
        check_sandbox()
    owned = state_dir is None
    folder = Path(tempfile.mkdtemp(prefix="sfnlab-grading-")) if owned else state_dir
    settings = stack_settings(folder / "state", base)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    python = ensure_runtime_env(settings)
    extra = {**(environment or {}), SANDBOX_VARIABLE: "bwrap" if sandbox else ""}
    if MAX_ENVIRONMENTS.name not in os.environ:
        extra.setdefault(MAX_ENVIRONMENTS.name, str(environments_for(jobs)))
    try:
        embedded.start(settings, python, extra_environment=extra)
        load_services(settings)
        yield settings
    finally:
        lifecycle.down(settings)
        if owned:
            shutil.rmtree(folder, ignore_errors=True)


def sandboxed(settings: Settings) -> bool:
    """Whether the embedded LocalStack of `settings` runs its Lambdas sandboxed."""
    record = embedded.running_embedded(settings)
    if record is None:
        return False
    with contextlib.suppress(Exception):
        import psutil

        return bool(psutil.Process(record.pid).environ().get(SANDBOX_VARIABLE))
    return False
