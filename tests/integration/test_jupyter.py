"""`sfnlab notebook` serves the guided notebooks with JupyterLab, on loopback."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil
import requests

from sfnlab.support.network import free_port
from sfnlab.testing.waiting import wait_for


def test_sfnlab_notebook_serves_the_notebooks_on_loopback(tmp_path):
    port = free_port()
    environment = {**os.environ, "JUPYTER_TOKEN": "t0k3n", "JUPYTER_RUNTIME_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "sfnlab", "notebook", "--no-browser", f"--port={port}"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/contents?token=t0k3n"

        def answers() -> bool:
            try:
                return requests.get(url, timeout=2).status_code == 200
            except requests.ConnectionError:
                return server.poll() is not None

        assert wait_for(answers, timeout=60) and server.poll() is None
        names = {item["name"] for item in requests.get(url, timeout=5).json()["content"]}
        assert {"01-set-up.ipynb", "06-going-further.ipynb"} <= names
        listening = {
            c.laddr.ip for c in psutil.Process(server.pid).net_connections() if c.status == "LISTEN"
        }
        assert listening == {"127.0.0.1"}
        assert requests.get(f"http://127.0.0.1:{port}/api/contents", timeout=5).status_code == 403
    finally:
        server.terminate()
        server.wait(timeout=20)
