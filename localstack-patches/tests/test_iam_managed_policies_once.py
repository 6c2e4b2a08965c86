"""AWS's managed policies are read once per process (patch `iam_managed_policies_once`).

What stays the same: every new account still has all of AWS's managed policies (and the
one LocalStack adds), each with its path, versions, document and dates as moto's list
gives them, and each account's policies are its own: attaching one in an account changes
nothing in another.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import replace

from localstack_python import in_localstack

from sfnlab.support.aws import client

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def new_account(settings):
    return replace(settings, account_id=f"{10**11 + secrets.randbelow(9 * 10**11):012d}")


def aws_policies(iam) -> dict[str, dict]:
    pages = iam.get_paginator("list_policies").paginate(Scope="AWS")
    return {policy["Arn"]: policy for page in pages for policy in page["Policies"]}


def test_each_new_account_gets_every_managed_policy_of_its_own(localstack):
    first, second = (client("iam", new_account(localstack)) for _ in range(2))
    policies = aws_policies(first)
    assert len(policies) > 1000 and "arn:aws:iam::aws:policy/AWSLambdaExecute" in policies
    again = aws_policies(second)
    same_fields = ("PolicyName", "Path", "DefaultVersionId", "CreateDate", "UpdateDate")
    assert {arn: [p[f] for f in same_fields] for arn, p in policies.items()} == {
        arn: [p[f] for f in same_fields] for arn, p in again.items()
    }
    # An attachment counts in its own account only: the policies are not shared.
    first.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    first.attach_role_policy(RoleName="reader", PolicyArn=BASIC_EXECUTION)
    assert first.get_policy(PolicyArn=BASIC_EXECUTION)["Policy"]["AttachmentCount"] == 1
    assert second.get_policy(PolicyArn=BASIC_EXECUTION)["Policy"]["AttachmentCount"] == 0
    document = second.get_policy_version(PolicyArn=BASIC_EXECUTION, VersionId="v1")
    assert document["PolicyVersion"]["Document"]["Statement"][0]["Action"] == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]


def test_an_accounts_policies_are_built_exactly_as_moto_builds_them():
    report = in_localstack(
        """
        import json, os
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        from localstack_sfnlab_patches import iam_managed_policies_once as patch
        patch.apply()
        from localstack.services.iam.iam_patches import apply_iam_patches
        apply_iam_patches()
        from moto.iam import models
        from localstack.utils.patch import Patch

        def described(backend):
            return sorted(
                (p.name, p.arn, p.path, p.default_version_id, p.document,
                 p.create_date.isoformat(), p.update_date.isoformat(), p.account_id,
                 p.attachment_count,
                 [(v.version_id, v.document, v.is_default, str(v.create_date)) for v in p.versions])
                for p in backend.managed_policies.values()
            )

        patched_one = models.IAMBackend("us-east-1", "111111111111")
        patched_two = models.IAMBackend("us-east-1", "222222222222")
        shared = {id(p) for p in patched_one.managed_policies.values()} & {
            id(p) for p in patched_two.managed_policies.values()}
        # Undone, LocalStack's addition first: moto's own reading alone.
        for applied in reversed(list(Patch.applied_patches)):
            if applied.name == "_init_aws_policies" and applied.obj is models.IAMBackend:
                applied.undo()
        original = models.IAMBackend("us-east-1", "111111111111")
        # LocalStack's own version of AWSLambdaExecute replaces moto's, as before.
        [added] = [p for p in described(patched_one) if p[0] == "AWSLambdaExecute"]
        print(json.dumps({
            "equal": [p for p in described(patched_one) if p[0] != "AWSLambdaExecute"]
                     == [p for p in described(original) if p[0] != "AWSLambdaExecute"],
            "added": added[5],
            "count": len(original.managed_policies),
            "shared": len(shared),
            "ids_differ": {p.id for p in patched_one.managed_policies.values()}
                          != {p.id for p in original.managed_policies.values()},
        }))
        """
    )
    assert report["equal"] and report["count"] > 1000 and report["added"].startswith("2017-10-20")
    assert report["shared"] == 0 and report["ids_differ"]
