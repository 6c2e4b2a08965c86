"""Find local Python interpreters by version, trusting only ones that really run.

A name on PATH is not proof: pyenv puts a `python3.13` shim there that fails unless pyenv
has selected that version, and a symlink may point at another version. So candidates
are gathered from the usual install locations and each is run once to ask its version.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

NAME_PATTERN = re.compile(r"^python(3\.\d+)$")
PROBE = "import sys; print(*sys.version_info[:2], sep='.')"

Version = tuple[int, int]


@dataclass(frozen=True)
class Interpreter:
    """An executable that runs functions: a Python, or a Node.js (`node_finder.py`)."""

    path: str
    version: Version
    language: str = "python"
    # Command-line options the runtime is started with (Node.js: per runtime, see
    # node_finder.py); processes started ahead of need are kept per interpreter and options.
    options: tuple[str, ...] = ()

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


_probe_cache: dict[str, Version | None] = {}
_probe_lock = threading.Lock()


def parse_version(text: str) -> Version:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def probe(path: str) -> Version | None:
    """The version `path` reports when run, or None if it does not run."""
    with _probe_lock:
        if path in _probe_cache:
            return _probe_cache[path]
    try:
        result = subprocess.run(
            [path, "-I", "-S", "-c", PROBE],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
        version = parse_version(result.stdout.strip()) if result.returncode == 0 else None
    except (OSError, ValueError, subprocess.SubprocessError):
        version = None
    with _probe_lock:
        _probe_cache[path] = version
    return version


def search_directories() -> Iterator[str]:
    """Directories that commonly hold `python3.N` executables, most specific first."""
    yield from os.environ.get("PATH", "").split(os.pathsep)
    home = Path.home()
    pyenv_root = os.environ.get("PYENV_ROOT") or str(home / ".pyenv")
    uv_root = os.environ.get("UV_PYTHON_INSTALL_DIR") or str(home / ".local/share/uv/python")
    for pattern in (
        f"{pyenv_root}/versions/*/bin",
        f"{uv_root}/*/bin",
        f"{home}/.asdf/installs/python/*/bin",
        "/opt/hostedtoolcache/Python/*/*/bin",
    ):
        # Newest patch release first.
        yield from sorted(glob.glob(pattern), reverse=True)
    yield from ("/usr/local/bin", "/usr/bin", "/opt/homebrew/bin", "/opt/local/bin")
    yield os.path.dirname(getattr(sys, "_base_executable", sys.executable))


def candidates(
    extra: Iterable[str] = (), directories: Iterable[str] | None = None
) -> list[tuple[str, Version]]:
    """(path, version its name claims) for every `python3.N` found, in search order.

    `extra` paths come first; `directories` replaces the usual search locations.
    """
    found: list[tuple[str, Version]] = []
    seen: set[str] = set()
    for path in extra:
        if path and path not in seen:
            seen.add(path)
            version = probe(path)
            if version:
                found.append((path, version))
    for directory in search_directories() if directories is None else directories:
        if not directory or not os.path.isdir(directory):
            continue
        for entry in sorted(os.listdir(directory)):
            match = NAME_PATTERN.match(entry)
            path = os.path.join(directory, entry)
            if match and path not in seen and os.access(path, os.X_OK):
                seen.add(path)
                found.append((path, parse_version(match.group(1))))
    return found


def find_first(
    versions: Sequence[Version],
    extra: Iterable[str] = (),
    directories: Iterable[str] | None = None,
) -> Interpreter | None:
    """The first of `versions`, in the order given, that has a working interpreter."""
    found = candidates(extra, directories)
    for wanted in versions:
        for path, claimed in found:
            if claimed == wanted and probe(path) == wanted:
                return Interpreter(path, wanted)
    return None


def this_or_newer(version: Version, newest_minor: int = 30) -> list[Version]:
    """`version`, then each later 3.x in ascending order: the nearest newer one wins."""
    return [version] + [(3, minor) for minor in range(version[1] + 1, newest_minor + 1)]
