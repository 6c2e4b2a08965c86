"""The kit's settings, read once from the environment.

SFNLAB_ENDPOINT          LocalStack's endpoint (else AWS_ENDPOINT_URL);
                         default http://127.0.0.1:4566
SFNLAB_HOME              the kit's folder: virtualenvs, caches, state; default .sfnlab
SFNLAB_STATE_DIR         the embedded LocalStack's and the inbox's state, logs, pid files;
                         default $SFNLAB_HOME/state
SFNLAB_PYTHON            the Python (3.12 or 3.13) for the embedded LocalStack
SFNLAB_STARTUP_TIMEOUT   seconds to wait for LocalStack to become ready; default 90
SFNLAB_INBOX_URL         where the inbox listens; default http://127.0.0.1:4567
SFNLAB_LAMBDA_INBOX_URL  the inbox as Lambdas reach it; default: what LocalStack's
                         /sfnlab/lambda-inbox-url parameter says (Docker sets it),
                         else SFNLAB_INBOX_URL
SFNLAB_TARGET            `aws` to deploy to real AWS (guarded); default `localstack`
SFNLAB_PLATFORM_ROOT     in a grading platform's container: the folder it lays out
                         (Gradescope's /autograder, PrairieLearn's /grade); default that
AWS_DEFAULT_REGION       region of everything the kit creates; default us-east-1
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sfnlab.errors import LearnerError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
DEFAULT_INBOX_URL = "http://127.0.0.1:4567"
DEFAULT_GRADING_JOBS = 4  # solutions `sfnlab grade` grades at once


@dataclass(frozen=True)
class Settings:
    endpoint: str
    home: Path
    state_dir: Path
    region: str = "us-east-1"
    python: str | None = None
    startup_timeout: float = 90.0
    inbox_url: str = DEFAULT_INBOX_URL
    lambda_inbox_url: str = DEFAULT_INBOX_URL
    lambda_inbox_url_given: bool = False  # SFNLAB_LAMBDA_INBOX_URL set, rather than derived
    target: str = "localstack"
    # LocalStack keeps each account apart; the grader gives every solution its own.
    account_id: str = "000000000000"
    platform_root: Path | None = None  # a grading platform's folder (None: its own default)

    @property
    def on_aws(self) -> bool:
        return self.target == "aws"

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.endpoint)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def runtime_venv(self) -> Path:
        """The embedded LocalStack's own virtualenv (shared by every state folder)."""
        return self.home / "localstack-venv"

    @property
    def uv_cache(self) -> Path:
        return self.home / "cache" / "uv"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "localstack.log"

    @property
    def install_log(self) -> Path:
        return self.home / "localstack-venv-install.log"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "localstack.json"

    @property
    def inbox_database(self) -> Path:
        return self.state_dir / "inbox.sqlite3"

    @property
    def inbox_log(self) -> Path:
        return self.state_dir / "inbox.log"

    @property
    def inbox_pid_file(self) -> Path:
        return self.state_dir / "inbox.json"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    home = Path(env.get("SFNLAB_HOME") or PROJECT_ROOT / ".sfnlab").resolve()
    state_dir = Path(env.get("SFNLAB_STATE_DIR") or home / "state").resolve()
    endpoint = env.get("SFNLAB_ENDPOINT") or env.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT
    inbox_url = (env.get("SFNLAB_INBOX_URL") or DEFAULT_INBOX_URL).rstrip("/")
    target = (env.get("SFNLAB_TARGET") or "localstack").lower()
    if target not in ("localstack", "aws"):
        raise LearnerError(f"SFNLAB_TARGET is {target!r}; it can be `localstack` or `aws`.")
    return Settings(
        endpoint=endpoint.rstrip("/"),
        home=home,
        state_dir=state_dir,
        region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
        python=env.get("SFNLAB_PYTHON") or None,
        startup_timeout=float(env.get("SFNLAB_STARTUP_TIMEOUT") or 90),
        inbox_url=inbox_url,
        lambda_inbox_url=(env.get("SFNLAB_LAMBDA_INBOX_URL") or inbox_url).rstrip("/"),
        lambda_inbox_url_given=bool(env.get("SFNLAB_LAMBDA_INBOX_URL")),
        target=target,
        platform_root=Path(env["SFNLAB_PLATFORM_ROOT"])
        if env.get("SFNLAB_PLATFORM_ROOT")
        else None,
    )
