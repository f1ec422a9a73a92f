"""Runs the synthesized state machine under moto: Lambda tasks call the real handlers
in-process, and Wait states, task timeouts and retry back-off follow a clock the caller
controls.

The patches reach into moto 5.2.5's Step Functions interpreter (moto is pinned exactly in
pyproject.toml); re-check every patch point when upgrading moto.
"""

from __future__ import annotations

import functools
import importlib
import io
import json
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, Protocol, TypeVar
from unittest import mock

import boto3
from moto.awslambda.models import LambdaFunction
from moto.core import DEFAULT_ACCOUNT_ID
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackEndpoint,
    CallbackOutcome,
    CallbackOutcomeTimedOut,
    HeartbeatEndpoint,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.parser.utils import TMP_THREADS

from .gateway import LambdaContext
from .template import resources

# Longest real time a sleeper goes without re-checking the clock and its interruption. A
# ManualClock cannot wake a thread blocked on someone else's event, and moto signals a stop
# by pulsing an event (set, then clear at once), which a thread between two waits misses.
_POLL_SECONDS = 0.01
# A scaled clock moves by itself (and jumps only when told to): a sleeper looks again this
# often, so hundreds of waiting executions do not keep two cores busy polling.
_SCALED_POLL_SECONDS = 0.25


class Interruption(Protocol):
    """What a sleeper watches; a threading.Event is one. Sleeping ends once `is_set()`;
    `wait(timeout)` blocks at most `timeout` real seconds, returning early when it may be set."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float) -> object: ...


@dataclass(frozen=True)
class _Watch:
    is_set: Callable[[], bool]
    wait: Callable[[float], object]


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep_until(self, deadline: datetime, interrupted: Interruption) -> None: ...

    def pause(self, seconds: float) -> None: ...


class ManualClock:
    """Virtual time that moves only when told to, so a test decides when each timer fires.
    Sleepers notice an advance within _POLL_SECONDS of real time."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)
        self._lock = threading.Lock()
        self._deadlines: list[datetime] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance_to(self, t: datetime) -> None:
        """Never goes back: an instant already past is ignored."""
        t = _aware(t)
        with self._lock:
            self._now = max(self._now, t)

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError(f"a clock cannot go back: {delta}")
        with self._lock:
            self._now += delta

    def sleep_until(self, deadline: datetime, interrupted: Interruption) -> None:
        with self._lock:
            self._deadlines.append(deadline)
        try:
            while not interrupted.is_set() and self.now() < deadline:
                interrupted.wait(_POLL_SECONDS)
        finally:
            with self._lock:
                self._deadlines.remove(deadline)

    def pause(self, seconds: float) -> None:
        """A retry's back-off: time passes at once instead of blocking the interpreter."""
        self.advance(timedelta(seconds=seconds))

    def deadlines(self) -> list[datetime]:
        """The instants threads are sleeping until, earliest first. Every running Task, Map
        or Parallel state counts: its TimeoutSeconds (99999999 s when unset) is one too."""
        with self._lock:
            return sorted(self._deadlines)

    def next_deadline(self) -> datetime | None:
        return next(iter(self.deadlines()), None)


class ScaledClock:
    """Virtual time that runs `factor` times as fast as real time (60: an hour a minute)."""

    def __init__(self, factor: float = 1.0, start: datetime | None = None) -> None:
        if factor <= 0:
            raise ValueError(f"factor must be positive, not {factor}")
        self.factor = factor
        self._start = datetime.now(UTC) if start is None else _aware(start)
        self._real_start = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._real_start) * self.factor)

    def sleep_until(self, deadline: datetime, interrupted: Interruption) -> None:
        while not interrupted.is_set():
            real_seconds = (deadline - self.now()).total_seconds() / self.factor
            if real_seconds <= 0:
                return
            interrupted.wait(min(real_seconds, _SCALED_POLL_SECONDS))

    def pause(self, seconds: float) -> None:
        time.sleep(seconds / self.factor)

    def advance(self, delta: timedelta) -> None:
        """Jumps ahead (a demo or a browser test skipping an observation window); sleepers
        notice within _POLL_SECONDS."""
        if delta < timedelta(0):
            raise ValueError(f"a clock cannot go back: {delta}")
        self._start += delta


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError(f"clock times must be timezone-aware: {t!r}")
    return t.astimezone(UTC)


# --- Virtual time in moto's interpreter -------------------------------------------------

_clock: Clock | None = None
_time_patches: ExitStack | None = None
_real_wait_for_task_token = StateTaskServiceCallback._eval_wait_for_task_token
_real_evaluate_with_timeout = ExecutionState._evaluate_with_timeout
_real_worker_stop = ExecutionWorker.stop

