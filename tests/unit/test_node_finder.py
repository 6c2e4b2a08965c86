"""Finding a Node.js for `nodejsN.x`: only one that runs and is new enough counts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from localstack_process_executor import node_finder, runtimes
from localstack_process_executor.interpreters import Interpreter
from localstack_process_executor.node_finder import NodeNotFound, find_node
from sfnlab.testing.nodejs_runtime_api import node_or_skip


def fake_node(folder: Path, version: str | None, name: str = "node") -> Path:
    """A `node` stand-in that prints `version`, or fails as a broken install does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    body = "echo 'node: not here' >&2; exit 127" if version is None else f"echo {version}"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch):
    monkeypatch.setattr(node_finder, "_probe_cache", {})
    monkeypatch.setattr(node_finder, "_option_cache", {})
    monkeypatch.setattr(runtimes, "_choices", {})


def test_node_on_path_is_found_with_its_version(tmp_path):
    node = fake_node(tmp_path / "bin", "v20.20.2")
    found = find_node("nodejs20.x", search_path=str(tmp_path / "bin"))
    assert found == Interpreter(str(node), (20, 20), language="nodejs")


def test_the_setting_comes_before_path_and_the_runtimes_own_version_wins(tmp_path):
    on_path = fake_node(tmp_path / "path", "v20.11.0")
    listed_22 = fake_node(tmp_path / "nvm22", "v22.12.0")
    listed_24 = fake_node(tmp_path / "nvm24", "v24.1.0")
    extra = [str(listed_24), str(listed_22)]
    assert find_node("nodejs22.x", extra, str(on_path.parent)).path == str(listed_22)
    assert find_node("nodejs20.x", extra, str(on_path.parent)).path == str(on_path)
    # No 18: the nearest newer one.
    assert find_node("nodejs18.x", extra, str(on_path.parent)).path == str(on_path)


def test_an_older_node_serves_a_newer_runtime_when_there_is_nothing_else(tmp_path):
    node = fake_node(tmp_path, "v20.20.2")
    found = find_node("nodejs24.x", search_path=str(tmp_path))
    assert found.path == str(node) and found.version == (20, 20)


def test_no_node_at_all_names_the_runtime_and_how_to_install(tmp_path):
    with pytest.raises(NodeNotFound) as error:
        find_node("nodejs20.x", search_path=str(tmp_path / "empty"))
    message = str(error.value)
    assert "Runtime nodejs20.x needs Node.js, and no `node` was found" in message
    assert "Install Node.js 20 or newer" in message and "PROCESS_EXECUTOR_NODES" in message


def test_a_node_too_old_or_broken_is_refused_saying_which(tmp_path):
    old = fake_node(tmp_path / "old", "v18.19.0")
    broken = fake_node(tmp_path / "broken", None)
    with pytest.raises(NodeNotFound) as error:
        find_node("nodejs20.x", [str(broken)], str(old.parent))
    message = str(error.value)
    assert f"{old} (Node.js 18.19)" in message and f"{broken} (does not run)" in message
    assert "needs Node.js 20 or newer" in message


@pytest.mark.parametrize("runtime", ["nodejs16.x", "nodejs14.x", "nodejs", "nodejs20"])
def test_runtimes_before_the_sdk_v3_or_misspelt_are_refused(runtime, tmp_path):
    fake_node(tmp_path, "v20.20.2")
    with pytest.raises(NodeNotFound, match=r"nodejs18\.x and newer"):
        find_node(runtime, search_path=str(tmp_path))


def test_aws_options_for_the_runtime_only_when_this_node_knows_them(tmp_path, monkeypatch):
    monkeypatch.setattr(node_finder, "accepts", lambda path, option: "detect" not in option)
    assert node_finder.options_for(20, "node") == ("--no-experimental-require-module",)
    assert node_finder.options_for(22, "node") == ("--no-experimental-require-module",)
    assert node_finder.options_for(24, "node") == ()


