"""A decision sent while the task's Lambda is still running is not lost.

A `lambda:invoke.waitForTaskToken` task hands its token to a Lambda; the exercise's
Lambda posts it to the reviewers, so a quick reviewer can approve before the Lambda has
returned. LocalStack 4.14.0 stores that decision, but for a task with HeartbeatSeconds it
only starts the heartbeat clock after the Lambda returns and then waits for the next
heartbeat or decision: the decision already stored is not seen, and the task fails with
States.HeartbeatTimeout once HeartbeatSeconds pass (an hour in the exercise). On AWS the
task completes with that decision. This patch lets the new heartbeat clock see a decision
that is already there; nothing else about heartbeats changes.
"""

from __future__ import annotations

from types import ModuleType

from localstack_sfnlab_patches.import_hooks import when_imported

CALLBACK_MODULE = "localstack.services.stepfunctions.asl.eval.callback.callback"


def patch_callbacks(module: ModuleType) -> None:
    from localstack.utils.patch import Patch

    def see_earlier_decision(original, self, heartbeat_seconds):
        clock = original(self, heartbeat_seconds)
        # The endpoint is in place before the outcome is read, and `notify` stores the
        # outcome before it looks for the endpoint: whichever comes second sees the other.
        if self.get_outcome() is not None:
            clock.notify()
        return clock

    Patch.function(module.CallbackEndpoint.setup_heartbeat_endpoint, see_earlier_decision).apply()


def apply() -> None:
    when_imported(CALLBACK_MODULE, patch_callbacks)
