"""The AWS SDK a function sees, as on AWS: boto3 and its dependencies, nothing more.

LocalStack's own environment already has boto3; rather than installing it again, a
folder of links to just those packages goes on the function's `sys.path`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from pathlib import Path

from localstack_process_executor import config

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
