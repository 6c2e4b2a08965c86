"""The AWS SDK for JavaScript v3, given to Node.js functions as AWS's Node.js runtimes do.

The clients and their versions are pinned by `nodejs/aws-sdk/package.json` and its
`package-lock.json`. The first Node.js function installs them from the npm registry with
`npm ci` (as the first start installs LocalStack's own virtualenv), into a folder named
for the lock file's digest below PROCESS_EXECUTOR_NODE_SDK_DIR: a changed lock installs
afresh, and several LocalStacks sharing the folder install it once (a file lock).

Functions find it as on AWS: `require()` and `import` of `@aws-sdk/...` resolve to it after
the function's own `node_modules` (see `nodejs/module_paths.js`), and `AWS_ENDPOINT_URL`
and the credentials LocalStack sets point it at LocalStack, as boto3 is.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import threading
from pathlib import Path

from localstack_process_executor.interpreters import Interpreter

LOG = logging.getLogger(__name__)

MANIFEST = Path(__file__).resolve().parent / "nodejs" / "aws-sdk"
MANIFEST_FILES = ("package.json", "package-lock.json")
INSTALLED_MARK = ".installed"
NPM_SECONDS = 300
_lock = threading.Lock()


class SdkInstallError(Exception):
    """The SDK could not be installed: the message says why and what to do."""


def lock_digest() -> str:
    return hashlib.sha256((MANIFEST / "package-lock.json").read_bytes()).hexdigest()[:16]


def npm_for(node: Interpreter) -> str | None:
    """npm beside `node` (a Node.js installation's own), else the first on PATH."""
    beside = Path(node.path).with_name("npm")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("npm")


def installed_folder(base: Path) -> Path:
    """The folder whose `node_modules` holds the SDK of the current lock."""
    return base / lock_digest()


def is_installed(base: Path) -> bool:
    return (installed_folder(base) / INSTALLED_MARK).is_file()


def ensure_nodejs_sdk(base: Path, node: Interpreter) -> Path:
    """The `node_modules` folder holding the SDK, installed first if need be."""
    target = installed_folder(base)
    if is_installed(base):
        return target / "node_modules"
    base.mkdir(parents=True, exist_ok=True)
    with _lock, open(base / ".lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # another LocalStack may be installing it
        if not is_installed(base):
            install(target, node)
    return target / "node_modules"


def install(target: Path, node: Interpreter) -> None:
    npm = npm_for(node)
    if npm is None:
        raise SdkInstallError(
            "The AWS SDK for JavaScript is installed with npm on first use, and no `npm` was "
            f"found beside {node.path} or on PATH. Install npm (it comes with Node.js from "
            "https://nodejs.org), then create the function again."
        )
    staging = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in MANIFEST_FILES:
        shutil.copyfile(MANIFEST / name, staging / name)
    command = [npm, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"]
    # npm is itself a Node.js program: it runs on the Node.js it belongs to.
    environment = {
        **os.environ,
        "PATH": os.pathsep.join([os.path.dirname(node.path), os.environ.get("PATH", "")]),
    }
    LOG.info("Installing the AWS SDK for JavaScript into %s (first use)", target)
    try:
        result = subprocess.run(
            command,
            cwd=staging,
            env=environment,
            capture_output=True,
            text=True,
            timeout=NPM_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise SdkInstallError(f"Installing the AWS SDK for JavaScript failed: {e}") from None
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        last_lines = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise SdkInstallError(
            "Installing the AWS SDK for JavaScript from the npm registry failed "
            f"(`npm ci` exited with {result.returncode}):\n{last_lines}\n"
            "Check that the npm registry is reachable, then create the function again."
        )
    (staging / INSTALLED_MARK).write_text("")
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(target)  # a half-made folder of an install that was killed
    staging.rename(target)
