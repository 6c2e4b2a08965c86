"""The executor's settings, read once from the environment of the LocalStack process."""

from __future__ import annotations

import os

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

# The PATH a function's process sees; its interpreter's directory is put in front.
PROCESS_EXECUTOR_PATH = os.environ.get(
    "PROCESS_EXECUTOR_PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

# How many loaded processes to keep ready per interpreter for the next cold starts
# (0: none, each cold start then starts its process on demand).
PROCESS_EXECUTOR_SPARES = max(0, int(os.environ.get("PROCESS_EXECUTOR_SPARES") or 1))

# "bwrap": every runtime process runs inside bubblewrap (see sandbox.py); for code nobody
# has reviewed, such as the solutions a grader runs. Empty: plain processes.
PROCESS_EXECUTOR_SANDBOX = os.environ.get("PROCESS_EXECUTOR_SANDBOX", "").strip().lower()

# The packages AWS's Python runtimes provide besides the standard library: the AWS SDK
# and what it needs. Nothing else the LocalStack environment has installed is visible.
AWS_SDK_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
