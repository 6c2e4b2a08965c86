"""The Docker path, checked without Docker: schema, pinned images, loopback ports, and
no drift between the compose file and the code that relies on it."""

from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from sfnlab.deploy.resources import LAMBDA_INBOX_PARAMETER
from sfnlab.inbox.service import inbox_address
from sfnlab.settings import DEFAULT_ENDPOINT, DEFAULT_INBOX_URL, PROJECT_ROOT, load_settings
from sfnlab.support.network import free_port
from sfnlab.testing.waiting import wait_for

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
READY_SCRIPT = PROJECT_ROOT / "docker" / "localstack" / "ready.d" / "sfnlab-inbox.sh"


@pytest.fixture(scope="module")
def compose() -> dict:
    return YAML(typ="safe").load(COMPOSE_FILE.read_text())


def published(service: dict) -> list[tuple[str, int, int]]:
    """(host address, host port, container port) of each published port."""
    found = []
    for port in service.get("ports", []):
        parts = str(port).split(":")
        host = parts[0] if len(parts) == 3 else ""
        found.append((host, int(parts[-2]), int(parts[-1])))
    return found


def test_compose_file_follows_the_compose_specification():
    # check-jsonschema carries the Compose Specification's schema: nothing is fetched.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_image_is_pinned(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        assert ":" in image, f"{name}: {image} has no tag"
        tag = image.rsplit(":", 1)[1]
        assert tag != "latest" and re.match(r"\d+\.\d+", tag), f"{name}: {image} is not pinned"
    assert compose["services"]["localstack"]["image"] == "localstack/localstack:4.14.0"


def test_every_published_port_binds_loopback_only(compose):
    for name, service in compose["services"].items():
        for host, _, _ in published(service):
            assert host == "127.0.0.1", f"{name} publishes on {host or 'every address'}"


def test_ports_match_what_the_kit_expects(compose):
    services = compose["services"]
    assert (
        "127.0.0.1",
        urlsplit(DEFAULT_ENDPOINT).port,
        4566,
    ) in published(services["localstack"])
    inbox_port = int(
        next(a for a in services["inbox"]["command"] if a.startswith("--port=")).split("=")[1]
    )
    assert ("127.0.0.1", urlsplit(DEFAULT_INBOX_URL).port, inbox_port) in published(
        services["inbox"]
    )
    assert inbox_address(load_settings({}))[1] == inbox_port


def test_lambdas_reach_the_inbox_through_the_compose_network(compose):
    localstack = compose["services"]["localstack"]
    network = compose["networks"]["sfnlab"]["name"]
    assert localstack["environment"]["LAMBDA_DOCKER_NETWORK"] == network
    assert all(network in service["networks"] for service in compose["services"].values())
    mount = next(v for v in localstack["volumes"] if v.endswith("/etc/localstack/init/ready.d:ro"))
    assert (PROJECT_ROOT / mount.split(":")[0]).resolve() == READY_SCRIPT.parent
    script = READY_SCRIPT.read_text()
    assert f"--name {LAMBDA_INBOX_PARAMETER}" in script
    assert "--value http://inbox:4567" in script
    assert "/var/run/docker.sock:/var/run/docker.sock" in localstack["volumes"]
    assert "LOCALSTACK_AUTH_TOKEN" in localstack["environment"]


def test_jupyter_talks_to_the_services_by_name(compose):
    jupyter = compose["services"]["jupyter"]
    environment = jupyter["environment"]
    assert environment["SFNLAB_ENDPOINT"] == "http://localstack:4566"
    assert environment["SFNLAB_INBOX_URL"] == "http://inbox:4567"
    # Every SFNLAB_ variable the compose file sets is one the kit reads.
    config = (PROJECT_ROOT / "src" / "sfnlab" / "settings.py").read_text()
    for name in environment:
        if name.startswith("SFNLAB_"):
            assert f'"{name}"' in config, name
    kit_env = (PROJECT_ROOT / "scripts" / "kit-env.sh").read_text()
    uv_version = re.search(r'UV_VERSION="([^"]+)"', kit_env).group(1)
    command = " ".join(jupyter["command"])
    assert f"uv=={uv_version}" in command and "sfnlab notebook --ip=0.0.0.0" in command
    assert ("127.0.0.1", 8888, 8888) in published(jupyter)


def test_the_inbox_service_runs_on_the_standard_library_alone(compose, tmp_path):
    command = compose["services"]["inbox"]["command"]
    assert command[:3] == ["python", "-m", "sfnlab.inbox"]
    port = free_port()
    arguments = [a for a in command[3:] if not a.startswith(("--port", "--database", "--host"))]
    # -S: no site-packages, as in a plain python image with only ./src mounted.
    server = subprocess.Popen(
        [
            sys.executable,
            "-S",
            "-m",
            "sfnlab.inbox",
            *arguments,
            "--host=127.0.0.1",
            f"--port={port}",
            f"--database={tmp_path / 'inbox.sqlite3'}",
        ],
        env={"PYTHONPATH": str(PROJECT_ROOT / "src")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        import urllib.request

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1):
                    return True
            except OSError:
                return server.poll() is not None

        assert wait_for(healthy, timeout=10)
        assert server.poll() is None, server.stdout.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=5)
