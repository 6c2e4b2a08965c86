"""The embedded LocalStack's Lambda settings: checked before it starts, clamped inside it."""

from __future__ import annotations

import pytest

from localstack_process_executor.config import MAX_ENVIRONMENTS, QUEUE_SECONDS, SPARES
from sfnlab.errors import LearnerError
from sfnlab.grading.grading_stack import environments_for
from sfnlab.localstack.embedded import KEEPALIVE, localstack_environment
from sfnlab.testing.settings import settings_for


@pytest.mark.parametrize(
    ("setting", "text", "used", "says"),
    [
        (MAX_ENVIRONMENTS, "", 16, None),
        (MAX_ENVIRONMENTS, "4", 4, None),
        (MAX_ENVIRONMENTS, "0", 1, "is outside 1..1024"),
        (MAX_ENVIRONMENTS, "-3", 1, "is outside 1..1024"),
        (MAX_ENVIRONMENTS, "100000", 1024, "is outside 1..1024"),
        (MAX_ENVIRONMENTS, "2.5", 16, "=2.5 is not a whole number"),
        (MAX_ENVIRONMENTS, "lots", 16, "is not a whole number"),
        (QUEUE_SECONDS, "0.5", 0.5, None),
        (QUEUE_SECONDS, "-1", 0, "=-1 is outside 0..300"),
        (QUEUE_SECONDS, "inf", 300, "=inf is outside 0..300"),
        (QUEUE_SECONDS, "nan", 10, "is not a number"),
        (SPARES, "9", 8, "is outside 0..8"),
        (KEEPALIVE, "-1", 0, "=-1 is outside 0..86400000"),
    ],
)
def test_a_setting_out_of_range_is_clamped_and_what_is_wrong_is_said(setting, text, used, says):
    value, problem = setting.read({setting.name: text})
    assert value == used
    if says is None:
        assert problem is None
    else:
        assert problem.startswith(setting.name) and says in problem


@pytest.mark.parametrize(
    "variable",
    [
        "PROCESS_EXECUTOR_MAX_ENVIRONMENTS=-5",
        "PROCESS_EXECUTOR_QUEUE_SECONDS=soon",
        "LAMBDA_KEEPALIVE_MS=1m",
    ],
)
def test_up_refuses_a_setting_localstack_could_not_use(tmp_path, monkeypatch, variable):
    name, value = variable.split("=")
    monkeypatch.setenv(name, value)
    with pytest.raises(LearnerError) as error:
        localstack_environment(settings_for(tmp_path))
    assert f"{name}={value}" in str(error.value)
    assert "sfnlab up" in str(error.value)


def test_localstack_gets_the_kits_keep_alive_unless_one_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv("LAMBDA_KEEPALIVE_MS", raising=False)
    assert localstack_environment(settings_for(tmp_path))["LAMBDA_KEEPALIVE_MS"] == "60000"
    monkeypatch.setenv("LAMBDA_KEEPALIVE_MS", "5000")
    assert localstack_environment(settings_for(tmp_path))["LAMBDA_KEEPALIVE_MS"] == "5000"


def test_localstack_calls_its_own_services_in_memory_unless_told_otherwise(tmp_path, monkeypatch):
    monkeypatch.delenv("IN_MEMORY_CLIENT", raising=False)
    assert localstack_environment(settings_for(tmp_path))["IN_MEMORY_CLIENT"] == "1"
    monkeypatch.setenv("IN_MEMORY_CLIENT", "0")
    assert localstack_environment(settings_for(tmp_path))["IN_MEMORY_CLIENT"] == "0"


@pytest.mark.parametrize(("jobs", "environments"), [(1, 16), (2, 16), (4, 32), (8, 64), (500, 64)])
def test_the_grading_localstack_has_room_for_every_function_graded_at_once(jobs, environments):
    assert environments_for(jobs) == environments
    # Within the executor's own bounds, whatever the number of jobs.
    assert MAX_ENVIRONMENTS.read({MAX_ENVIRONMENTS.name: str(environments)})[1] is None
