"""Node.js functions on LocalStacks of their own: without a usable Node.js, with room for two
environments, in the grader's sandbox, and as a user of their own where bubblewrap cannot
run."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from own_localstacks import make_function, most_at_once, start_localstack

from localstack_process_executor.sandbox import find_bwrap, switches_user
from sfnlab.errors import LearnerError
from sfnlab.lab import lifecycle
from sfnlab.localstack import embedded
from sfnlab.localstack.install import ensure_runtime_env
from sfnlab.support.aws import client
from sfnlab.testing.containers import as_in_a_container
from sfnlab.testing.functions import invoke
from sfnlab.testing.settings import settings_for

SLEEPER = """
exports.handler = async (event) => {
  const started = Date.now() / 1000;
  await new Promise((done) => setTimeout(done, event.sleep * 1000));
  return { pid: process.pid, started, ended: Date.now() / 1000 };
};
"""
PY_SLEEPER = """
import os, time

def handler(event, context):
    started = time.time()
    time.sleep(event["sleep"])
    return {"pid": os.getpid(), "started": started, "ended": time.time()}
"""


def create_node(kit, source: str, runtime: str = "nodejs20.x", timeout: int = 10) -> str:
    return make_function(kit, source, runtime, timeout, code_file="index.js")


def test_without_a_usable_node_nodejs_functions_fail_to_create_and_python_ones_run(
    tmp_path, lambda_python_version
):
    """Only an old Node.js on PATH: creating a Node.js function fails saying which runtime
    needs what and how to install it; everything else works as before."""
    old = tmp_path / "old-node"
    old.mkdir()
    (old / "node").write_text("#!/bin/sh\necho v18.19.0\n")
    (old / "node").chmod(0o755)
    kit = start_localstack(
        tmp_path / "state", PATH=f"{old}{os.pathsep}{os.environ['PATH']}", PROCESS_EXECUTOR_NODES=""
    )
    try:
        with pytest.raises(LearnerError) as refused:
            create_node(kit, "exports.handler = async () => 1;")
        message = str(refused.value)
        assert "Runtime nodejs20.x needs Node.js 20 or newer" in message
        assert f"{old / 'node'} (Node.js 18.19)" in message
        assert "Install Node.js 20 or newer (https://nodejs.org" in message
        python = make_function(
            kit,
            "def handler(event, context):\n    return 'python runs'\n",
            "python{}.{}".format(*lambda_python_version),
        )
        assert invoke(client("lambda", kit), python)["Payload"] == "python runs"
    finally:
        lifecycle.down(kit)


def test_the_cap_on_environments_holds_for_nodejs_and_python_together(
    tmp_path, node, lambda_python_version
):
    kit = start_localstack(
        tmp_path / "state",
        PROCESS_EXECUTOR_MAX_ENVIRONMENTS="2",
        PROCESS_EXECUTOR_QUEUE_SECONDS="30",
    )
    try:
        lam = client("lambda", kit)
        node_fn = create_node(kit, SLEEPER)
        python_fn = make_function(kit, PY_SLEEPER, "python{}.{}".format(*lambda_python_version))
        calls = [node_fn] * 4 + [python_fn] * 2

        def call(name: str) -> dict:
            response = invoke(lam, name, {"sleep": 1})
            assert "FunctionError" not in response, response["Payload"]
            return response["Payload"]

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            results = list(pool.map(call, calls))
        assert most_at_once(results) <= 2
        node_pids = {r["pid"] for r in results[:4]}
        assert len(node_pids) <= 2  # never more processes than room for
    finally:
        lifecycle.down(kit)


@pytest.fixture
def sandboxed(tmp_path, node):
    if find_bwrap() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    home = tmp_path / "instructor-home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("[default]\naws_secret_access_key = secret\n")
    kit = start_localstack(tmp_path / "state", PROCESS_EXECUTOR_SANDBOX="bwrap", HOME=str(home))
    yield kit, home
    lifecycle.down(kit)


def test_a_nodejs_function_runs_in_the_sandbox_and_sees_only_its_own(sandboxed):
    kit, home = sandboxed
    name = create_node(
        kit,
        """
        const fs = require('node:fs');
        const { SFNClient, ListStateMachinesCommand } = require('@aws-sdk/client-sfn');
        const attempt = (action) => {
          try { return action(); } catch (error) { return error.code; }
        };
        const sfn = new SFNClient({});
        exports.handler = async (event) => ({
          credentials: attempt(() => fs.readFileSync(event.secret, 'utf8')),
          writeCode: attempt(() => fs.writeFileSync(process.env.LAMBDA_TASK_ROOT + '/x', 'x')),
          writeTmp: attempt(() => { fs.writeFileSync('/tmp/x', 'x'); return 'ok'; }),
          uid: process.getuid(),
          sdk: (await sfn.send(new ListStateMachinesCommand({}))).$metadata.httpStatusCode,
        });
        """,
    )
    result = invoke(client("lambda", kit), name, {"secret": str(home / ".aws" / "credentials")})
    assert "FunctionError" not in result, result["Payload"]
    outcome = result["Payload"]
    assert outcome["credentials"] == "ENOENT"
    assert outcome["writeCode"] in ("EROFS", "EACCES")
    assert outcome["writeTmp"] == "ok"
    assert outcome["sdk"] == 200
    if os.geteuid() == 0:
        assert outcome["uid"] != 0
    assert json.dumps(outcome).count("secret") == 0


# Reports what a function may do to what is not its own, as the user it runs as.
PROBE_JS = """
const fs = require('node:fs');
const { SFNClient, ListStateMachinesCommand } = require('@aws-sdk/client-sfn');
const attempt = (action) => {
  try { action(); return 'ok'; } catch (error) { return error.code; }
};
exports.handler = async (event) => ({
  uid: process.getuid(),
  signalLocalStack: attempt(() => process.kill(event.localstack, 0)),
  readPrivate: attempt(() => fs.readFileSync(event.private)),
  writeCode: attempt(() => fs.writeFileSync(process.env.LAMBDA_TASK_ROOT + '/x', 'x')),
  writeTmp: attempt(() => fs.writeFileSync(process.env.TMPDIR + '/x', 'x')),
  sdk: (await new SFNClient({}).send(new ListStateMachinesCommand({}))).$metadata.httpStatusCode,
  // An ES module import finds packages in node_modules folders only (no NODE_PATH).
  sdkImported: typeof (await import('@aws-sdk/client-lambda')).LambdaClient,
});
"""
PROBE_PY = """
import errno, os

