"""LocalStack's executor endpoint, answering only for the invocation in progress.

LocalStack's `ExecutorEndpoint` completes whatever invocation is in progress with any
response it receives, whatever request id the response names. A runtime that reports
again after a dropped connection (lambda_platform.py retries) may report after LocalStack has
already taken its first report and moved on to the next invocation: that late report
would complete the next invocation with the previous one's answer. Here a report for
any other request is refused (400), which the runtime reads as "taken already".

An invocation's logs may also come with its response, in a header (lambda_platform.py), rather
than in a request of their own just before it: one request to LocalStack per invocation
instead of two, and a report that cannot be split by a dropped connection.
"""

from __future__ import annotations

import base64
import binascii
from http import HTTPStatus

from localstack.http import Response
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from werkzeug import Request

from localstack_process_executor.lambda_platform import LOGS_HEADER


class CurrentInvocationEndpoint(ExecutorEndpoint):
    request_id: str | None = None  # the invocation in progress, set before it is sent

    def _current(self, request_id: str) -> bool:
        return request_id == self.request_id

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
        if not self._current(req_id):
            return Response(status=HTTPStatus.BAD_REQUEST)
        self._take_logs(request)
        return super().invocation_response(request, req_id)

    def invocation_error(self, request: Request, req_id: str) -> Response:
        if not self._current(req_id):
            return Response(status=HTTPStatus.BAD_REQUEST)
        self._take_logs(request)
        return super().invocation_error(request, req_id)

    def invocation_logs(self, request: Request, invoke_id: str) -> Response:
        if not self._current(invoke_id):
            return Response(status=HTTPStatus.BAD_REQUEST)
        return super().invocation_logs(request, invoke_id)
