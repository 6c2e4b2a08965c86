"""LocalStack's executor endpoint, answering only its own runtime, for the invocation in progress.

LocalStack's `ExecutorEndpoint` completes whatever invocation is in progress with any
response it receives, whatever request id the response names. A runtime that reports
again after a dropped connection (lambda_platform.py retries) may report after LocalStack has
already taken its first report and moved on to the next invocation: that late report
would complete the next invocation with the previous one's answer. Here a report for
any other request is refused (400), which the runtime reads as "taken already".

Only the environment's own runtime is answered. LocalStack serves this endpoint on its
gateway, to anyone who reaches it, and it knows an environment by its id alone: a
function that learned another environment's id (log stream names carry it) could report
that environment's start-up failed, or ready before it is, and have its invocation fail.
Each environment has a secret of its own, handed to its runtime with its assignment (on a
pipe, never in the environment variables; a Node.js runtime's keeper, which reports for
it, gets it the same way); a report without it is refused (403). The function's own code
can read its runtime's secret, which lets it do nothing it could not do by returning.

An invocation's logs may also come with its response, in a header (lambda_platform.py), rather
than in a request of their own just before it: one request to LocalStack per invocation
instead of two, and a report that cannot be split by a dropped connection.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import secrets
from http import HTTPStatus

from localstack.http import Response
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from werkzeug import Request

from localstack_process_executor.callers import REFUSED, caller
from localstack_process_executor.lambda_platform import LOGS_HEADER, SECRET_HEADER

LOG = logging.getLogger(__name__)


class CurrentInvocationEndpoint(ExecutorEndpoint):
    request_id: str | None = None  # the invocation in progress, set before it is sent

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.secret = secrets.token_urlsafe(32)  # handed to each of its runtime processes

    def _current(self, request_id: str) -> bool:
        return request_id == self.request_id

    def _from_own_runtime(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        if hmac.compare_digest(given.encode(), self.secret.encode()):
            return True
        LOG.warning("%s %s %s from %s", REFUSED, request.method, request.path, caller(request))
        return False

    def status_ready(self, request: Request, executor_id: str) -> Response:
        if not self._from_own_runtime(request):
            return Response(status=HTTPStatus.FORBIDDEN)
        return super().status_ready(request, executor_id)

    def status_error(self, request: Request, executor_id: str) -> Response:
        if not self._from_own_runtime(request):
            return Response(status=HTTPStatus.FORBIDDEN)
        return super().status_error(request, executor_id)

    def _take_logs(self, request: Request) -> None:
        """The logs that came with the response (lambda_platform.py), when they did."""
        packed = request.headers.get(LOGS_HEADER)
        if packed is None:
            return
        try:
            self.logs = base64.b64decode(packed, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            self.logs = "[process executor] the runtime's logs could not be read\n"

    def invocation_response(self, request: Request, req_id: str) -> Response:
        if not self._from_own_runtime(request):
            return Response(status=HTTPStatus.FORBIDDEN)
        if not self._current(req_id):
            return Response(status=HTTPStatus.BAD_REQUEST)
        self._take_logs(request)
        return super().invocation_response(request, req_id)

    def invocation_error(self, request: Request, req_id: str) -> Response:
        if not self._from_own_runtime(request):
            return Response(status=HTTPStatus.FORBIDDEN)
        if not self._current(req_id):
            return Response(status=HTTPStatus.BAD_REQUEST)
        self._take_logs(request)
        return super().invocation_error(request, req_id)

    def invocation_logs(self, request: Request, invoke_id: str) -> Response:
        if not self._from_own_runtime(request):
            return Response(status=HTTPStatus.FORBIDDEN)
        if not self._current(invoke_id):
            return Response(status=HTTPStatus.BAD_REQUEST)
        return super().invocation_logs(request, invoke_id)
