"""Where bubblewrap cannot build its namespaces (an unprivileged container), the container
is the sandbox, and as root each Lambda still runs as a user of its own: the hostile
submission can neither signal LocalStack nor write the results.

The container is made here from this machine: a private mount namespace in which
bubblewrap fails as it does in a container, and the Pythons (in root's home folder here,
which other users cannot enter) are where every user can read them, as a grading image
has them (`sfnlab.testing.containers`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.containers import as_in_a_container
from tests.integration.platforms.conftest import container_folder, failing_bwrap, fill_submission

pytestmark = pytest.mark.localstack
SCHEMA = json.loads((PROJECT_ROOT / "schemas" / "gradescope-results.schema.json").read_text())


@pytest.fixture
def container_root() -> Path:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("setpriv") is None:
        pytest.skip("needs root, unshare and setpriv to make a container here")
    root = container_folder("sfnlab-container-")
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_each_lambda_runs_as_a_user_of_its_own_when_bubblewrap_cannot_run(container_root):
    results = container_root / "results" / "results.json"
    fill_submission("hostile", container_root / "submission", results)
    results.parent.mkdir(mode=0o755)  # as run_autograder makes it, before grading
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFNLAB_", "VIRTUAL_ENV"))}
    env["SFNLAB_PLATFORM_ROOT"] = str(container_root)
    env["PATH"] = f"{failing_bwrap(container_root / 'bin')}{os.pathsep}{env['PATH']}"
    sfnlab = PROJECT_ROOT / ".sfnlab" / "venv" / "bin" / "sfnlab"
    # The kit's Python and LocalStack's, where every user can run them, as an image has them.
    pythons = [
        sfnlab.parent / "python",
        PROJECT_ROOT / ".sfnlab" / "localstack-venv" / "bin" / "python",
    ]
    in_container = as_in_a_container(container_root / "scratch", pythons)
    done = subprocess.run(
        [*in_container, str(sfnlab), "autograder", "run", "gradescope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    if "mount:" in done.stderr and "permission denied" in done.stderr.lower():
        pytest.skip(f"this machine cannot make the container: {done.stderr.strip()}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "each Lambda runs as a user of its own there" in done.stdout, done.stdout
    graded = json.loads(results.read_text())
    jsonschema.validate(graded, SCHEMA)
    assert graded["output"] != "hacked" and graded["extra_data"]["sfnlab"]["graded"]
    told = "Your solution's code stopped the grading LocalStack" in graded["output"]
    # Only /_localstack/health can stop it (no signal reaches it from another user), and
    # only while LocalStack still obeys it; otherwise the solution is graded as it stands.
    assert "was killed (signal" not in graded["output"]
    assert graded["score"] == (10.0 if told else 100.0), graded["output"]
