"""What a Node.js function needs before it runs: the AWS SDK installed once, and its code
laid out so that Node.js resolves modules as on AWS."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from localstack_process_executor import nodejs_code, nodejs_sdk
from localstack_process_executor.interpreters import Interpreter

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"


def fake_npm(folder: Path, script: str) -> Interpreter:
    """A Node.js installation whose `npm` runs `script` (sh) in the folder it installs to."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "node").write_text("#!/bin/sh\necho v20.20.2\n")
    (folder / "npm").write_text(f"#!/bin/sh\n{script}\n")
    for name in ("node", "npm"):
        (folder / name).chmod(0o755)
    return Interpreter(str(folder / "node"), (20, 20), language="nodejs")


def test_the_sdk_is_installed_once_from_the_lock_with_npm_ci(tmp_path):
    calls = tmp_path / "calls"
    node = fake_npm(
        tmp_path / "node",
        f'echo "$@" >> {calls}\nls package-lock.json >/dev/null || exit 3\n'
        "mkdir -p node_modules/@aws-sdk/client-sfn",
    )
    base = tmp_path / "sdk"
    modules = nodejs_sdk.ensure_nodejs_sdk(base, node)
    assert modules == base / nodejs_sdk.lock_digest() / "node_modules"
    assert (modules / "@aws-sdk" / "client-sfn").is_dir()
    assert nodejs_sdk.ensure_nodejs_sdk(base, node) == modules
    assert calls.read_text().split("\n")[0].startswith("ci --omit=dev --ignore-scripts")
    assert len(calls.read_text().splitlines()) == 1  # the second call found it installed


def test_several_at_once_install_it_once(tmp_path):
    calls = tmp_path / "calls"
    node = fake_npm(tmp_path / "node", f"echo x >> {calls}\nsleep 0.3\nmkdir node_modules")
    found: list[Path] = []
    threads = [
        threading.Thread(
            target=lambda: found.append(nodejs_sdk.ensure_nodejs_sdk(tmp_path / "sdk", node))
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1 and len(found) == 4
    assert calls.read_text() == "x\n"


def test_a_failed_install_says_why_and_leaves_nothing_half_made(tmp_path):
    node = fake_npm(
        tmp_path / "node", "echo 'npm error code ENOTFOUND registry.npmjs.org' >&2\nexit 1"
    )
    base = tmp_path / "sdk"
    with pytest.raises(nodejs_sdk.SdkInstallError) as error:
        nodejs_sdk.ensure_nodejs_sdk(base, node)
    message = str(error.value)
    assert "`npm ci` exited with 1" in message and "ENOTFOUND" in message
    assert "npm registry is reachable" in message
    assert [p.name for p in base.iterdir()] == [".lock"]


def test_without_npm_the_message_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    node = Interpreter(str(tmp_path / "bin" / "node"), (20, 20), language="nodejs")
    with pytest.raises(nodejs_sdk.SdkInstallError, match="no `npm` was found"):
        nodejs_sdk.ensure_nodejs_sdk(tmp_path / "sdk", node)


def test_the_pins_are_exact_and_locked():
    manifest = json.loads((nodejs_sdk.MANIFEST / "package.json").read_text())
    lock = json.loads((nodejs_sdk.MANIFEST / "package-lock.json").read_text())
    assert "@aws-sdk/client-sfn" in manifest["dependencies"]
    for name, version in manifest["dependencies"].items():
        assert version[0].isdigit(), f"{name} is not pinned to one version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_a_versions_code_is_linked_below_a_scope_with_the_sdk(tmp_path):
    code = tmp_path / "localstack" / "code"
    (code / "lib").mkdir(parents=True)
    (code / "index.js").write_text("exports.handler = 1;")
    (code / "lib" / "util.js").write_text("x")
    (code / "link.js").symlink_to("index.js")
    sdk = tmp_path / "sdk" / "node_modules"
    sdk.mkdir(parents=True)
    task = nodejs_code.stage(tmp_path / "staged", ARN, code, sdk)
    scope = task.parent
    assert (scope / "package.json").read_text() == "{}\n"
    assert (scope / "node_modules").resolve() == sdk.resolve()
    assert (task / "index.js").read_text() == "exports.handler = 1;"
    assert os.path.samefile(task / "index.js", code / "index.js")  # a link, not a copy
    assert (task / "lib" / "util.js").is_file() and os.readlink(task / "link.js") == "index.js"
    assert nodejs_code.stage(tmp_path / "staged", ARN, code, sdk) == task
    assert nodejs_code.task_root(tmp_path / "staged", ARN, code) == task
    nodejs_code.remove(tmp_path / "staged", ARN, code)
    assert nodejs_code.task_root(tmp_path / "staged", ARN, code) is None
    assert (code / "index.js").is_file()  # LocalStack's copy is untouched


def test_each_version_has_its_own_folder(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "index.js").write_text("1")
    sdk = tmp_path / "sdk"
    sdk.mkdir()
    first = nodejs_code.stage(tmp_path / "staged", ARN, code, sdk)
    second = nodejs_code.stage(tmp_path / "staged", ARN.replace("$LATEST", "2"), code, sdk)
    assert first != second and first.parent.parent == second.parent.parent


def kit_settings(tmp_path: Path):
    from dataclasses import replace

    from sfnlab.settings import load_settings

    return replace(load_settings(), home=tmp_path / "kit-home")


def test_the_kit_installs_the_sdk_while_it_has_the_network(tmp_path, monkeypatch):
    """Grading and a grading image's build install it before the network goes: a grading
    LocalStack's first Node.js function, in a network of its own, could not."""
    from sfnlab.localstack.install import ensure_nodejs_sdk, nodejs_sdk_folder

    calls = tmp_path / "calls"
    node = fake_npm(tmp_path / "node", f"echo ci >> {calls}\nmkdir -p node_modules/@aws-sdk")
    monkeypatch.setenv("PATH", f"{Path(node.path).parent}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.delenv("PROCESS_EXECUTOR_NODES", raising=False)
    settings = kit_settings(tmp_path)
    assert ensure_nodejs_sdk(settings) is None
    assert nodejs_sdk.is_installed(nodejs_sdk_folder(settings))
    assert ensure_nodejs_sdk(settings) is None
    assert calls.read_text().split() == ["ci"]  # once


def test_without_nodejs_the_kit_installs_nothing_and_says_nothing(tmp_path, monkeypatch):
    from sfnlab.localstack.install import ensure_nodejs_sdk, nodejs_sdk_folder

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PROCESS_EXECUTOR_NODES", str(tmp_path / "no-node"))
    settings = kit_settings(tmp_path)
    assert ensure_nodejs_sdk(settings) is None
    assert not nodejs_sdk_folder(settings).exists()


def test_an_sdk_that_cannot_be_installed_is_said_and_not_raised(tmp_path, monkeypatch):
    from sfnlab.localstack.install import ensure_nodejs_sdk

    node = fake_npm(tmp_path / "node", "echo 'npm error network unreachable' >&2; exit 1")
    monkeypatch.setenv("PATH", f"{Path(node.path).parent}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.delenv("PROCESS_EXECUTOR_NODES", raising=False)
    said = ensure_nodejs_sdk(kit_settings(tmp_path))
    assert said is not None and "network unreachable" in said and "npm ci" in said
