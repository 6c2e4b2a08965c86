"""The LocalStack a class is graded on: embedded, of its own, with learners' code sandboxed.

`sfnlab grade` never grades on the learner's or instructor's own LocalStack: it starts a
dedicated embedded one on a free port with a state folder of its own, whose process
executor runs every Lambda inside bubblewrap (`PROCESS_EXECUTOR_SANDBOX=bwrap`, see the
executor's `sandbox.py`), in a network of its own where Linux allows (`network.py`), and
stops it afterwards. Ordinary `sfnlab up` runs a learner's own code without a sandbox.

Inside a grading platform's container (one submission per container, `container=True`)
bubblewrap usually cannot build its namespaces: the container is then the sandbox. As
root, each Lambda still runs as a user of its own (`user` mode: it cannot stop LocalStack
or the grader, nor write their files); where even that is not possible, the learner's
code runs as the grader does, and `sandbox_of()` says so for the report.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from localstack_process_executor.config import MAX_ENVIRONMENTS
from localstack_process_executor.sandbox import find_bwrap, switches_user
from sfnlab.errors import LearnerError
from sfnlab.exercise import STEPS
from sfnlab.grading import network as grading_network
from sfnlab.lab import lifecycle
from sfnlab.localstack import embedded
from sfnlab.localstack.install import ensure_nodejs_sdk, ensure_runtime_env
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
OWN_WORK_HINT = "Checking your own solution? `sfnlab check` needs no sandbox."


# What each sandbox mode means, for the person reading a report.
SANDBOX_MEANING = {
    "bwrap": "each Lambda runs in bubblewrap: a user id, processes and files of its own",
    "user": "bubblewrap cannot build its namespaces in this container, which is the sandbox; "
    "each Lambda runs as a user of its own there, apart from LocalStack and the grader",
    "": "no sandbox: the learner's code runs as the grader does (this container is the only "
    "sandbox; it could change its own results)",
}
NOBODY = 65534  # the user id a readability check runs as (mapped in every container)


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


def readable_by_others(python: Path) -> bool:
    """Whether a user of no account can start `python` and read the executor's runtime:
    what `user` mode needs (a Python under a private home folder, say, is out of reach)."""
    from localstack_process_executor import bootstrap

    check = f"open({str(Path(bootstrap.__file__))!r}).close()"
    command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    try:
        result = subprocess.run(
            [*command, str(python), "-I", "-S", "-c", check], capture_output=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


def container_sandbox(python: Path) -> str:
    """The sandbox mode for one submission in a platform's container: bubblewrap where it
    can build its namespaces, else a user of its own per Lambda (as root), else none."""
    try:
        check_sandbox()
        return "bwrap"
    except SandboxUnavailable:
        pass
    return "user" if switches_user() and readable_by_others(python) else ""


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
    container: bool = False,
    timings: dict[str, float] | None = None,
) -> Iterator[Settings]:
    """Start a dedicated embedded LocalStack for grading; stop it and its files afterwards.

    It shares the kit's folder and region with `base`, and nothing else: its own port,
    state folder and inbox address.

    `environment` adds to LocalStack's (a test gives it a fake home, say); its
    environments are sized for `jobs` solutions at once, unless
    PROCESS_EXECUTOR_MAX_ENVIRONMENTS says otherwise. `network` is `auto`, `isolated`
    or `shared` (see `own_network`); by default SFNLAB_GRADING_NETWORK's. `container`:
    one submission in a platform's container, sandboxed as well as it can be there (see
    above), whatever `sandbox` says; its Lambdas run on LocalStack's own interpreter, on
    the container's network (the container is the sandbox). `timings` gets the seconds
    each step of the start took."""
    timings = {} if timings is None else timings
    begun = time.monotonic()
    if sandbox and not container:
        check_sandbox()
    python = ensure_runtime_env(base)  # before the network: it may download
    if unavailable := ensure_nodejs_sdk(base):  # the same: npm reads the registry
        note(f"JavaScript solutions cannot be graded here: {unavailable}")
    isolation = None if container else own_network(network or base.grading_network)
    owned = state_dir is None
    folder = Path(tempfile.mkdtemp(prefix="sfnlab-grading-")) if owned else state_dir
    if owned:
        folder.chmod(0o711)  # a Lambda's own user reaches its folder below, listing nothing
    try:
        # Inside a network of its own, the grader reaches LocalStack's port through the
        # keeper, at the same number on this machine's loopback.
        port = isolation.forward() if isolation else None
        settings = stack_settings(folder / "state", base, port)
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        mode = container_sandbox(python) if container else ("bwrap" if sandbox else "")
        extra = {**(environment or {}), SANDBOX_VARIABLE: mode}
        if container:
            extra.setdefault("PROCESS_EXECUTOR_PYTHON_DIRS", str(python.parent))
        if MAX_ENVIRONMENTS.name not in os.environ:
            extra.setdefault(MAX_ENVIRONMENTS.name, str(environments_for(jobs)))
        timings["LocalStack's environment and sandbox checked"] = time.monotonic() - begun
        grading_network.register(settings.endpoint, isolation)
        try:
            begun = time.monotonic()
            embedded.start(settings, python, extra_environment=extra, inside=isolation)
            timings["LocalStack ready"] = time.monotonic() - begun
            begun = time.monotonic()
            load_services(settings)
            timings["its services loaded"] = time.monotonic() - begun
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
    return bool(sandbox_of(settings))


def sandbox_of(settings: Settings) -> str:
    """The sandbox mode the embedded LocalStack of `settings` runs its Lambdas in ("bwrap",
    "user"), or "" for none."""
    record = embedded.running_embedded(settings)
    if record is None:
        return ""
    with contextlib.suppress(Exception):
        import psutil

        return psutil.Process(record.pid).environ().get(SANDBOX_VARIABLE, "")
    return ""
