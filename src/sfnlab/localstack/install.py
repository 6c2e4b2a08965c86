"""The embedded LocalStack's own virtualenv: localstack-core 4.14.0 and the kit's plugins.

LocalStack 4.14 needs Python >= 3.12, which the kit itself does not, so it gets its own
environment, created on first use from the committed lock file
(`requirements/localstack-runtime.txt`) and recreated only when that file, the
executor's metadata or the interpreter changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from localstack_process_executor import node_finder, nodejs_sdk
from localstack_process_executor.interpreters import Interpreter, find_first, probe
from sfnlab.errors import InstallFailed, PythonNotFound
from sfnlab.settings import PROJECT_ROOT, Settings
from sfnlab.support.progress import note, shown_path, step

REQUIREMENTS = PROJECT_ROOT / "requirements" / "localstack-runtime.txt"
EXECUTOR_PROJECT = PROJECT_ROOT / "localstack-process-executor"
PATCHES_PROJECT = PROJECT_ROOT / "localstack-patches"
# The kit's own LocalStack plugins, installed editable beside localstack-core.
PLUGIN_PROJECTS = (EXECUTOR_PROJECT, PATCHES_PROJECT)
# LocalStack 4.14 is built on 3.13 and runs on 3.12; its pinned dependencies do not
# install on 3.14 (see requirements/README.md).
SUPPORTED_PYTHONS = [(3, 13), (3, 12)]
STAMP_NAME = ".sfnlab-install.json"


def find_runtime_python(settings: Settings) -> Interpreter:
    """A Python 3.13 or 3.12 that really runs: SFNLAB_PYTHON if set, else the one found."""
    if settings.python:
        version = probe(settings.python)
        if version is None:
            raise PythonNotFound(
                f"SFNLAB_PYTHON is set to {settings.python}, which does not run.",
                hint="Point it at a working Python 3.12 or newer, or unset it.",
            )
        if version not in SUPPORTED_PYTHONS:
            raise PythonNotFound(
                f"SFNLAB_PYTHON is Python {version[0]}.{version[1]}; the embedded LocalStack "
                "runs on Python 3.12 or 3.13.",
                hint="Point it at a Python 3.13 or 3.12, or unset it.",
            )
        return Interpreter(settings.python, version)
    found = find_first(SUPPORTED_PYTHONS)
    if found is None:
        raise PythonNotFound(
            "The embedded LocalStack needs Python 3.13 or 3.12, and neither was found on PATH, "
            "in pyenv, uv or the usual install folders.",
            hint="Install Python 3.13 (for example `uv python install 3.13` or "
            "`pyenv install 3.13`) or set SFNLAB_PYTHON to one; with Docker, run "
            "`docker compose up -d` instead.",
        )
    return found


def fingerprint(interpreter: Interpreter) -> str:
    digest = hashlib.sha256()
    digest.update(REQUIREMENTS.read_bytes())
    for project in PLUGIN_PROJECTS:
        digest.update((project / "pyproject.toml").read_bytes())
    digest.update(f"{interpreter.path}|{interpreter.version_text}".encode())
    return digest.hexdigest()


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def recorded_install(venv: Path) -> tuple[Interpreter, str] | None:
    """The interpreter and fingerprint the virtualenv was last built with, if any."""
    try:
        record = json.loads((venv / STAMP_NAME).read_text())
        version = tuple(record["version"])
        return Interpreter(record["python"], (version[0], version[1])), record["fingerprint"]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def uv_command() -> list[str]:
    from uv import find_uv_bin

    return [os.fsdecode(find_uv_bin())]


def uv_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    # Never download an interpreter behind the learner's back; use the one we found.
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.setdefault("UV_CACHE_DIR", str(settings.uv_cache))
    env.pop("VIRTUAL_ENV", None)
    return env


def ensure_runtime_env(settings: Settings) -> Path:
    """The embedded runtime's Python, creating or refreshing its virtualenv if needed.

    One process installs at a time, and the others wait and then find it made: two
    installs at once (two `sfnlab up` of different state folders on a fresh clone, or a
    parallel test run's workers) would each clear the other's half-made virtualenv.
    """
    if is_current(settings.runtime_venv):
        return venv_python(settings.runtime_venv)
    with one_install_at_a_time(settings):
        if is_current(settings.runtime_venv):  # made while this one waited
            return venv_python(settings.runtime_venv)
        interpreter = find_runtime_python(settings)
        install_runtime_env(settings, interpreter)
        record = {
            "python": interpreter.path,
            "version": list(interpreter.version),
            "fingerprint": fingerprint(interpreter),
        }
        (settings.runtime_venv / STAMP_NAME).write_text(json.dumps(record) + "\n")
    return venv_python(settings.runtime_venv)


def is_current(venv: Path) -> bool:
    """Whether the virtualenv was built, and from what the kit asks for now."""
    record = recorded_install(venv)
    if record is None or not venv_python(venv).exists():
        return False
    interpreter, recorded = record
    return probe(interpreter.path) == interpreter.version and fingerprint(interpreter) == recorded


@contextlib.contextmanager
def one_install_at_a_time(settings: Settings) -> Iterator[None]:
    """Hold the kit folder's install lock (released with the process, however it ends)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(settings.home / "localstack-venv.lock", os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            note(
                "Waiting for another installation of the embedded LocalStack runtime in "
                f"{shown_path(settings.home)} ..."
            )
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def install_runtime_env(settings: Settings, interpreter: Interpreter) -> None:
    venv = settings.runtime_venv
    settings.home.mkdir(parents=True, exist_ok=True)
    commands = [
        [*uv_command(), "venv", "--clear", "--quiet", "--python", interpreter.path, str(venv)],
        [
            *uv_command(),
            "pip",
            "install",
            "--python",
            str(venv_python(venv)),
            "-r",
            str(REQUIREMENTS),
            *(argument for project in PLUGIN_PROJECTS for argument in ("-e", str(project))),
        ],
    ]
    with (
        settings.install_log.open("w") as log,
        step(
            f"Installing the embedded LocalStack runtime on Python {interpreter.version_text} "
            "(first use only)",
            "Installed the embedded LocalStack runtime",
        ),
    ):
        for command in commands:
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            result = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, env=uv_environment(settings)
            )
            if result.returncode != 0:
                raise InstallFailed(
                    "Installing the embedded LocalStack runtime failed "
                    f"(exit {result.returncode}).",
                    hint="Check the network access to PyPI and the free disk space, then run "
                    "`sfnlab up` again.",
                    log_file=settings.install_log,
                )


