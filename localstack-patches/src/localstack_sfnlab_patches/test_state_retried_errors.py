"""TestState of a state with a Retry: an error (a mocked `errorOutput`) is retried, caught
or fails the state, as on AWS, instead of failing with `States.Runtime`.

LocalStack 4.14.0 reads `stateConfiguration.retrierRetryCount` through the request's
`stateConfiguration`, which is None when the request has none: every retrier then stops
with an AttributeError, and TestState answers FAILED, `States.Runtime`,
"AttributeError('NoneType' object has no attribute 'get')", whatever the error. Every task
of the exercise has a Retry, so a mocked error could never be tested there.

AWS (LocalStack's own AWS-validated TestState snapshots record it): an error a retrier
matches, with attempts left, is RETRIABLE, with `errorDetails` naming that retrier
(`retryIndex`) and the wait before the next attempt (`retryBackoffIntervalSeconds`); one
a catcher matches is CAUGHT_ERROR, with `catchIndex` and the catcher's `Next` as
`nextState`; any other FAILED. A request with no `stateConfiguration` is the state's
first attempt (a retry count of 0). The patch also names only a retrier that matched the
error in `retryIndex`: LocalStack wrote the index of every retrier it looked at, so an
error no retrier matches was reported with the last retrier's index.
"""

from __future__ import annotations

from collections.abc import Callable

from localstack.services.stepfunctions.asl.component.common.retry.retrier_decl import RetrierDecl
from localstack.services.stepfunctions.asl.component.common.retry.retrier_outcome import (
    RetrierOutcome,
)
from localstack.services.stepfunctions.asl.component.test_state.state.execution import (
    MockedStateExecution,
)
from localstack.services.stepfunctions.asl.eval.test_state.environment import TestStateEnvironment


def with_retry_state_id(
    retrier: RetrierDecl, state_id: int
) -> Callable[[TestStateEnvironment], None]:
    evaluate = retrier._eval_body

    def _wrapped(env: TestStateEnvironment) -> None:
        configuration = env.mock._state_configuration or {}
        retry_count = configuration.get("retrierRetryCount", 0)
        if retry_count > 0:
            retrier.max_attempts._store_attempt_number(env, retry_count - 1)
        evaluate(env)
        outcome = env.stack[-1]
        if outcome == RetrierOutcome.Skipped:  # not this retrier's error
            return
        details = env.inspection_data.get("errorDetails") or {}
        env.inspection_data["errorDetails"] = details
        details["retryIndex"] = state_id
        if outcome == RetrierOutcome.Executed:
            rate = retrier.backoff_rate.rate
            interval = retrier.interval_seconds.seconds
            details["retryBackoffIntervalSeconds"] = int(interval * (rate**retry_count))

    return _wrapped


def apply() -> None:
    MockedStateExecution.with_retry_state_id = staticmethod(with_retry_state_id)
