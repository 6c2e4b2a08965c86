"""The AWS SDK a function sees, as on AWS: boto3 and its dependencies, nothing more.

LocalStack's own environment already has boto3; rather than installing it again, a
folder of links to just those packages goes on the function's `sys.path`. Its byte code
is compiled once for each Python that runs functions: a function's sandbox cannot write
`__pycache__`, and a Python other than LocalStack's own would otherwise compile the SDK
from source at every cold start that imports boto3.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import threading
from pathlib import Path

from localstack_process_executor import config
from localstack_process_executor.interpreters import Interpreter

LOG = logging.getLogger(__name__)
_lock = threading.Lock()


def package_location(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin)
    # A package links its folder; a single-module distribution (six) links its file.
    return origin.parent if origin.name == "__init__.py" else origin


def ensure_aws_sdk_folder(folder: Path) -> Path:
    """Create (once) `folder` holding links to the AWS SDK packages, and return it."""
    with _lock:
        if folder.is_dir():
            return folder
        staging = folder.with_name(folder.name + f".{os.getpid()}.tmp")
        staging.mkdir(parents=True, exist_ok=True)
        for name in config.AWS_SDK_PACKAGES:
            location = package_location(name)
            if location is None:
                LOG.warning("Package %s is not installed; functions will not see it", name)
                continue
            link = staging / location.name
            if not link.exists():
                link.symlink_to(location, target_is_directory=location.is_dir())
        staging.rename(folder)
        return folder


def compile_aws_sdk(folder: Path, interpreter: Interpreter) -> None:
    """Byte-compile the SDK in `folder` for `interpreter`'s version, once per folder.

    The `.pyc` files land beside the packages' sources (LocalStack's environment, which
    this process may write); files already compiled are skipped. A failure only costs
    speed, so it is logged and the folder still serves.
    """
    marker = folder / f".compiled-{interpreter.version_text}"
    with _lock:  # held while compiling: a fraction of a second, once per Python
        if marker.exists():
            return
        packages = [str(entry) for entry in sorted(folder.iterdir()) if entry.is_symlink()]
        try:
            done = subprocess.run(
                [interpreter.path, "-m", "compileall", "-q", *packages],
                capture_output=True,
                text=True,
                timeout=120,
            )
        except (OSError, subprocess.SubprocessError) as error:
            LOG.warning("Could not compile the AWS SDK for %s: %s", interpreter.path, error)
        else:
            if done.returncode != 0:
                LOG.warning(
                    "Compiling the AWS SDK for %s failed (functions import it from source): %s",
                    interpreter.path,
                    done.stdout[-500:] + done.stderr[-500:],
                )
        marker.touch()  # tried: not again at every cold start