C = TypeVar("C", bound=Clock)


def current_clock() -> Clock:
    if _clock is None:
        raise RuntimeError("no clock is installed: call local.stepfunctions.install(clock) first")
    return _clock


def install(clock: Clock) -> None:
    """Makes every execution's timers follow `clock`. Stop the executions (stop_all) before
    uninstalling: a running interpreter thread would find no clock."""
    global _clock, _time_patches
    if _time_patches is not None:
        raise RuntimeError("virtual time is already installed")
    patches = ExitStack()
    patches.enter_context(mock.patch.object(WaitFunction, "_wait_interval", _wait_interval))
    patches.enter_context(mock.patch.object(Timestamp, "_get_wait_seconds", _timestamp_wait_seconds))
    patches.enter_context(
        mock.patch.object(StateTaskServiceCallback, "_eval_wait_for_task_token", _wait_for_task_token)
    )
    # ExecutionState._evaluate_with_timeout runs the state on a worker thread and waits
    # TimeoutSeconds of real time for it: that would end a virtual wait that outlasts the
    # real one. It is the only user of `threading` in that module.
    patches.enter_context(mock.patch.object(execute_state, "threading", SimpleNamespace(Event=_ClockedEvent)))
    patches.enter_context(mock.patch.object(ExecutionState, "_evaluate_with_timeout", _quiet_after_stop))
    patches.enter_context(mock.patch.object(ExecutionWorker, "stop", _stop_once_started))
    # The retrier's back-off, its only use of `time`.
    patches.enter_context(
        mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=lambda s: current_clock().pause(s)))
    )
    _clock, _time_patches = clock, patches


def uninstall() -> None:
    global _clock, _time_patches
    if _time_patches is not None:
        _time_patches.close()
    _clock = _time_patches = None


@contextmanager
def virtual_time(clock: C) -> Iterator[C]:
    install(clock)
    try:
        yield clock
    finally:
        uninstall()


def _until_stopped(env: Environment) -> _Watch:
    # moto stops an execution by clearing is_running() and pulsing program_state_event.
    return _Watch(is_set=lambda: not env.is_running(), wait=env.program_state_event.wait)


def _wait_interval(self: WaitFunction, env: Environment, wait_seconds: float) -> None:
    clock = current_clock()
    clock.sleep_until(clock.now() + timedelta(seconds=wait_seconds), _until_stopped(env))


def _timestamp_wait_seconds(self: Timestamp, env: Environment) -> float:
    # moto's version counts from the naive local datetime.now(); ASL timestamps are UTC.
    self.string.eval(env=env)
    timestamp_str: str = env.stack.pop()
    timestamp = self._from_timestamp_string(timestamp=timestamp_str)
    if timestamp is None:
        raise FailureEventException(self._create_failure_event(env, timestamp_str))
    return (timestamp.replace(tzinfo=UTC) - current_clock().now()).total_seconds()


def _wait_for_task_token(
    self: StateTaskServiceCallback,
    env: Environment,
    timeout_seconds: int,
    callback_endpoint: CallbackEndpoint,
    heartbeat_endpoint: HeartbeatEndpoint | None,
) -> CallbackOutcome:
    """A `.waitForTaskToken` task's wait, with TimeoutSeconds counted on the clock. It also
    ends when the execution stops: moto's own wait would keep its thread until the timeout."""
    if heartbeat_endpoint is not None:  # HeartbeatSeconds still count in real time.
        return _real_wait_for_task_token(self, env, timeout_seconds, callback_endpoint, heartbeat_endpoint)
    clock = current_clock()
    # A callback or moto's interrupt_all() sets the endpoint's (private) event.
    notified = callback_endpoint._notify_event
    answered = _Watch(is_set=lambda: notified.is_set() or not env.is_running(), wait=notified.wait)
    # As in AWS, TimeoutSeconds count from the task's start, not from the end of its invocation:
    # a test that moves the clock once the invoked step has stored its token must not outrun it.
    started = _task_started.get(id(self)) or clock.now()
    clock.sleep_until(started + timedelta(seconds=timeout_seconds), answered)
    outcome = callback_endpoint.get_outcome()
    return outcome or CallbackOutcomeTimedOut(callback_id=callback_endpoint.callback_id)


# When each running state began, on the clock (by the state's identity: a state runs once at a time).
_task_started: dict[int, datetime] = {}


