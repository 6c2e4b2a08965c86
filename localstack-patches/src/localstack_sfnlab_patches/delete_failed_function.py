"""A function whose creation failed can be deleted, as on AWS.

LocalStack 4.14 stops every version of a function it deletes through its version
manager. A version whose creation failed (state `Failed`) no longer has one: it was
stopped when the creation failed. So `DeleteFunction` answered 500 ("Unable to find
version manager"), the function stayed, and creating it again under its name failed.
With this patch a version without a manager counts as stopped already; every other
version is stopped as before.
"""

from __future__ import annotations

import logging

from localstack.services.lambda_ import hooks as lambda_hooks
from localstack.services.lambda_.invocation.lambda_service import LambdaService

LOG = logging.getLogger(__name__)


def apply() -> None:
    original = LambdaService.stop_version

    def stop_version(self: LambdaService, qualified_arn: str) -> None:
        managed = (
            qualified_arn in self.lambda_running_versions
            or qualified_arn in self.lambda_starting_versions
        )
        if managed:
            original(self, qualified_arn)
            return
        LOG.debug("Version %s has no version manager (its creation failed)", qualified_arn)
        self.event_managers.pop(qualified_arn, None)
        lambda_hooks.delete_function_version.run(qualified_arn)

    LambdaService.stop_version = stop_version
