"""An execution is ABORTED, with its stop's date, error and cause, once StopExecution returns.

LocalStack 4.14.0 answers StopExecution as soon as it has flagged the execution, and the
execution's worker thread records the outcome later: for a few milliseconds (for as
long as the task's Lambda still runs, if it is stopped then) DescribeExecution says
RUNNING and the history has no ExecutionAborted yet; the stopDate it then reports is
the worker's clock, not the one StopExecution answered with; DescribeExecution never
carries the stop's `error` and `cause` (only the ExecutionAborted event does); and what
the worker does meanwhile (a TaskSubmitted once the Lambda returns, a Parallel state's
ParallelStateSucceeded) is recorded before ExecutionAborted.

On AWS a DescribeExecution after StopExecution has returned says ABORTED, with a
stopDate, and with the `error` and `cause` given to StopExecution (each omitted when not
given), and the history ends with ExecutionAborted. The API reference describes `error`
and `cause` only for a failed execution; AWS's answer for a stopped one, `["ABORTED",
"Manual", "probe"]` for a stop with `--error Manual --cause probe`, is recorded in
floci-io/floci issue #2734. This patch records status, stopDate, error and cause on the
execution, and the ExecutionAborted event in its history, before StopExecution answers
(ListExecutions sees them too); the worker keeps them when it finishes, and the history
takes nothing after its ending event.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from localstack_sfnlab_patches.import_hooks import when_imported

STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"
# The events that end an execution's history.
ENDINGS = frozenset(
    {"ExecutionAborted", "ExecutionFailed", "ExecutionSucceeded", "ExecutionTimedOut"}
)
# The id of the event an EventManager is dropping right now (set and read under its lock).
DROPPED = "_sfnlab_dropped_event_id"


def record_stop(execution: Any, stopped: Any) -> None:
    """Put a stopped program's outcome on its execution; the status last, so a reader that
    sees ABORTED sees the rest too."""
    from localstack.aws.api.stepfunctions import ExecutionStatus

    execution.stop_date = stopped.stop_date
    execution.error = stopped.error
    execution.cause = stopped.cause
    execution.exec_status = ExecutionStatus.ABORTED


def record_aborted_event(environment: Any, stopped: Any) -> None:
    """The ExecutionAborted event, as the worker would add it once its program unwinds."""
    from localstack.aws.api.stepfunctions import ExecutionAbortedEventDetails, HistoryEventType
    from localstack.services.stepfunctions.asl.eval.event.event_detail import EventDetails
    from localstack.services.stepfunctions.asl.eval.event.event_manager import (
        EventHistoryContext,
    )

    details = ExecutionAbortedEventDetails(error=stopped.error, cause=stopped.cause)
    environment.event_manager.add_event(
        context=EventHistoryContext.of_program_start(),
        event_type=HistoryEventType.ExecutionAborted,
        event_details=EventDetails(executionAbortedEventDetails=details),
    )


def patch_provider(module: ModuleType) -> None:
    from localstack.aws.api.stepfunctions import ExecutionStatus
    from localstack.services.stepfunctions.asl.eval.event.event_manager import EventManager
    from localstack.services.stepfunctions.asl.eval.program_state import ProgramStopped
    from localstack.services.stepfunctions.backend.execution import (
        BaseExecutionWorkerCommunication,
    )
    from localstack.utils.patch import Patch

    def stopped_program(execution: Any) -> Any | None:
        environment = getattr(execution.exec_worker, "env", None)
        state = environment.program_state() if environment is not None else None
        return state if isinstance(state, ProgramStopped) else None

    def aborted_on_return(original, self, context, execution_arn, *args, **kwargs):
        answer = original(self, context, execution_arn, *args, **kwargs)
        execution = self._get_execution(context=context, execution_arn=execution_arn)
        # Only a stop that took: an execution that had already ended keeps its outcome.
        stopped = stopped_program(execution)
        if stopped is not None and execution.exec_status == ExecutionStatus.RUNNING:
            record_aborted_event(execution.exec_worker.env, stopped)
            record_stop(execution, stopped)
        return answer

    def keep_the_stop(original, self):
        # The worker's own account of a stopped program: the same values, no new clock.
        stopped = stopped_program(self.execution)
        if stopped is None:
            return original(self)
        record_stop(self.execution, stopped)

    # Both run under the EventManager's lock, one after the other, for each event.
    def nothing_after_the_end(original, self, event_id, *args, **kwargs):
        events = self._history_event_list
        if events and events[-1]["type"] in ENDINGS:
            setattr(self, DROPPED, event_id)
            return None
        return original(self, event_id, *args, **kwargs)

    def no_log_of_a_dropped_event(original, self, event_id, *args, **kwargs):
        if getattr(self, DROPPED, None) == event_id:
            return None
        return original(self, event_id, *args, **kwargs)

    Patch.function(module.StepFunctionsProvider.stop_execution, aborted_on_return).apply()
    Patch.function(
        BaseExecutionWorkerCommunication._reflect_execution_status, keep_the_stop
    ).apply()
    Patch.function(EventManager._publish_history_event, nothing_after_the_end).apply()
    Patch.function(EventManager._publish_history_log, no_log_of_a_dropped_event).apply()


def apply() -> None:
    when_imported(STEP_FUNCTIONS_PROVIDER, patch_provider)
