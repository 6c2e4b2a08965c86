"""Each account's Lambda code stays its own: nobody can list LocalStack's bucket of code.

LocalStack 4.14.0 keeps every function's and layer's code in one S3 bucket of its
internal account, `awslambda-<region>-tasks`, as `snapshots/<account id>/<name>-<uuid>`;
its S3 finds a bucket by name whatever the caller's account. So any caller, a Lambda of
another account included, could list it (every account that has a function, and each
function's code) and read each archive; and, knowing another account's id, act as that
account through the AWS API (LocalStack takes a 12-digit access key for the account).
On AWS the code is out of every customer's reach but through GetFunction's presigned
`Code.Location`, for that function's own account.

The patch answers S3's `AccessDenied` (403) to every request for that bucket that does
not come from LocalStack itself, except GetObject and HeadObject of a key: GetFunction's
`Code.Location` works as before, and a key cannot be guessed (it ends in a random UUID)
or listed any more. LocalStack's own calls come in memory on the embedded LocalStack
(IN_MEMORY_CLIENT, as the kit starts it), with no address: nothing outside can send one.
Where they go over HTTP instead (LocalStack's Docker image), a request that says it is
internal is let through, as LocalStack lets it; anyone can say so there: that is one
learner's own LocalStack, never the one a class is graded on. Each refusal is logged as
`internal_endpoints_closed` logs its own.
"""

from __future__ import annotations

import logging
import re

from localstack import config
from localstack.aws import handlers
from localstack.aws.api import CommonServiceException, RequestContext
from localstack.aws.chain import HandlerChain
from localstack.http import Response

from localstack_sfnlab_patches.internal_endpoints_closed import REFUSED, caller

LOG = logging.getLogger(__name__)

CODE_BUCKET = re.compile(r"awslambda-[a-z0-9-]+-tasks")
READ_BY_KEY = {"GetObject", "HeadObject"}  # what GetFunction's Code.Location is used for


def from_localstack(context: RequestContext) -> bool:
    if "REMOTE_ADDR" not in context.request.environ:
        return True  # in memory: one of LocalStack's own clients
    return not config.IN_MEMORY_CLIENT and context.is_internal_call


class CodeBucketGuard:
    def __call__(self, chain: HandlerChain, context: RequestContext, response: Response) -> None:
        if context.service is None or context.service.service_name != "s3":
            return
        bucket = (context.service_request or {}).get("Bucket")
        if not isinstance(bucket, str) or not CODE_BUCKET.fullmatch(bucket):
            return
        operation = context.operation.name if context.operation else ""
        if operation in READ_BY_KEY or from_localstack(context):
            return
        LOG.warning(
            "%s %s of bucket %s from %s", REFUSED, operation, bucket, caller(context.request)
        )
        raise CommonServiceException("AccessDenied", "Access Denied", status_code=403)


GUARD = CodeBucketGuard()


def apply() -> None:
    # Among the handlers that run once a request is parsed, before its service serves it.
    if GUARD not in handlers.serve_custom_service_request_handlers.handlers:
        handlers.serve_custom_service_request_handlers.handlers.insert(0, GUARD)
