"""Platform containers laid out in a folder: each platform's files, installed as its own
image build would install them (their own install script, into the folder), then run as
the platform runs them, once per submission, with SFNLAB_PLATFORM_ROOT pointing there.

The submissions: the kit's own solution (100), a broken one (it drops the payload), an
empty one, and a hostile one (it tells its LocalStack to stop, kills what it can see,
and overwrites the results file).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sfnlab.localstack.install import find_runtime_python
from sfnlab.settings import load_settings
from sfnlab.testing.submissions import assemble, load_all

HOSTILE = Path(__file__).parent / "submissions" / "stops-its-localstack"
INSTALL_TIMEOUT = 900


def install_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment an image's build runs in: this machine's, less the kit's own
    settings, with the Python for LocalStack named (this machine's pyenv shims do not run
    by themselves) and byte code left uncompiled (the tests measure no speed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFNLAB_", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if ".sfnlab/venv" not in p
    )
    env["SFNLAB_PYTHON"] = find_runtime_python(load_settings()).path
    env["UV_COMPILE_BYTECODE"] = "0"
    env.update(extra or {})
    return env


def container_folder(prefix: str) -> Path:
    """A folder every user can reach, as a container's root is (the graded code may run
    as a user of its own)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def run_install(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("w") as out:
        done = subprocess.run(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT
        )
    assert done.returncode == 0, log.read_text()[-3000:]


def fill_submission(kind: str, target: Path, results: Path) -> None:
    """The learner's files of each kind, as the platform puts them in `target`."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if kind == "empty":
        return
    scratch = Path(tempfile.mkdtemp())
    try:
        if kind == "correct":
            folder = assemble(None, scratch, {}, name="solution")
        elif kind == "broken":
            broken = next(s for s in load_all() if s.name == "drops-payload")
            folder = assemble(broken, scratch, {})
        else:
            folder = assemble(None, scratch, {}, name="solution")
            text = (HOSTILE / "lambdas" / "create_code.py").read_text()
            (folder / "lambdas" / "create_code.py").write_text(
                text.replace("@@RESULTS@@", str(results))
            )
        for part in ("definitions", "lambdas"):
            shutil.copytree(folder / part, target / part)
    finally:
        shutil.rmtree(scratch)


def failing_bwrap(folder: Path) -> Path:
    """A `bwrap` that fails as it does in an unprivileged container (no namespaces)."""
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    return folder
