"""The embedded LocalStack's virtualenv: which Python, and what a learner sees when it fails."""

from __future__ import annotations

import re
import sys
from dataclasses import replace

import pytest

from localstack_process_executor import interpreters
from sfnlab.errors import InstallFailed, PythonNotFound
from sfnlab.localstack import install as runtime_env
from sfnlab.settings import load_settings


def test_sfnlab_python_too_old_is_refused_with_the_versions_that_work():
    settings = replace(load_settings({}), python=sys.executable)  # the kit's own 3.10/3.11
    if sys.version_info[:2] in runtime_env.SUPPORTED_PYTHONS:
        pytest.skip("this Python is one the embedded LocalStack supports")
    with pytest.raises(PythonNotFound, match=re.escape("runs on Python 3.12 or 3.13")):
        runtime_env.find_runtime_python(settings)


def test_sfnlab_python_that_does_not_run_is_named(tmp_path):
    broken = tmp_path / "python3.13"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    settings = replace(load_settings({}), python=str(broken))
    with pytest.raises(PythonNotFound, match=re.escape(f"{broken}, which does not run")):
        runtime_env.find_runtime_python(settings)


def test_no_python_3_12_or_3_13_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setattr(interpreters, "search_directories", lambda: iter([str(tmp_path)]))
    with pytest.raises(PythonNotFound) as error:
        runtime_env.find_runtime_python(load_settings({}))
    message = str(error.value)
    assert "needs Python 3.13 or 3.12" in message
    assert "uv python install 3.13" in message and "SFNLAB_PYTHON" in message


def test_failed_install_says_what_to_check_and_where_the_log_is(monkeypatch, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("no-such-package-for-sfnlab-tests==0.0.1\n")
    monkeypatch.setattr(runtime_env, "REQUIREMENTS", requirements)
    settings = replace(load_settings({}), home=tmp_path / "home")
    interpreter = interpreters.Interpreter(sys.executable, sys.version_info[:2])
    with pytest.raises(InstallFailed) as error:
        runtime_env.install_runtime_env(settings, interpreter)
    message = str(error.value)
    assert "Installing the embedded LocalStack runtime failed" in message
    assert str(settings.install_log) in message
    assert "no-such-package-for-sfnlab-tests" in settings.install_log.read_text()