def attempt(action):
    try:
        action()
        return "ok"
    except OSError as error:
        return errno.errorcode[error.errno]

def handler(event, context):
    return {
        "uid": os.getuid(),
        "signalLocalStack": attempt(lambda: os.kill(event["localstack"], 0)),
        "readPrivate": attempt(lambda: open(event["private"]).read()),
    }
"""


class ContainerLike:
    """Where LocalStack runs (embedded.Namespace): a container made here, with the Python
    LocalStack runs on (which also runs each Node.js keeper) where every user can run it."""

    pass_fds: tuple[int, ...] = ()

    def __init__(self, scratch: Path, python: Path) -> None:
        self.prefix = as_in_a_container(scratch, [python])

    def enter(self, command: list[str]) -> list[str]:
        return [*self.prefix, *command]


@pytest.fixture
def user_sandboxed(node, lambda_python_version):
    """A LocalStack running each function as a user of its own (PROCESS_EXECUTOR_SANDBOX=user),
    as in a grading platform's container; yields (its settings, a file only root reads)."""
    if not switches_user() or shutil.which("unshare") is None:
        pytest.skip("needs root, setpriv, prlimit and unshare")
    folder = Path(tempfile.mkdtemp(prefix="sfnlab-user-sandbox-"))
    folder.chmod(0o711)  # as the grading stack's: each function's user reaches its folder
    private = folder / "private" / "secret.txt"
    private.parent.mkdir(mode=0o700)
    private.write_text("the grader's")
    kit = settings_for(folder / "state")
    extra = {
        "PROCESS_EXECUTOR_SANDBOX": "user",
        "PROCESS_EXECUTOR_PYTHON_DIRS": str(kit.runtime_venv / "bin"),
    }
    try:
        python = ensure_runtime_env(kit)
        (folder / "scratch").mkdir()
        embedded.start(
            kit, python, extra_environment=extra, inside=ContainerLike(folder / "scratch", python)
        )
        yield kit, private
    finally:
        lifecycle.down(kit)
        shutil.rmtree(folder, ignore_errors=True)


def test_in_user_mode_nodejs_and_python_functions_each_run_as_a_user_of_their_own(
    user_sandboxed, lambda_python_version
):
    """Where bubblewrap cannot run: no mounts, so the SDK is linked where bwrap would bind
    it; each process, the Node.js keeper too, runs as a user of its own (never root) that
    cannot signal LocalStack, read root's files nor write its own code, and still reports
    its answers (with its environment's secret) and reaches LocalStack with the SDK."""
    kit, private = user_sandboxed
    lam = client("lambda", kit)
    localstack = embedded.running_embedded(kit).pid
    event = {"localstack": localstack, "private": str(private)}
    node_fn = create_node(kit, PROBE_JS)
    python_fn = make_function(kit, PROBE_PY, "python{}.{}".format(*lambda_python_version))
    nodejs = invoke(lam, node_fn, event)
    python = invoke(lam, python_fn, event)
    assert "FunctionError" not in nodejs, nodejs["Payload"]
    assert "FunctionError" not in python, python["Payload"]
    assert nodejs["Payload"] | {"uid": 1} == {
        "uid": 1,
        "signalLocalStack": "EPERM",
        "readPrivate": "EACCES",
        "writeCode": "EACCES",
        "writeTmp": "ok",
        "sdk": 200,
        "sdkImported": "function",
    }
    assert python["Payload"] | {"uid": 1} == {
        "uid": 1,
        "signalLocalStack": "EPERM",
        "readPrivate": "EACCES",
    }
    uids = {nodejs["Payload"]["uid"], python["Payload"]["uid"]}
    assert len(uids) == 2 and 0 not in uids
    # The keeper (the process the executor started) runs as the Node.js function's user too.
    keepers = [p for p in psutil.Process(localstack).children() if p.uids().real in uids]
    assert {p.uids().real for p in keepers} == uids, [p.cmdline() for p in keepers]
