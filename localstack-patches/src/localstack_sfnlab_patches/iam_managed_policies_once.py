"""IAM reads AWS's managed policies once, not again for every new account.

LocalStack 4.14.0 (through moto) gives every account its own copy of AWS's managed
policies, about 1,400 of them, and builds that copy from scratch on the account's first
IAM or STS request: it parses the whole policy list from its JSON text again, and writes
each policy document back to JSON text again. A new account costs some 80 ms of CPU
that way, and a grader uses a new account for every solution.

This reads the list once, into values nobody can change (names, JSON texts, dates), and
builds each new account's policies from them, exactly as before: each account still
gets policy objects of its own (its own ids and attachment counts), with the same
names, paths, versions, documents and dates. Only the reading is shared.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import datetime
from types import ModuleType
from typing import Any, NamedTuple

from localstack_sfnlab_patches.import_hooks import when_imported

LOG = logging.getLogger(__name__)
MOTO_IAM_MODELS = "moto.iam.models"


class ManagedPolicyData(NamedTuple):
    """What moto builds an AWS managed policy from, read once."""

    name: str
    default_version_id: str | None
    path: str | None
    document: str  # the JSON text of the policy document, as moto writes it
    create_date: datetime
    update_date: datetime


@functools.cache
def managed_policies(source: str) -> tuple[ManagedPolicyData, ...]:
    """moto's list of AWS's managed policies (its JSON text), read once per process."""
    return tuple(
        ManagedPolicyData(
            name,
            data.get("DefaultVersionId"),
            data.get("Path"),
            json.dumps(data.get("Document")),
            datetime.fromisoformat(data["CreateDate"]),
            datetime.fromisoformat(data["UpdateDate"]),
        )
        for name, data in json.loads(source).items()
    )


def patch_models(models: ModuleType) -> None:
    from localstack.utils.patch import Patch
    from moto import settings

    backend = models.IAMBackend
    if hasattr(backend._init_aws_policies, "__subject__"):
        # LocalStack adds a policy of its own by wrapping this method once IAM loads; the
        # patch must be in place before that, or it would replace LocalStack's addition.
        LOG.warning("sfnlab patch iam_managed_policies_once not applied: IAM already loaded")
        return

    # Named as the method it replaces: LocalStack's own patch finds the class it wraps
    # the method on by the method's qualified name.
    @functools.wraps(backend._init_aws_policies)
    def init_aws_policies(self: Any) -> list[Any]:
        if not settings.load_iam_aws_managed_policies():
            return []
        return [
            models.AWSManagedPolicy(
                policy.name,
                account_id=self.account_id,
                region=self.region_name,
                default_version_id=policy.default_version_id,
                path=policy.path,
                document=policy.document,
                create_date=policy.create_date,
                update_date=policy.update_date,
            )
            for policy in managed_policies(models.aws_managed_policies_data)
        ]

    Patch(backend, "_init_aws_policies", init_aws_policies).apply()


def apply() -> None:
    # moto.iam.models is imported by LocalStack's own IAM patches, which wrap this
    # method right after: patching on import comes first.
    when_imported(MOTO_IAM_MODELS, patch_models)
