"""A Node.js function's code, laid out so that Node.js resolves its modules as on AWS.

On AWS the code is in /var/task, and nothing above it holds a package.json or a
node_modules folder; the runtime's AWS SDK is found after the function's own modules.
Node.js looks upwards from a module for both: the nearest package.json decides whether a
`.js` file is an ES module, and every node_modules folder above is searched for a package.
LocalStack keeps a function's code in its own folders, whose parents may hold anything
(a learner's project with its own package.json and node_modules). So each version's code
is linked (hard links: no copy of the data) into a folder of the executor's own:

    <version>/package.json   {} : the scope Node.js stops at (no "type": as on AWS)
    <version>/node_modules   -> the AWS SDK for JavaScript (nodejs_sdk.py)
    <version>/task/          the function's code: LAMBDA_TASK_ROOT

`require()` is further kept from looking above <version> (`nodejs/module_paths.js`); an ES
module `import` of a package neither the function nor the SDK has may still find one in
a node_modules folder above the executor's folder (the READMEs list it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
from pathlib import Path

TASK = "task"
SCOPE_MANIFEST = "package.json"
_lock = threading.Lock()


def version_folder(root: Path, version: str, code_dir: Path) -> Path:
    """The folder of one version's code (`version`: the executor's key for it)."""
    key = hashlib.sha256(f"{version}\0{code_dir}".encode()).hexdigest()[:24]
    return root / key


def link_tree(source: Path, target: Path) -> None:
    """`source`'s files hard-linked (copied across file systems) into a new `target`."""

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link_or_copy)


def stage(root: Path, version: str, code_dir: Path, sdk_modules: Path) -> Path:
    """The task root of a version's code, laid out as above (once per version)."""
    folder = version_folder(root, version, code_dir)
    with _lock:
        if (folder / TASK).is_dir():
            return folder / TASK
        staging = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        (staging / SCOPE_MANIFEST).write_text("{}\n")
        (staging / "node_modules").symlink_to(sdk_modules, target_is_directory=True)
        link_tree(code_dir, staging / TASK)
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(folder)
        staging.rename(folder)
    return folder / TASK


def task_root(root: Path, version: str, code_dir: Path) -> Path | None:
    """The staged task root of a version, if it is there."""
    task = version_folder(root, version, code_dir) / TASK
    return task if task.is_dir() else None


def remove(root: Path, version: str, code_dir: Path) -> None:
    shutil.rmtree(version_folder(root, version, code_dir), ignore_errors=True)