def nodejs_sdk_folder(settings: Settings) -> Path:
    """Where the AWS SDK for JavaScript given to Node.js functions is installed, once for
    every LocalStack of the kit (PROCESS_EXECUTOR_NODE_SDK_DIR of each)."""
    return settings.home / "nodejs-aws-sdk"


def ensure_nodejs_sdk(settings: Settings) -> str | None:
    """Install the SDK for Node.js functions now, while this process has the network: a
    grading LocalStack runs in a network of its own, and a grading image has none, so its
    first Node.js function could not install it. Returns why it could not, or None (done,
    or no Node.js here: Python functions need nothing of it)."""
    listed = os.environ.get("PROCESS_EXECUTOR_NODES", "")  # as the executor reads it
    nodes = [path for path in listed.split(os.pathsep) if path]
    try:
        node = node_finder.find_node(f"nodejs{node_finder.MINIMUM_NODE}.x", nodes)
    except node_finder.NodeNotFound:
        return None
    folder = nodejs_sdk_folder(settings)
    if nodejs_sdk.is_installed(folder):
        return None
    try:
        with step("Installing the AWS SDK for JavaScript for Node.js functions (first use only)"):
            nodejs_sdk.ensure_nodejs_sdk(folder, node)
    except nodejs_sdk.SdkInstallError as e:
        return str(e)
    return None
