"""The executor's settings, read once from the environment of the LocalStack process.

Numbers are checked: a value that is not a number is ignored for the default, one out of
range is clamped into it, each with a line in LocalStack's log saying so. `sfnlab up`
runs the same check before it starts LocalStack (`check_numbers`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class NumberSetting:
    name: str
    default: float
    low: float
    high: float
    integer: bool = True

    def read(self, environ: Mapping[str, str]) -> tuple[float, str | None]:
        """The value to use, and what is wrong with the one given, if anything."""
        text = (environ.get(self.name) or "").strip()
        if not text:
            return self.default, None
        try:
            value: float = int(text) if self.integer else float(text)
        except ValueError:
            kind = "a whole number" if self.integer else "a number"
            return self.default, f"{self.name}={text} is not {kind}"
        if value != value:  # NaN
            return self.default, f"{self.name}={text} is not a number"
        clamped = min(max(value, self.low), self.high)
        if clamped != value:
            return clamped, f"{self.name}={text} is outside {show(self.low)}..{show(self.high)}"
        return value, None


def show(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


# Live execution environments (each a process) at most, all functions together. Beyond
# it, idle environments are stopped to make room, and invocations wait for a turn.
MAX_ENVIRONMENTS = NumberSetting("PROCESS_EXECUTOR_MAX_ENVIRONMENTS", 16, 1, 1024)
# How long an invocation waits for a turn when MAX_ENVIRONMENTS are all busy, before it
# is throttled (TooManyRequestsException), as Lambda throttles beyond its concurrency.
QUEUE_SECONDS = NumberSetting("PROCESS_EXECUTOR_QUEUE_SECONDS", 10.0, 0, 300, integer=False)
# Loaded processes kept ready per interpreter for the next cold starts (0: none).
SPARES = NumberSetting("PROCESS_EXECUTOR_SPARES", 1, 0, 8)

NUMBER_SETTINGS = (MAX_ENVIRONMENTS, QUEUE_SECONDS, SPARES)


def check_numbers(environ: Mapping[str, str]) -> list[str]:
    """What is wrong with the numeric settings in `environ` (one sentence each)."""
    return [problem for s in NUMBER_SETTINGS if (problem := s.read(environ)[1])]


def _number(setting: NumberSetting) -> float:
    value, problem = setting.read(os.environ)
    if problem:
        LOG.warning("Process executor: %s; using %s.", problem, show(value))
    return value


# Extra interpreters to consider for `pythonX.Y` runtimes (os.pathsep-separated paths),
# tried before the ones found on PATH and in the usual install locations.
PROCESS_EXECUTOR_PYTHONS = [
    path for path in os.environ.get("PROCESS_EXECUTOR_PYTHONS", "").split(os.pathsep) if path
]

# If set (os.pathsep-separated), the only folders searched for `python3.N` executables,
# instead of PATH, pyenv, uv, asdf and the usual system folders.
PROCESS_EXECUTOR_PYTHON_DIRS = (
    [path for path in os.environ["PROCESS_EXECUTOR_PYTHON_DIRS"].split(os.pathsep) if path]
    if os.environ.get("PROCESS_EXECUTOR_PYTHON_DIRS")
    else None
)

# Node.js executables to consider for `nodejsN.x` runtimes (os.pathsep-separated paths),
# tried before `node` on PATH (see node_finder.py).
PROCESS_EXECUTOR_NODES = [
    path for path in os.environ.get("PROCESS_EXECUTOR_NODES", "").split(os.pathsep) if path
]

# Where the AWS SDK for JavaScript is installed from the npm registry on first use (see
# nodejs_sdk.py). Empty: in LocalStack's cache folder.
PROCESS_EXECUTOR_NODE_SDK_DIR = os.environ.get("PROCESS_EXECUTOR_NODE_SDK_DIR", "").strip()

# The PATH a function's process sees; its interpreter's directory is put in front.
PROCESS_EXECUTOR_PATH = os.environ.get(
    "PROCESS_EXECUTOR_PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

PROCESS_EXECUTOR_MAX_ENVIRONMENTS = int(_number(MAX_ENVIRONMENTS))
PROCESS_EXECUTOR_QUEUE_SECONDS = _number(QUEUE_SECONDS)
PROCESS_EXECUTOR_SPARES = int(_number(SPARES))

# "bwrap": every runtime process runs inside bubblewrap (see sandbox.py); for code nobody
# has reviewed, such as the solutions a grader runs. "user": a user id and limits of its
# own only, where bubblewrap cannot run (a grading platform's container). Empty: plain
# processes. Any other value is taken as "bwrap", the stricter.
PROCESS_EXECUTOR_SANDBOX = os.environ.get("PROCESS_EXECUTOR_SANDBOX", "").strip().lower()
if PROCESS_EXECUTOR_SANDBOX and PROCESS_EXECUTOR_SANDBOX != "user":
    PROCESS_EXECUTOR_SANDBOX = "bwrap"

# The packages AWS's Python runtimes provide besides the standard library: the AWS SDK
# and what it needs. Nothing else the LocalStack environment has installed is visible.
AWS_SDK_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
