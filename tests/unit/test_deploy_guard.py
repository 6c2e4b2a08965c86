"""Deploying to real AWS needs the account named: nothing reaches AWS by accident."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sfnlab.deploy.resources import deploy
from sfnlab.errors import LearnerError
from sfnlab.settings import load_settings
from sfnlab.support.aws import client


def test_real_aws_without_the_account_is_refused_before_any_call(monkeypatch):
    settings = replace(load_settings({}), target="aws")
    calls = []
    monkeypatch.setattr("sfnlab.deploy.resources.client", lambda *args: calls.append(args))
    with pytest.raises(LearnerError, match="--aws-account"):
        deploy(settings)
    assert calls == []


def test_unknown_target_is_refused():
    with pytest.raises(LearnerError, match="it can be `localstack` or `aws`"):
        load_settings({"SFNLAB_TARGET": "azure"})


def test_localstack_clients_never_use_the_learners_credentials():
    settings = load_settings({"SFNLAB_ENDPOINT": "http://127.0.0.1:4566"})
    sfn = client("stepfunctions", settings)
    assert sfn.meta.endpoint_url == "http://127.0.0.1:4566"
    assert sfn._request_signer._credentials.access_key == "000000000000"


def test_localstack_clients_read_nothing_under_dot_aws(tmp_path, monkeypatch):
    aws = tmp_path / ".aws"
    aws.mkdir()
    # Read, either file would fail to parse; and the profile named exists nowhere.
    (aws / "config").write_text("[default\nnot a config file\n")
    (aws / "credentials").write_text("[default\nnot a credentials file\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    settings = replace(
        load_settings({"SFNLAB_ENDPOINT": "http://127.0.0.1:4566"}), region="eu-west-3"
    )
    sfn = client("stepfunctions", settings)  # a region of its own: not a cached client
    assert sfn.meta.region_name == "eu-west-3"
    assert sfn._request_signer._credentials.access_key == "000000000000"


@pytest.mark.parametrize(
    ("times", "refusal"),
    [
        ({"review_timeout": -5}, "The review timeout must be from 1 to 99999999 seconds"),
        ({"review_timeout": 10**12}, "The review timeout must be from 1 to 99999999 seconds"),
        ({"review_heartbeat": 0}, "give none (`--review-heartbeat 0`"),
        ({"review_heartbeat": -1}, "The review heartbeat must be from 1 to 99999999 seconds"),
        ({"review_timeout": 1.5}, "must be a whole number of seconds, not 1.5"),
    ],
)
def test_review_times_step_functions_refuses_are_refused_before_any_call(
    monkeypatch, times, refusal
):
    calls = []
    monkeypatch.setattr("sfnlab.deploy.resources.client", lambda *args: calls.append(args))
    with pytest.raises(LearnerError) as refused:
        deploy(load_settings({}), **times)
    assert refusal in str(refused.value)
    assert calls == []
