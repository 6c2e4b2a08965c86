"""A LocalStack Lambda runtime executor that runs each execution environment as a process.

LocalStack's Docker executor starts a container per execution environment; this one
starts a local process instead: `bootstrap.py` on a local Python for `pythonX.Y`, Node.js
on `nodejs/runtime.js` for `nodejsN.x` (with the Runtime API served by its keeper). The
process speaks the same executor-endpoint protocol as the init LocalStack puts into its
containers, so the rest of LocalStack's Lambda service (assignment, scaling, logs,
retries) works unchanged.

Stopping an environment ends its process's whole tree, so whatever the handler started
goes with it; a lifeline pipe makes every process exit when LocalStack does, even when
LocalStack is killed without a chance to stop them. How many environments live at once
is bounded (`capacity.py`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import logging
import signal
import threading
import time
from concurrent.futures import CancelledError, Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeoutError
from datetime import datetime, timezone
from pathlib import Path

from localstack import config as localstack_config
from localstack.aws.api.lambda_ import PackageType
from localstack.services.lambda_.invocation.executor_endpoint import (
    InvokeSendError,
    ShutdownDuringStartup,
    StatusErrorException,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

from localstack_process_executor import (
    config,
    environments,
    node_finder,
    nodejs_code,
    nodejs_sdk,
)
from localstack_process_executor.aws_sdk import compile_aws_sdk, ensure_aws_sdk_folder
from localstack_process_executor.capacity import SLOTS, Slot
from localstack_process_executor.endpoint import CurrentInvocationEndpoint
from localstack_process_executor.lambda_platform import SECRET_HEADER
from localstack_process_executor.runtime_process import (
    BOOTSTRAP,
    NODEJS_RUNTIME,
    SPARES,
    ProcessGone,
    RuntimeProcess,
    spawn,
)
from localstack_process_executor.runtimes import (
    RuntimeChoice,
    UnsupportedRuntimeError,
    choose_interpreter,
)

LOG = logging.getLogger(__name__)

LOCAL_ADDRESSES = {"0.0.0.0", "127.0.0.1", "localhost", "::", "::1", ""}
# AWS limits an on-demand environment's Init phase to 10 s.
INIT_SECONDS = 10


class NotDelivered(Exception):
    """The process ended before its runtime took the invocation."""


def executor_folder() -> Path:
    return Path(localstack_config.dirs.tmp) / "process-executor"


def processes_folder() -> Path:
    return executor_folder() / "processes"


def aws_sdk_folder() -> Path:
    return ensure_aws_sdk_folder(executor_folder() / "aws-sdk")


def nodejs_sdk_base() -> Path:
    if config.PROCESS_EXECUTOR_NODE_SDK_DIR:
        return Path(config.PROCESS_EXECUTOR_NODE_SDK_DIR)
    return Path(localstack_config.dirs.cache) / "process-executor" / "nodejs-aws-sdk"


def nodejs_code_folder() -> Path:
    return executor_folder() / "nodejs-code"


def nodejs_version_key(function_version: FunctionVersion) -> str:
    """A function version's configuration: a configuration change makes a new one, whose
    environments start while the old one's stop (and its code folder is removed)."""
    return f"{function_version.qualified_arn}#{function_version.config.revision_id}"


def sdk_for(choice: RuntimeChoice) -> Path:
    """The AWS SDK a function of this runtime sees (Node.js: installed on first use)."""
    if choice.language == "nodejs":
        return nodejs_sdk.ensure_nodejs_sdk(nodejs_sdk_base(), choice.interpreter)
    folder = aws_sdk_folder()
    compile_aws_sdk(folder, choice.interpreter)
    return folder