def test_node_options_re_enabling_a_feature_drops_awss_option(monkeypatch):
    monkeypatch.setattr(node_finder, "accepts", lambda path, option: True)
    environment = {"NODE_OPTIONS": "--enable-source-maps --experimental-require-module"}
    assert node_finder.options_for(22, "node", environment) == ("--no-experimental-detect-module",)


def test_variables_node_reads_at_start_need_a_process_of_their_own():
    environment = {
        "NODE_OPTIONS": "--enable-source-maps",
        "NODE_EXTRA_CA_CERTS": "/ca.pem",
        "UV_THREADPOOL_SIZE": "8",
        "NODE_PATH": "/opt",
        "NODE_ENV": "production",
        "TABLE": "t",
    }
    assert node_finder.startup_environment(environment) == {
        "NODE_OPTIONS": "--enable-source-maps",
        "NODE_EXTRA_CA_CERTS": "/ca.pem",
        "UV_THREADPOOL_SIZE": "8",
    }


def test_a_nodejs_runtime_on_another_major_version_says_so_in_the_log(tmp_path, monkeypatch):
    node = fake_node(tmp_path, "v20.20.2")
    monkeypatch.setattr(runtimes.config, "PROCESS_EXECUTOR_NODES", [str(node)])
    monkeypatch.setattr(node_finder, "accepts", lambda path, option: True)
    choice = runtimes.choose_interpreter("nodejs22.x")
    assert not choice.exact
    assert choice.note == (
        f"[process executor] No local Node.js 22 found; runtime nodejs22.x runs on Node.js "
        f"20.20 ({node}).\n"
    )
    assert choice.interpreter.options == (
        "--no-experimental-require-module",
        "--no-experimental-detect-module",
    )
    assert runtimes.choose_interpreter("nodejs20.x").note == ""


def test_a_failed_search_is_not_remembered(tmp_path, monkeypatch):
    """Installing Node.js while LocalStack runs is enough: the next function finds it."""
    folder = tmp_path / "bin"
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setattr(runtimes.config, "PROCESS_EXECUTOR_NODES", [])
    with pytest.raises(runtimes.UnsupportedRuntimeError, match="no `node` was found"):
        runtimes.choose_interpreter("nodejs20.x")
    fake_node(folder, "v20.20.2")
    assert runtimes.choose_interpreter("nodejs20.x").interpreter.version == (20, 20)


def test_a_sandbox_adds_what_its_limits_need_when_this_node_knows_it(monkeypatch):
    monkeypatch.setattr(node_finder, "accepts", lambda path, option: True)
    assert node_finder.options_for(24, "node", sandboxed=True) == ("--disable-wasm-trap-handler",)
    assert node_finder.options_for(24, "node") == ()
    monkeypatch.setattr(node_finder, "accepts", lambda path, option: "wasm" not in option)
    assert node_finder.options_for(24, "node", sandboxed=True) == ()


def test_webassembly_and_fetch_run_under_the_sandboxs_address_space_ceiling():
    """The sandbox caps each process's address space; V8 reserves more than that for each
    WebAssembly instance unless told not to, and `fetch` parses HTTP with WebAssembly."""
    from localstack_process_executor.sandbox import MAX_ADDRESS_SPACE

    node = node_or_skip()
    if shutil.which("prlimit") is None:
        pytest.skip("needs prlimit (util-linux), as the sandbox does")
    # A module with one memory of one page: what undici's HTTP parser has, in small.
    module = "[0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1]"
    script = f"new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array({module})), {{}})"
    capped = ["prlimit", f"--as={MAX_ADDRESS_SPACE}", "--", node]
    bare = subprocess.run([*capped, "-e", script], capture_output=True, text=True, timeout=60)
    assert bare.returncode != 0 and "Out of memory" in bare.stderr
    options = node_finder.options_for(20, node, sandboxed=True)
    assert options[-1:] == ("--disable-wasm-trap-handler",)
    done = subprocess.run([*capped, *options, "-e", script], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
