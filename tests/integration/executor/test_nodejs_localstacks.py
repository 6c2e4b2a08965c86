"""Node.js functions on LocalStacks of their own: without a usable Node.js, with room for two
environments, and in the grader's sandbox."""

from __future__ import annotations

import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from localstack_process_executor.sandbox import find_bwrap
from sfnlab.deploy.functions import wait_until_ready
from sfnlab.errors import LearnerError
from sfnlab.lab import lifecycle
from sfnlab.support.aws import client
from tests.helpers import invoke, zip_files
from tests.integration.executor.conftest import ROLE, make_function, start_localstack

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
    lam = client("lambda", kit)
    name = f"fn-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler="index.handler",
        Code={"ZipFile": zip_files({"index.js": source})},
        Timeout=timeout,
    )
    wait_until_ready(lam, name)
    return name


def most_at_once(results: list[dict]) -> int:
    edges = sorted([(r["started"], 1) for r in results] + [(r["ended"], -1) for r in results])
    running = peak = 0
    for _, change in edges:
        running += change
        peak = max(peak, running)
    return peak


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
