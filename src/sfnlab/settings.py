"""The kit's settings: every variable it reads, read here once, from the environment.

`VARIABLES` lists each with its meaning and default; `load_settings()` reads them into a
`Settings`; `resolved()` says, for `sfnlab settings`, what each came to and from where.
Below the command line and the notebooks' helpers, functions are handed a `Settings`:
none reads the environment itself.
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
GRADING_NETWORKS = ("auto", "isolated", "shared")


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
    my_solution: Path = PROJECT_ROOT / "my-solution"  # a learner's own work (notebook 05)
    chromium: str | None = None  # the browser tests' Chromium, when not the one on PATH
    # The account requests act in: LocalStack keeps each apart (the grader gives every
    # solution its own). Not a variable: LocalStack's default account unless replaced.
    account_id: str = "000000000000"
    grading_network: str = "auto"  # SFNLAB_GRADING_NETWORK: auto, isolated or shared
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


@dataclass(frozen=True)
class Variable:
    """An environment variable the kit reads: its meaning, and its default as shown."""

    name: str
    meaning: str
    default: str
    fallback: str = ""  # another variable read when this one is not set
    read_by: str = "sfnlab"  # what reads it, where that is not the kit's Python code


VARIABLES = (
    Variable(
        "SFNLAB_ENDPOINT", "LocalStack's endpoint", DEFAULT_ENDPOINT, fallback="AWS_ENDPOINT_URL"
    ),
    Variable("SFNLAB_INBOX_URL", "where the inbox listens", DEFAULT_INBOX_URL),
    Variable(
        "SFNLAB_LAMBDA_INBOX_URL",
        "the inbox as the Lambdas reach it",
        "what LocalStack publishes (Docker sets it), else SFNLAB_INBOX_URL",
    ),
    Variable("SFNLAB_HOME", "the kit's folder: virtualenvs, caches, state", ".sfnlab"),
    Variable(
        "SFNLAB_STATE_DIR",
        "LocalStack's and the inbox's state, logs and pid files",
        "$SFNLAB_HOME/state",
    ),
    Variable(
        "SFNLAB_PYTHON", "the Python (3.12 or 3.13) for the embedded LocalStack", "found on PATH"
    ),
    Variable("SFNLAB_STARTUP_TIMEOUT", "seconds to wait for LocalStack to become ready", "90"),
    Variable("SFNLAB_TARGET", "`aws` to deploy to real AWS (guarded)", "localstack"),
    Variable(
        "SFNLAB_GRADING_NETWORK",
        "`auto`: `sfnlab grade` gives the grading stack a network of its own where the "
        "system allows, else says so and grades on the machine's; `isolated`: a network of "
        "its own or no grading; `shared`: the machine's network",
        "auto",
    ),
    Variable(
        "AWS_DEFAULT_REGION",
        "the region of everything the kit creates",
        "us-east-1",
        fallback="AWS_REGION",
    ),
    Variable(
        "SFNLAB_PLATFORM_ROOT",
        "in a grading platform's container: the folder it lays out",
        "/autograder (Gradescope), /grade (PrairieLearn)",
    ),
    Variable(
        "SFNLAB_MY_SOLUTION",
        "the learner's own solution folder (notebook 05)",
        "my-solution",
    ),
    Variable(
        "SFNLAB_KIT_PYTHON",
        "the Python that makes the kit's own virtualenv",
        "the first of python3, python3.13 ... that runs",
        read_by="scripts/kit-env.sh",
    ),
    Variable(
        "SFNLAB_CHROMIUM",
        "the Chromium the browser tests drive",
        "chromium on PATH",
        read_by="the test suite",
    ),
)


def _value(env: Mapping[str, str], variable: Variable) -> str | None:
    return env.get(variable.name) or (env.get(variable.fallback) if variable.fallback else None)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 86_400:
        raise LearnerError(f"{name} is {text!r}; it must be a number of seconds above 0.")
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    home = Path(env.get("SFNLAB_HOME") or PROJECT_ROOT / ".sfnlab").resolve()
    state_dir = Path(env.get("SFNLAB_STATE_DIR") or home / "state").resolve()
    endpoint = _value(env, VARIABLES[0]) or DEFAULT_ENDPOINT
    inbox_url = (env.get("SFNLAB_INBOX_URL") or DEFAULT_INBOX_URL).rstrip("/")
    target = (env.get("SFNLAB_TARGET") or "localstack").lower()
    if target not in ("localstack", "aws"):
        raise LearnerError(f"SFNLAB_TARGET is {target!r}; it can be `localstack` or `aws`.")
    grading_network = (env.get("SFNLAB_GRADING_NETWORK") or "").strip().lower() or "auto"
    if grading_network not in GRADING_NETWORKS:
        raise LearnerError(
            f"SFNLAB_GRADING_NETWORK is {grading_network!r}; it can be `auto`, `isolated` "
            "or `shared`."
        )
    return Settings(
        endpoint=endpoint.rstrip("/"),
        home=home,
        state_dir=state_dir,
        region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
        python=env.get("SFNLAB_PYTHON") or None,
        startup_timeout=_number(env, "SFNLAB_STARTUP_TIMEOUT", 90.0),
        inbox_url=inbox_url,
        lambda_inbox_url=(env.get("SFNLAB_LAMBDA_INBOX_URL") or inbox_url).rstrip("/"),
        lambda_inbox_url_given=bool(env.get("SFNLAB_LAMBDA_INBOX_URL")),
        target=target,
        my_solution=Path(env.get("SFNLAB_MY_SOLUTION") or PROJECT_ROOT / "my-solution"),
        chromium=env.get("SFNLAB_CHROMIUM") or None,
        grading_network=grading_network,
        platform_root=Path(env["SFNLAB_PLATFORM_ROOT"])
        if env.get("SFNLAB_PLATFORM_ROOT")
        else None,
    )


def resolved(environ: Mapping[str, str] | None = None) -> list[tuple[str, str, str]]:
    """Each variable as `sfnlab settings` shows it: name, value in effect, where it came from."""
    env = os.environ if environ is None else environ
    settings = load_settings(env)
    values = {
        "SFNLAB_ENDPOINT": settings.endpoint,
        "SFNLAB_INBOX_URL": settings.inbox_url,
        "SFNLAB_LAMBDA_INBOX_URL": settings.lambda_inbox_url
        if settings.lambda_inbox_url_given
        else "",
        "SFNLAB_HOME": str(settings.home),
        "SFNLAB_STATE_DIR": str(settings.state_dir),
        "SFNLAB_PYTHON": settings.python or "",
        "SFNLAB_STARTUP_TIMEOUT": f"{settings.startup_timeout:g}",
        "SFNLAB_TARGET": settings.target,
        "SFNLAB_GRADING_NETWORK": settings.grading_network,
        "AWS_DEFAULT_REGION": settings.region,
        "SFNLAB_PLATFORM_ROOT": str(settings.platform_root or ""),
        "SFNLAB_MY_SOLUTION": str(settings.my_solution),
        "SFNLAB_CHROMIUM": settings.chromium or "",
    }
    rows = []
    for variable in VARIABLES:
        if env.get(variable.name):
            source = "environment"
        elif variable.fallback and env.get(variable.fallback):
            source = f"from {variable.fallback}"
        else:
            source = "default"
        value = values.get(variable.name, env.get(variable.name, ""))
        if variable.read_by != "sfnlab":
            source += f"; read by {variable.read_by}"
        rows.append((variable.name, value or f"({variable.default})", source))
    return rows
