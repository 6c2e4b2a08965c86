"""A state folder the kit cannot write to: `sfnlab up` names it and starts nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from sfnlab.testing.settings import settings_for

# root writes anywhere: without its override of file permissions, as a learner is.
AS_A_LEARNER = (
    ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
     "--inh-caps", "-dac_override,-dac_read_search", "--"]
    if os.geteuid() == 0
    else []
)  # fmt: skip


def localstacks_in(state_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if "localstack.runtime.main" in " ".join(process.info["cmdline"] or []):
            try:
                if Path(process.cwd()) == state_dir:
                    found.append(process)
            except psutil.Error:
                pass
    return found


@pytest.mark.skipif(
    bool(AS_A_LEARNER) and shutil.which("setpriv") is None, reason="root, and no setpriv"
)
@pytest.mark.parametrize("lock_exists", [False, True], ids=["fresh", "used-before"])
def test_up_names_a_read_only_state_folder_and_starts_nothing(
    tmp_path, lambda_interpreter, lock_exists
):
    settings = settings_for(tmp_path / "state")
    settings.state_dir.mkdir()
    if lock_exists:  # an earlier `sfnlab up` made it
        (settings.state_dir / "lifecycle.lock").touch()
    settings.state_dir.chmod(0o555)
    try:
        result = subprocess.run(
            [*AS_A_LEARNER, sys.executable, "-m", "sfnlab", "up"],
            env={
                **os.environ,
                "SFNLAB_ENDPOINT": settings.endpoint,
                "SFNLAB_INBOX_URL": settings.inbox_url,
                "SFNLAB_STATE_DIR": str(settings.state_dir),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        running = localstacks_in(settings.state_dir)
        for process in running:
            process.kill()
    finally:
        settings.state_dir.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"The kit cannot write in {settings.state_dir} (Permission denied" in result.stderr
    assert f"chmod u+w {settings.state_dir}" in result.stderr
    assert "SFNLAB_STATE_DIR" in result.stderr
    assert running == []
