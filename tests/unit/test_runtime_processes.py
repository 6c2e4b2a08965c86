"""The Lambda processes counted as a LocalStack's are those under its own state folder."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

from sfnlab.localstack.embedded import RUNTIME_LOG_VARIABLE, runtime_processes
from sfnlab.settings import load_settings


def test_a_state_folder_does_not_claim_its_namesakes_processes(tmp_path):
    settings = load_settings()
    mine, namesake = tmp_path / "state1", tmp_path / "state10"
    sleepers = {
        folder: subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)"],
            env={RUNTIME_LOG_VARIABLE: str(folder / "lambda" / "env-1.log")},
        )
        for folder in (mine, namesake)
    }
    try:
        found = {p.pid for p in runtime_processes(replace(settings, state_dir=mine))}
        assert sleepers[mine].pid in found
        assert sleepers[namesake].pid not in found
    finally:
        for sleeper in sleepers.values():
            sleeper.kill()
            sleeper.wait()
