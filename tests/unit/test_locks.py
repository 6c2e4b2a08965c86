"""Every environment installs from a committed lock, and the locks agree with each other."""

from __future__ import annotations

import re

from sfnlab.settings import PROJECT_ROOT

LOCALSTACK_LOCK = PROJECT_ROOT / "requirements" / "localstack-runtime.txt"


def pins(path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_localstack_runtime_is_pinned_to_4_14_with_its_known_good_dependencies():
    locked = pins(LOCALSTACK_LOCK)
    assert locked["localstack-core"] == "4.14.0"
    # Newer releases of these break LocalStack 4.14 at start-up.
    assert locked["cbor2"] == "5.8.0"
    assert locked["pyopenssl"] == "25.3.0"
    assert "plux" in locked and "boto3" in locked


def test_every_localstack_runtime_requirement_is_pinned_exactly():
    lines = [
        line
        for line in LOCALSTACK_LOCK.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and all("==" in line for line in lines)


def test_bootstrap_uv_is_the_locked_uv():
    lock = (PROJECT_ROOT / "uv.lock").read_text()
    locked_uv = re.search(r'\nname = "uv"\nversion = "([^"]+)"', lock).group(1)
    script = (PROJECT_ROOT / "scripts" / "kit-env.sh").read_text()
    assert f'UV_VERSION="{locked_uv}"' in script


def test_kit_supports_python_3_10():
    # (Read as text: tomllib is not in Python 3.10.)
    assert 'requires-python = ">=3.10"' in (PROJECT_ROOT / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.10"' in (PROJECT_ROOT / "uv.lock").read_text()
