"""Settings come from the environment, with defaults that keep everything in the project."""

from __future__ import annotations

from sfnlab.settings import PROJECT_ROOT, load_settings


def test_defaults_keep_everything_inside_the_project():
    settings = load_settings({})
    assert settings.endpoint == "http://127.0.0.1:4566"
    assert settings.home == PROJECT_ROOT / ".sfnlab"
    for path in (settings.state_dir, settings.runtime_venv, settings.log_file, settings.uv_cache):
        assert path.is_relative_to(PROJECT_ROOT / ".sfnlab")


def test_endpoint_from_sfnlab_endpoint_then_aws_endpoint_url():
    assert load_settings({"AWS_ENDPOINT_URL": "http://127.0.0.1:4567/"}).endpoint == (
        "http://127.0.0.1:4567"
    )
    both = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4567", "SFNLAB_ENDPOINT": "http://localhost:5000"}
    settings = load_settings(both)
    assert (settings.host, settings.port) == ("localhost", 5000)


def test_state_folder_can_be_moved(tmp_path):
    settings = load_settings({"SFNLAB_STATE_DIR": str(tmp_path)})
    assert settings.pid_file.parent == tmp_path
    assert settings.runtime_venv == PROJECT_ROOT / ".sfnlab" / "localstack-venv"
