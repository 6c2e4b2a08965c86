"""A new function becomes Active without waiting behind the stopping of deleted ones.

LocalStack 4.14.0's Lambda service runs its background work on one thread pool, sized
from the CPU count (six threads on two cores): preparing a new function version (after
which the function is Active) as well as stopping versions and their event managers.
Stopping an event manager waits for its SQS long poll to return, up to two seconds, and
a deletion stops one per version. Deleting a few functions (a grading run removes seven
per solution) therefore kept every thread of the pool waiting, and functions created
meanwhile stayed Pending for a second or more. With this patch the pool may grow to
WORKERS threads, so a thread that waits no longer holds up the others' work. Threads are
still started only as work arrives; what is done, and in what order, is unchanged.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from localstack.services.lambda_.invocation.lambda_service import LambdaService

WORKERS = 64  # mostly waiting threads; a class's clean-up stops about 30 versions at once


def apply() -> None:
    original = LambdaService.__init__

    def init(self: LambdaService) -> None:
        original(self)
        small = self.task_executor
        workers = max(WORKERS, getattr(small, "_max_workers", 0))
        self.task_executor = ThreadPoolExecutor(workers, thread_name_prefix="lambda-service-task")
        small.shutdown(wait=False)  # nothing was given to it yet

    LambdaService.__init__ = init