def _quiet_after_stop(self: ExecutionState, env: Environment) -> None:
    """A state that fails once its execution no longer runs (stopped, or its frame ended by
    an enclosing state's timeout) ends quietly, as a stopped Wait state does. A stop makes the
    callback wait above return a timeout; moto would record it as the task's failure and turn
    the ABORTED execution FAILED (Environment.set_error overrides a stop)."""
    _task_started[id(self)] = current_clock().now()
    try:
        _real_evaluate_with_timeout(self, env)
    except Exception:
        if env.is_running():
            raise
    finally:
        _task_started.pop(id(self), None)


def _stop_once_started(self: ExecutionWorker, stop_date: datetime, error: str | None, cause: str | None) -> None:
    """moto's worker creates its environment on its own thread after parsing the definition,
    and the program marks itself running later still; a stop before that (a cancel right
    after booking) fails, or is silently ignored and the execution runs on. Wait until the
    program has a state: parsing can take seconds on a loaded machine."""
    deadline = time.monotonic() + 30
    while not _program_started(self) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
    _real_worker_stop(self, stop_date, error, cause)


def _program_started(worker: ExecutionWorker) -> bool:
    env = getattr(worker, "env", None)
    return env is not None and env._program_state is not None  # moto's: None until the program runs


class _ClockedEvent(threading.Event):
    """An Event whose wait(timeout) counts the timeout on the installed clock."""

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is None:
            return super().wait()
        clock = current_clock()
        clock.sleep_until(clock.now() + timedelta(seconds=timeout), _Watch(self.is_set, super().wait))
        return self.is_set()


# --- Lambda functions in-process ---------------------------------------------------------

Handler = Callable[[Any, Any], Any]
_lambda_patches: ExitStack | None = None


def import_handler(handler: str) -> Handler:
    """`package.module.function`, imported from sys.path (functions/ is on it in tests)."""
    module, _, name = handler.rpartition(".")
    function: Handler = getattr(importlib.import_module(module), name)
    return function


def install_lambda_handlers(resolve: Callable[[str], Handler] = import_handler) -> None:
    """Invoking a function in moto calls `resolve(handler)` on this process's environment
    instead of running a container. Executions call from several threads (Map, Parallel):
    handlers must not rely on per-call global state."""
    global _lambda_patches
    if _lambda_patches is not None:
        raise RuntimeError("Lambda handlers are already installed")

    def invoke(
        function: LambdaFunction, body: str | bytes, request_headers: Any, response_headers: Any
    ) -> bytes:
        event = json.loads(body) if body else {}
        context = LambdaContext(
            function_name=function.function_name,
            invoked_function_arn=function.function_arn,
            memory_limit_in_mb=function.memory_size,
        )
        try:
            result = resolve(function.handler)(event, context)
        except Exception as exc:  # noqa: BLE001 - Lambda reports any exception the handler lets out
            # In the payload Lambda gives; Step Functions matches Retry and Catch to errorType.
            response_headers["x-amz-function-error"] = "Unhandled"
            result = {"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": []}
        return json.dumps(result).encode()

    patches = ExitStack()
    patches.enter_context(mock.patch.object(LambdaFunction, "invoke", invoke))
    _lambda_patches = patches


def uninstall_lambda_handlers() -> None:
    global _lambda_patches
    if _lambda_patches is not None:
        _lambda_patches.close()
    _lambda_patches = None


@contextmanager
def in_process_lambdas(resolve: Callable[[str], Handler] = import_handler) -> Iterator[None]:
    install_lambda_handlers(resolve)
    try:
        yield
    finally:
        uninstall_lambda_handlers()


# --- Deploying the template's functions and state machine into moto ----------------------


def resolve_intrinsics(value: Any, refs: Mapping[str, str]) -> Any:
    """Evaluates the intrinsic functions CDK emits for references: Ref, Fn::GetAtt Arn and
    Fn::Join, nested anywhere in `value`. `refs` maps a logical id to what stands in for the
    resource locally; Ref and Fn::GetAtt Arn both resolve to it, so give ARNs for resources
    referenced by ARN. The pseudo parameters resolve to moto's account and the region."""
    if isinstance(value, list):
        return [resolve_intrinsics(item, refs) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return _lookup(argument, refs)
        if key == "Fn::GetAtt":
            logical_id, attribute = argument
            if attribute != "Arn":
                raise ValueError(f"Fn::GetAtt {logical_id}.{attribute} is not supported locally")
            return _lookup(logical_id, refs)
        if key == "Fn::Join":
            separator, parts = argument
            return separator.join(resolve_intrinsics(parts, refs))
        if key.startswith("Fn::"):
            raise ValueError(f"{key} is not supported locally")
    return {key: resolve_intrinsics(item, refs) for key, item in value.items()}


_PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::AccountId": DEFAULT_ACCOUNT_ID,
    "AWS::URLSuffix": "amazonaws.com",
}


