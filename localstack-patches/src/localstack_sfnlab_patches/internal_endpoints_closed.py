"""LocalStack's own endpoints are closed, but for reading its health: nothing that reaches
its port can stop, restart or reconfigure it, or read any account's data through them.

LocalStack 4.14.0 serves endpoints of its own beside the AWS API, on the same port, to
whoever reaches it: `POST /_localstack/health` with `{"action": "kill"}` stops it (and
`"restart"` restarts it), `PUT` rewrites the health document, `/_localstack/config`
(with ENABLE_CONFIG_UPDATES) changes any setting, `/_aws/sqs/messages` reads any account's
queues, `/_aws/cloudwatch/metrics/raw` lists every account's metrics with its account id.
Its CORS check stops a web page in a browser; a Lambda's code reaches the port directly
(it must, to call AWS), and a graded submission stopped the grading LocalStack that way.

A handler at the front of LocalStack's request chain (`preprocess_request`, ahead of its
CORS enforcement) answers 403 to every request under `/_localstack/` and `/_aws/`, and to
`/openapi.yaml`, except:
- `GET` and `HEAD /_localstack/health`, which the kit (and Docker's health check) reads;
- `/_aws/execute-api/...`, API Gateway's own invoke URLs: AWS's API, not LocalStack's.
The Lambda executor endpoint (`/_localstack_lambda/`) is not under these: the process
executor answers only each environment's own runtime there.

The path is judged as LocalStack routes it, after collapsing repeated slashes and dot
segments and ignoring case, so `//_localstack/./HEALTH` is judged as `/_localstack/health`.
Each refusal is one warning in LocalStack's log naming the function that sent it (found
by the process executor, from the connection), which the grader reads:

    sfnlab refused POST /_localstack/health from arn:aws:lambda:us-east-1:...:function:x
"""

from __future__ import annotations

import logging
import posixpath

from localstack.aws import handlers
from localstack.aws.api import RequestContext
from localstack.aws.chain import HandlerChain
from localstack.http import Request, Response

LOG = logging.getLogger(__name__)

REFUSED = "sfnlab refused"  # the mark of a refusal in LocalStack's log (the grader's too)
CLOSED_PREFIXES = ("/_localstack/", "/_aws/")
CLOSED_PATHS = {"/_localstack", "/_aws", "/openapi.yaml"}
OPEN = {"/_localstack/health": {"GET", "HEAD"}}
OPEN_PREFIXES = ("/_aws/execute-api/",)
OPEN_PATHS = {"/_aws/execute-api"}


def canonical(path: str) -> str:
    """The path as a router that merges slashes and dot segments would see it, in lower case."""
    normalized = posixpath.normpath("/" + path.lstrip("/"))
    return normalized.lower()


def closed(method: str, path: str) -> bool:
    """Whether LocalStack answers `method path` with 403 (with this patch)."""
    path = canonical(path)
    if path in OPEN:
        return method.upper() not in OPEN[path]
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return False
    return path in CLOSED_PATHS or path.startswith(CLOSED_PREFIXES)


def caller(request: Request) -> str:
    """Who sent `request`: the function, when the process executor runs Lambdas here."""
    try:
        from localstack_process_executor.callers import caller as function_or_address
    except ImportError:  # LocalStack's own executor (the Docker image): the address
        return f"{request.environ.get('REMOTE_ADDR')}:{request.environ.get('REMOTE_PORT')}"
    return function_or_address(request)


class InternalEndpointGuard:
    """Answers 403 to requests for LocalStack's own endpoints (see the module's docstring)."""

    def __call__(self, chain: HandlerChain, context: RequestContext, response: Response) -> None:
        request = context.request
        if not closed(request.method, request.path):
            return
        LOG.warning("%s %s %s from %s", REFUSED, request.method, request.path, caller(request))
        chain.respond(
            403,
            {
                "message": f"{request.method} {request.path} is closed on this LocalStack: "
                "its own endpoints could stop, restart or reconfigure it, or read other "
                "accounts' data. Only GET /_localstack/health is open.",
            },
        )


GUARD = InternalEndpointGuard()


def apply() -> None:
    # First of the handlers that run before LocalStack's CORS check and anything that
    # serves a request (its own resources, its routers, the AWS services).
    if GUARD not in handlers.preprocess_request.handlers:
        handlers.preprocess_request.handlers.insert(0, GUARD)
