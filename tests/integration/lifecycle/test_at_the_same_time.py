"""Two `sfnlab up` (or `down`) of one state folder at once: one LocalStack, one inbox, and
`sfnlab down` stops both; nothing runs on unrecorded. Two first uses of the kit's folder
at once install the embedded LocalStack's runtime once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from sfnlab.lab import lifecycle
from sfnlab.localstack.install import STAMP_NAME
from sfnlab.settings import load_settings
from sfnlab.testing.settings import settings_for


def kit_env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "SFNLAB_ENDPOINT": settings.endpoint,
        "SFNLAB_INBOX_URL": settings.inbox_url,
        "SFNLAB_STATE_DIR": str(settings.state_dir),
    }


def sfnlab(settings, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sfnlab", *args],
        env=kit_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def services_of(state_dir: Path) -> list[psutil.Process]:
    """LocalStacks and inboxes started for `state_dir` (both run in it)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if "localstack.runtime.main" in command or "sfnlab.inbox" in command:
            try:
                if Path(process.cwd()) == state_dir and process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process)
            except psutil.Error:
                pass
    return found


@pytest.fixture
def own_localstack(tmp_path: Path, lambda_interpreter):
    settings = settings_for(tmp_path / "state")
    yield settings
    lifecycle.down(settings)
    for leftover in services_of(settings.state_dir):  # what a failed test left running
        leftover.kill()


def test_three_ups_at_once_start_one_localstack_and_one_inbox(own_localstack):
    ups = [sfnlab(own_localstack, "up") for _ in range(3)]
    results = [(up.wait(timeout=180), *up.communicate()) for up in ups]
    for code, out, err in results:
        assert code == 0, err
        assert "Traceback" not in err
        assert "is running at" in out
    assert sum("Waiting for another `sfnlab up` or `down`" in err for _, _, err in results) >= 1
    running = services_of(own_localstack.state_dir)
    assert len(running) == 2, [p.cmdline() for p in running]  # one LocalStack, one inbox
    pids = {int(out.split("pid ")[1].split(")")[0]) for _, out, _ in results}
    assert len(pids) == 1  # every `up` reports the same LocalStack

    downs = [sfnlab(own_localstack, "down") for _ in range(2)]
    for down in downs:
        assert down.wait(timeout=60) == 0
        assert "Traceback" not in down.communicate()[1]
    assert services_of(own_localstack.state_dir) == []
    assert not lifecycle.status(own_localstack).running


INSTALL = (
    "from sfnlab.localstack.install import ensure_runtime_env; "
    "from sfnlab.settings import load_settings; "
    "print(ensure_runtime_env(load_settings()))"
)


def test_two_first_uses_at_once_install_the_runtime_once_and_both_get_it(tmp_path):
    home = tmp_path / "kit-folder"  # a fresh clone's: no runtime yet
    environment = {
        **os.environ,
        "SFNLAB_HOME": str(home),
        # The kit's download cache, as a second clone on this machine would share it.
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR") or str(load_settings().uv_cache),
    }
    installs = [
        subprocess.Popen(
            [sys.executable, "-c", INSTALL],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(run.wait(timeout=150), *run.communicate()) for run in installs]
    for code, _, err in results:
        assert code == 0, err
    installed = [err for _, _, err in results if "Installed the embedded LocalStack runtime" in err]
    assert len(installed) == 1, [err for _, _, err in results]
    pythons = {out.strip() for _, out, _ in results}
    assert pythons == {str(home / "localstack-venv" / "bin" / "python")}
    assert (home / "localstack-venv" / STAMP_NAME).is_file()
    check = subprocess.run(
        [pythons.pop(), "-c", "import localstack, localstack_process_executor"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
