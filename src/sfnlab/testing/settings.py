"""Settings of a LocalStack and inbox of a test's own: their own state folder and ports."""

from __future__ import annotations

import os
from pathlib import Path

from sfnlab.settings import Settings, load_settings
from sfnlab.support.network import free_port


def settings_for(
    state_dir: Path, port: int | None = None, inbox_port: int | None = None
) -> Settings:
    """Settings of a separate embedded LocalStack and inbox (free loopback ports unless
    given), as `sfnlab` would read them from this process's environment."""
    environ = dict(os.environ)
    environ["SFNLAB_STATE_DIR"] = str(state_dir)
    environ["SFNLAB_ENDPOINT"] = f"http://127.0.0.1:{port or free_port()}"
    environ["SFNLAB_INBOX_URL"] = f"http://127.0.0.1:{inbox_port or free_port()}"
    environ.pop("SFNLAB_LAMBDA_INBOX_URL", None)
    return load_settings(environ)
