"""Registers the executor with LocalStack under the name `process`.

LocalStack loads this plugin when `LAMBDA_RUNTIME_EXECUTOR=process`; importing this module
stays cheap, the executor itself is imported only by `load()`.
"""

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class ProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "process"

    def load(self, *args, **kwargs):
        from localstack_process_executor.executor import ProcessRuntimeExecutor

        return ProcessRuntimeExecutor