def exit_reason(returncode: int) -> str:
    """Describe an exit code the way AWS's runtime error messages do."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name.removeprefix("SIG").lower()
        except ValueError:
            name = str(-returncode)
        return f"Runtime exited with error: signal: {name}"
    if returncode == 0:
        return "Runtime exited without providing a reason"
    return f"Runtime exited with error: exit status {returncode}"


def utc_timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ProcessRuntimeExecutor(RuntimeExecutor):
    """One execution environment of one function version, run as a local process.

    LocalStack calls `start()`, `invoke()` and `stop()` from its own threads; a process's
    exit arrives on that process's reaper thread (`_exited`). `_lock` guards what they
    share: the current process and its slot, the invocation in progress, and whether the
    environment has been stopped.
    """

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = CurrentInvocationEndpoint(self.id, container_address="127.0.0.1")
        self.env_vars: dict[str, str] = {}
        self._lock = threading.Lock()
        self._process: RuntimeProcess | None = None
        self._slot: Slot | None = None
        self._stopped = False
        self._request_id: str | None = None
        self._timing_out: str | None = None  # the request being ended for its timeout
        self._init_again = False  # the Init took over 10 s: run it with the next invocation
        environments.register(self)

    @property
    def function_arn(self) -> str:
        return self.function_version.qualified_arn

    # Lifecycle ----------------------------------------------------------------------

    def start(self, env_vars: dict[str, str]) -> None:
        self.env_vars = {key: str(value) for key, value in env_vars.items()}
        self.executor_endpoint.start()
        # Within LocalStack's own limit on a start (LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT).
        self._launch(slot_wait=min(config.PROCESS_EXECUTOR_QUEUE_SECONDS, 5))
        if not self._wait_until_ready(INIT_SECONDS):
            # As on AWS: an Init phase over 10 s is abandoned, and run again with the first
            # invocation, within the function's timeout.
            LOG.info("Init of environment %s took over %d s; it runs again", self.id, INIT_SECONDS)
            with self._lock:
                self._init_again = True
                runtime_process = self._process
            runtime_process.terminate()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            runtime_process, slot = self._process, self._slot
        if runtime_process is not None:
            runtime_process.terminate()
        if slot is not None:
            SLOTS.release(slot)
        try:
            self.executor_endpoint.shutdown()
        except Exception as e:  # the endpoint may never have started
            LOG.debug("Error while shutting down endpoint of environment %s: %s", self.id, e)
        # Return once the process is gone and its folder removed (its reaper does that).
        if runtime_process is not None and not runtime_process.released.wait(timeout=10):
            LOG.warning("Runtime process %s of %s is slow to end", runtime_process.pid, self.id)

    def _launch(self, slot_wait: float = config.PROCESS_EXECUTOR_QUEUE_SECONDS) -> None:
        """Give this environment a fresh process (first start, or after a timeout/crash)."""
        choice = choose_interpreter(self.function_version.config.runtime)
        code = self.function_version.config.code
        code_dir = str(code.get_unzipped_code_location())
        sdk_dir = sdk_for(choice)
        module_scope = None
        startup = {}
        if choice.language == "nodejs":
            if not code.is_hot_reloading():  # hot-reloaded code stays where it is
                code_dir = str(self._nodejs_task_root(sdk_dir))
                module_scope = str(Path(code_dir).parent)
            startup = node_finder.startup_environment(self.env_vars)
        holder: list[RuntimeProcess] = []
        slot = SLOTS.acquire(
            lambda: holder[0].terminate() if holder else None,
            self.function_version.qualified_arn,
            slot_wait,
        )
        try:
            runtime_process = self._new_process(choice, sdk_dir, startup)
        except BaseException:
            SLOTS.release(slot)
            raise
        holder.append(runtime_process)
        if slot.state == "released":  # given up before the process was there to end
            runtime_process.terminate()
        if choice.note:
            with contextlib.suppress(OSError), runtime_process.log_path.open("a") as log:
                log.write(choice.note)
        runtime_dir = NODEJS_RUNTIME.parent if choice.language == "nodejs" else BOOTSTRAP.parent
        environment = {
            **runtime_process.base_environment(),
            **self.env_vars,
            # Reserved variables, with this machine's paths in place of the container's.
            "LAMBDA_TASK_ROOT": code_dir,
            "LAMBDA_RUNTIME_DIR": str(runtime_dir),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{self.function_version.config.runtime}",
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{runtime_process.port}",
        }
        with self._lock:
            stopped = self._stopped
            if not stopped:
                self._process, self._slot = runtime_process, slot
        runtime_process.on_exit(lambda process, code: self._exited(process, code, slot))
        if stopped:  # stop() came first: this process must not outlive the environment
            runtime_process.terminate()
            raise ShutdownDuringStartup(f"Environment {self.id} was stopped while starting")
        self.executor_endpoint.container_port = runtime_process.port
        try:
            runtime_process.assign(
                environment, code_dir, module_scope, secret=self.executor_endpoint.secret
            )
        except ProcessGone as e:
            LOG.debug("%s", e)  # its exit is reported as the start-up's failure (_exited)
        LOG.debug(
            "Environment %s of %s runs as process %s on %s %s",
            self.id,
            self.function_version.qualified_arn,
            runtime_process.pid,
            choice.language,
            choice.interpreter.version_text,
        )

    def _new_process(
        self, choice: RuntimeChoice, sdk_dir: Path, startup: dict[str, str]
    ) -> RuntimeProcess:
        """A process started ahead of need, or one started for this function when it sets
        variables its runtime reads only as it starts (Node.js: NODE_OPTIONS...)."""
        if not startup:
            return SPARES.take(choice.interpreter, processes_folder(), sdk_dir)
        major = node_finder.wanted_major(choice.runtime)
        options = node_finder.options_for(
            major, choice.interpreter.path, startup, sandboxed=bool(config.PROCESS_EXECUTOR_SANDBOX)
        )
        interpreter = dataclasses.replace(choice.interpreter, options=options)
        return spawn(interpreter, processes_folder(), sdk_dir, startup)

    def _nodejs_task_root(self, sdk_dir: Path) -> Path:
        code_dir = self.function_version.config.code.get_unzipped_code_location()
        return nodejs_code.stage(
            nodejs_code_folder(), nodejs_version_key(self.function_version), code_dir, sdk_dir
        )

    def _wait_until_ready(self, seconds: float) -> bool:
        """Wait for the process to report ready; False if it has not within `seconds`.
        An init error raises StatusErrorException, as LocalStack expects."""
        try:
            self.executor_endpoint.startup_future.result(timeout=seconds)
        except FutureTimeoutError:
            return False
        except CancelledError as e:  # stopped meanwhile
            raise ShutdownDuringStartup(f"Environment {self.id} stopped while starting") from e
        return True

    def _relaunch(self, seconds: float) -> bool:
        """A fresh process for this environment; False if it was not ready within `seconds`
        (it is left running, for its log to be read)."""
        LOG.debug("Environment %s needs a fresh process", self.id)
        self.executor_endpoint.startup_future = Future()
        self._launch()
        return self._wait_until_ready(seconds)

    def _prepare(self, request_id: str, timeout: float) -> float | InvocationResult:
        """A ready process for an invocation that has none: how much of `timeout` is left
        for the handler, or the timeout's result if the Init used it all up."""
        with self._lock:
            init_again = self._init_again
        if not init_again:
            if self._relaunch(INIT_SECONDS):
                return timeout
            self._current_process().terminate()  # an Init over 10 s is abandoned
        # ... and run again within the invocation, bounded by the function's timeout.
        started = time.monotonic()
        if self._relaunch(timeout):
            with self._lock:
                self._init_again = False
            return max(0.0, timeout - (time.monotonic() - started))
        runtime_process = self._current_process()
        logs = runtime_process.new_log()
        runtime_process.terminate()
        with self._lock:
            self._init_again = True
        return self._timeout_result(request_id, logs)

    def warm(self) -> bool:
        """Whether this environment has a live process waiting for an invocation."""
        with self._lock:
            runtime_process, slot = self._process, self._slot
        return (
            runtime_process is not None
            and slot is not None
            and slot.state == "idle"
            and runtime_process.alive()
        )

    def _current_process(self) -> RuntimeProcess:
        with self._lock:
            return self._process

    def _exited(self, runtime_process: RuntimeProcess, returncode: int, slot: Slot) -> None:
        """On the process's reaper thread: free its slot, and report an exit nobody asked
        for (Runtime.ExitError), or the timeout that ended it, to whoever waits."""
        SLOTS.release(slot)
        with self._lock:
            if self._stopped or runtime_process is not self._process:
                return
            request_id, timing_out = self._request_id, self._timing_out
        endpoint = self.executor_endpoint
        if timing_out is not None:
            self._report_timeout(runtime_process, timing_out)
            return
        if runtime_process.terminated:
            return  # given up while idle: nothing was waiting for it
        reason = exit_reason(returncode)
        LOG.debug("Process %s of environment %s exited: %s", runtime_process.pid, self.id, reason)
        error = {
            "errorType": "Runtime.ExitError",
            "errorMessage": (f"RequestId: {request_id or ''} Error: {reason}"),
        }
        if endpoint.startup_future is not None and not endpoint.startup_future.done():
            payload = json.dumps(error).encode()
            with contextlib.suppress(InvalidStateError):  # a report from the process won
                endpoint.startup_future.set_exception(
                    StatusErrorException("Environment startup failed", payload=payload)
                )
            return
        future = endpoint.invocation_future
        if request_id and future is not None and not future.done():
            logs = runtime_process.new_log()
            if f"START RequestId: {request_id}" not in logs:  # its runtime never took it
                with contextlib.suppress(InvalidStateError):
                    future.set_exception(NotDelivered(reason))
                return
            logs += f"{error['errorMessage']}\nRuntime.ExitError\n" + self._end_lines(
                request_id, None
            )
            with contextlib.suppress(InvalidStateError):
                future.set_result(
                    InvocationResult(request_id, json.dumps(error).encode(), True, logs)
                )

    # Invocations --------------------------------------------------------------------

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        with self._lock:
            runtime_process, slot = self._process, self._slot
        fresh = (
            runtime_process is not None
            and slot is not None
            and runtime_process.alive()
            and SLOTS.claim(slot)
        )
        request_id = payload["invoke-id"]
        timeout: float = self.function_version.config.timeout
        # A warm process may be on its way out when the invocation comes (its handler
        # crashed after answering, say): the invocation then goes to a fresh one, as on
        # AWS, where the runtime takes no invocation it has not asked for.
        retry = fresh
        while True:
            if not fresh:
                prepared = self._prepare(request_id, timeout)
                if isinstance(prepared, InvocationResult):
                    return prepared
                timeout = prepared
                with self._lock:
                    runtime_process, slot = self._process, self._slot
            try:
                return self._deliver(payload, runtime_process, slot, timeout)
            except NotDelivered as e:
                if not retry:
                    raise InvokeSendError(f"Environment {self.id} ended: {e}") from e
                LOG.debug("Invocation %s goes to a fresh process: %s", request_id, e)
                retry = fresh = False

    def _deliver(
        self, payload: dict[str, str], runtime_process: RuntimeProcess, slot: Slot, timeout: float
    ) -> InvocationResult:
        """Send the invocation to `runtime_process` and wait for its result; NotDelivered
        if the process ended before its runtime took it."""
        request_id = payload["invoke-id"]
        future: Future[InvocationResult] = Future()
        self.executor_endpoint.invocation_future = future
        self.executor_endpoint.logs = None
        self.executor_endpoint.request_id = request_id
        with self._lock:
            self._request_id = request_id
        try:
            try:
                self._send(payload)
            except InvokeSendError as e:
                if runtime_process.exited.wait(timeout=5):
                    raise NotDelivered(str(e)) from e
                raise
            try:
                result = future.result(timeout=timeout)
            except FutureTimeoutError:
                result = self._time_out(runtime_process, future, request_id)
            runtime_process.skip_log()
            return result
        finally:
            with self._lock:
                self._request_id = None
                self._timing_out = None
            SLOTS.idle(slot)

    def _send(self, payload: dict[str, str]) -> None:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.executor_endpoint.container_port, timeout=30
        )
        try:
            headers = {
                "Content-Type": "application/json",
                SECRET_HEADER: self.executor_endpoint.secret,
            }
            connection.request("POST", "/invoke", json.dumps(payload), headers)
            status = connection.getresponse().status
        except OSError as e:
            raise InvokeSendError(
                f"Could not send the invocation to environment {self.id}: {e}"
            ) from e
        finally:
            connection.close()
        if status != 200:
            raise InvokeSendError(f"Environment {self.id} refused the invocation ({status})")

    def _time_out(
        self,
        runtime_process: RuntimeProcess,
        future: Future[InvocationResult],
        request_id: str,
    ) -> InvocationResult:
        """Stop a handler that ran past its timeout: end its processes; the reaper reports
        the timeout as AWS does (`_report_timeout`), once the process's last words are in
        its log."""
        with self._lock:
            self._timing_out = request_id
        runtime_process.terminate()
        try:
            return future.result(timeout=10)
        except FutureTimeoutError:
            LOG.warning("Runtime process %s did not end after its timeout", runtime_process.pid)
            self._report_timeout(runtime_process, request_id)
            return future.result()

    def _report_timeout(self, runtime_process: RuntimeProcess, request_id: str) -> None:
        result = self._timeout_result(request_id, runtime_process.new_log())
        # The response may have won the race against the kill: then it stands.
        with contextlib.suppress(InvalidStateError):
            self.executor_endpoint.invocation_future.set_result(result)

    def _timeout_result(self, request_id: str, logs: str) -> InvocationResult:
        """What AWS reports for an invocation that ran out of time (with what was logged)."""
        configured = self.function_version.config.timeout
        message = f"Task timed out after {configured:.2f} seconds"
        logs += f"{utc_timestamp()} {request_id} {message}\n" + self._end_lines(
            request_id, configured * 1000, status="timeout"
        )
        error = {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: {message}",
        }
        return InvocationResult(request_id, json.dumps(error).encode(), True, logs)

    def _end_lines(self, request_id: str, duration_ms: float | None, status: str = "error") -> str:
        memory = self.function_version.config.memory_size
        report = f"REPORT RequestId: {request_id}"
        if duration_ms is not None:
            report += f"\tDuration: {duration_ms:.2f} ms\tBilled Duration: {int(duration_ms)} ms"
        report += f"\tMemory Size: {memory} MB\tStatus: {status}"
        return f"END RequestId: {request_id}\n{report}\n"

    @property
    def log_path(self) -> Path | None:
        return self._process.log_path if self._process else None

    # Addresses and preparation --------------------------------------------------------

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        host = localstack_config.GATEWAY_LISTEN[0].host
        return "127.0.0.1" if host in LOCAL_ADDRESSES else host

    def get_runtime_endpoint(self) -> str:
        port = localstack_config.GATEWAY_LISTEN[0].port
        prefix = self.executor_endpoint.get_endpoint_prefix()
        return f"http://{self.get_endpoint_from_executor()}:{port}{prefix}"

    def get_logs(self) -> str:
        runtime_process = self._process
        return runtime_process.whole_log() if runtime_process else ""

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.package_type != PackageType.Zip:
            raise LambdaRuntimeException(
                "The process executor runs .zip functions only; container images need Docker."
            )
        try:
            choice = choose_interpreter(function_version.config.runtime)
            sdk_dir = sdk_for(choice)  # Node.js: installed now, on first use
        except (UnsupportedRuntimeError, nodejs_sdk.SdkInstallError) as e:
            raise LambdaRuntimeException(str(e)) from e
        code = function_version.config.code
        code.prepare_for_execution()
        if choice.language == "nodejs" and not code.is_hot_reloading():
            nodejs_code.stage(
                nodejs_code_folder(),
                nodejs_version_key(function_version),
                code.get_unzipped_code_location(),
                sdk_dir,
            )
        # Have a process loaded and waiting before the first invocation arrives.
        SPARES.refill(choice.interpreter, processes_folder(), sdk_dir)

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        # Environments clean up after themselves in stop(); a Node.js version's code is ours.
        if (function_version.config.runtime or "").startswith("nodejs"):
            nodejs_code.remove(
                nodejs_code_folder(),
                nodejs_version_key(function_version),
                function_version.config.code.get_unzipped_code_location(),
            )

    @classmethod
    def validate_environment(cls) -> bool:
        return True
