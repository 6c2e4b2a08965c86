"""Registers the executor with LocalStack under the name `process`.

LocalStack loads this plugin when `LAMBDA_RUNTIME_EXECUTOR=process`; importing this module
stays cheap, the executor itself is imported only by `load()`, which also makes every
invocation take a turn under the executor's cap and has LocalStack pick warm environments
first (see capacity.py).
"""

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class ProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "process"

    def load(self, *args, **kwargs):
        from localstack_process_executor.capacity import install
        from localstack_process_executor.executor import ProcessRuntimeExecutor

        install()
        return ProcessRuntimeExecutor
