"""The LocalStack a class is graded on: embedded, of its own, with learners' code sandboxed.

`sfnlab grade` never grades on the learner's or instructor's own LocalStack: it starts a
dedicated embedded one on a free port with a state folder of its own, whose process
executor runs every Lambda inside bubblewrap (`PROCESS_EXECUTOR_SANDBOX=bwrap`, see the
executor's `sandbox.py`), in a network of its own where Linux allows (`network.py`), and
stops it afterwards. Ordinary `sfnlab up` runs a learner's own code without a sandbox.
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
from sfnlab.grading import network as grading_network
from sfnlab.lab import lifecycle
from sfnlab.localstack import embedded
from sfnlab.localstack.install import ensure_runtime_env
from sfnlab.settings import DEFAULT_GRADING_JOBS, GRADING_NETWORKS, Settings
from sfnlab.support.aws import client
from sfnlab.support.network import free_port
from sfnlab.support.progress import note, step

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


class SandboxUnavailable(LearnerError):
    """bubblewrap is missing or cannot create its namespaces here."""


SHARED_NETWORK = (
    "Learners' code is graded on this machine's own network: it can reach what any local "
    "program reaches (your own LocalStack and inbox, other services on this machine's "
    "loopback, the internet)."
)


def stack_settings(state_dir: Path, base: Settings, port: int | None = None) -> Settings:
    """Settings of a LocalStack of its own: a free loopback port (or `port`), its own state
    folder."""
    return replace(
        base,
        endpoint=f"http://127.0.0.1:{port or free_port()}",  # both free now, both loopback
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
            hint=INSTALL_HINT,
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
            "bubblewrap. " + INSTALL_HINT,
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


def own_network(choice: str) -> grading_network.GradingNetwork | None:
    """A network of its own for the grading stack, as `choice` (SFNLAB_GRADING_NETWORK)
    asks; None for the machine's own, which is said once, with the reason."""
    if choice not in GRADING_NETWORKS:
        raise ValueError(f"no such grading network: {choice!r}")
    if choice == grading_network.SHARED:
        note(f"SFNLAB_GRADING_NETWORK=shared: {SHARED_NETWORK}")
        return None
    try:
        with step("Giving the grading stack a network of its own"):
            return grading_network.GradingNetwork.start()
    except grading_network.Unavailable as e:
        if choice == grading_network.ISOLATED:
            raise SandboxUnavailable(
                f"Grading needs a network of its own (SFNLAB_GRADING_NETWORK=isolated), "
                f"and none can be made here: {e}.",
                hint="On Linux that needs bubblewrap, util-linux's nsenter, and root's "
                "usual privileges or user namespaces (a container often allows neither: "
                "there the container is the sandbox). Unset SFNLAB_GRADING_NETWORK to "
                "grade on this machine's network instead.",
            ) from None
        note(f"A network of its own for grading is not available here ({e}). {SHARED_NETWORK}")
        return None


@contextlib.contextmanager
def grading_stack(
    base: Settings,
    sandbox: bool = True,
    state_dir: Path | None = None,
    environment: Mapping[str, str] | None = None,
    jobs: int = DEFAULT_GRADING_JOBS,
    network: str | None = None,
) -> Iterator[Settings]:
    """Start a dedicated embedded LocalStack for grading; stop it and its files afterwards.

    It shares the kit's folder and region with `base`, and nothing else: its own port,
    state folder and inbox address.

    `environment` adds to LocalStack's (a test gives it a fake home, say); its
    environments are sized for `jobs` solutions at once, unless
    PROCESS_EXECUTOR_MAX_ENVIRONMENTS says otherwise. `network` is `auto`, `isolated`
    or `shared` (see `own_network`); by default SFNLAB_GRADING_NETWORK's."""
    if sandbox:
        check_sandbox()
    python = ensure_runtime_env(base)  # before the network: it may download
    isolation = own_network(network or base.grading_network)
    owned = state_dir is None
    folder = Path(tempfile.mkdtemp(prefix="sfnlab-grading-")) if owned else state_dir
    try:
        # Inside a network of its own, the grader reaches LocalStack's port through the
        # keeper, at the same number on this machine's loopback.
        port = isolation.forward() if isolation else None
        settings = stack_settings(folder / "state", base, port)
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        extra = {**(environment or {}), SANDBOX_VARIABLE: "bwrap" if sandbox else ""}
        if MAX_ENVIRONMENTS.name not in os.environ:
            extra.setdefault(MAX_ENVIRONMENTS.name, str(environments_for(jobs)))
        grading_network.register(settings.endpoint, isolation)
        try:
            embedded.start(settings, python, extra_environment=extra, inside=isolation)
            load_services(settings)
            yield settings
        finally:
            grading_network.register(settings.endpoint, None)
            lifecycle.down(settings)
    finally:
        if isolation:
            isolation.close()
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
