"""Scripts run on the embedded LocalStack's own Python: LocalStack and the patches
importable, nothing started."""

from __future__ import annotations

import json
import subprocess
import textwrap
from typing import Any

from sfnlab.localstack.install import ensure_runtime_env
from sfnlab.settings import load_settings


def in_localstack(script: str, timeout: float = 120) -> Any:
    """Run `script` there; what it prints last, read as JSON."""
    python = ensure_runtime_env(load_settings())
    result = subprocess.run(
        [str(python), "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