def _lookup(logical_id: str, refs: Mapping[str, str]) -> str:
    if logical_id in refs:
        return refs[logical_id]
    if logical_id == "AWS::Region":
        region: str | None = boto3.session.Session().region_name
        if region is None:
            raise RuntimeError("no AWS region configured (set AWS_DEFAULT_REGION)")
        return region
    if logical_id in _PSEUDO_PARAMETERS:
        return _PSEUDO_PARAMETERS[logical_id]
    raise KeyError(f"no local stand-in for {logical_id!r}; known: {sorted(refs)}")


def create_functions(template: dict[str, Any], physical_names: Mapping[str, str]) -> dict[str, str]:
    """Creates each Lambda function of the template in moto, with the template's handler,
    runtime and environment (references resolved through `physical_names`) and a dummy
    package: install_lambda_handlers runs the code. Returns logical id -> function ARN (for
    functions and their aliases)."""
    client = boto3.client("lambda")
    role = _role_arn("local-lambda", "lambda.amazonaws.com")
    arns: dict[str, str] = {}
    for logical_id, resource in resources(template, "AWS::Lambda::Function").items():
        props = resource["Properties"]
        variables = props.get("Environment", {}).get("Variables", {})
        created = client.create_function(
            FunctionName=resolve_intrinsics(props.get("FunctionName", f"local-{logical_id}"), physical_names),
            Runtime=props["Runtime"],
            Handler=props["Handler"],
            Role=role,
            Code={"ZipFile": _empty_package()},
            Environment={"Variables": resolve_intrinsics(variables, physical_names)},
        )
        arns[logical_id] = created["FunctionArn"]
    # Locally an alias is its function: there are no published versions to snapshot.
    for logical_id, resource in resources(template, "AWS::Lambda::Alias").items():
        arns[logical_id] = arns[resource["Properties"]["FunctionName"]["Ref"]]
    return arns


@functools.cache
def _validated(definition: str) -> None:
    """moto validates a definition by parsing it, about half a second for this machine; a
    definition valid once is valid again (a refused one raises, and is not remembered)."""
    StepFunctionsParserBackend._validate_definition(definition=definition)


def create_state_machine(template: dict[str, Any], refs: Mapping[str, str]) -> str:
    """Creates the template's one state machine in moto from its synthesized definition,
    references resolved through `refs` (see resolve_intrinsics). Returns its ARN."""
    machines = resources(template, "AWS::StepFunctions::StateMachine")
    if len(machines) != 1:
        raise LookupError(
            f"expected one AWS::StepFunctions::StateMachine in the template, found {len(machines)}"
        )
    ((logical_id, resource),) = machines.items()
    props = resource["Properties"]
    definition = resolve_intrinsics(props["DefinitionString"], refs)
    _validated(definition)
    with mock.patch.object(StepFunctionsParserBackend, "_validate_definition"):
        created = boto3.client("stepfunctions").create_state_machine(
            name=resolve_intrinsics(props.get("StateMachineName", f"local-{logical_id}"), refs),
            definition=definition,
            roleArn=_role_arn("local-states", "states.amazonaws.com"),
            type=props.get("StateMachineType", "STANDARD"),
        )
    arn: str = created["stateMachineArn"]
    return arn


def _role_arn(name: str, service: str) -> str:
    iam = boto3.client("iam")
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _empty_package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("README", "The code runs in-process: see local/stepfunctions.py.")
    return buffer.getvalue()


# --- Teardown ----------------------------------------------------------------------------


def stop_all(sfn: Any, timeout: float = 5.0, rounds: int = 2) -> None:
    """Stops every running execution and joins moto's interpreter threads, which would
    otherwise outlive the test (and mock_aws) that started them. A second round stops what
    a stop racing the execution's start (on a loaded machine) left running."""
    for _ in range(rounds):
        _stop_running(sfn)
        deadline = time.monotonic() + timeout
        # A thread may start another while stopping (a Map its iterations): join until none is left.
        while TMP_THREADS and time.monotonic() < deadline:
            for thread in list(TMP_THREADS):
                thread.join(max(0.0, deadline - time.monotonic()))
                if not thread.is_alive():
                    TMP_THREADS.remove(thread)
        if not TMP_THREADS:
            return
    alive = [thread.name for thread in TMP_THREADS if thread.is_alive()]
    if alive:
        raise RuntimeError(f"interpreter threads still running {timeout}s after stopping: {alive}")


def _stop_running(sfn: Any) -> None:
    for machines in sfn.get_paginator("list_state_machines").paginate():
        for machine in machines["stateMachines"]:
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"
            )
            for page in pages:
                for execution in page["executions"]:
                    sfn.stop_execution(executionArn=execution["executionArn"])
