"""The harness runs a state machine taken from a template under moto: Lambda tasks call the
handler in-process, and timers follow a ManualClock the test moves."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.parser.utils import TMP_THREADS

from local.stepfunctions import (
    ManualClock,
    ScaledClock,
    create_functions,
    create_state_machine,
    in_process_lambdas,
    resolve_intrinsics,
    stop_all,
    virtual_time,
)
from tests.support.timing import eventually
from tests.workflow import toy_handler

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
# Placeholders in the toy definitions, turned into the intrinsics CDK emits.
TOY = "@TOY@"
INVOKE = "arn:@PARTITION@:states:::lambda:invoke"
_INTRINSICS = {TOY: {"Fn::GetAtt": ["ToyFunction", "Arn"]}, "@PARTITION@": {"Ref": "AWS::Partition"}}


def toy_template(definition: dict[str, Any]) -> dict[str, Any]:
    """One function and a state machine whose definition is an Fn::Join, as CDK synthesizes it."""
    pieces = re.split(f"({'|'.join(_INTRINSICS)})", json.dumps(definition))
    return {
        "Resources": {
            "ToyFunction": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Handler": "tests.workflow.toy_handler.handle",
                    "Runtime": "python3.13",
                    "Environment": {"Variables": {"TABLE_NAME": {"Ref": "Table"}}},
                },
            },
            "Workflow": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": "toy-workflow",
                    "DefinitionString": {"Fn::Join": ["", [_INTRINSICS.get(p, p) for p in pieces]]},
                },
            },
        }
    }


def invoke(action: str, **payload: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": INVOKE,
        "Parameters": {"FunctionName": TOY, "Payload": {"action": action, **payload}},
        "OutputPath": "$.Payload",
    }


def call(action: str, **payload: Any) -> dict[str, Any]:
    """A task with the function's ARN as its resource: what CDK emits for payload_response_only."""
    return {"Type": "Task", "Resource": TOY, "Parameters": {"action": action, **payload}}


def park(**fields: Any) -> dict[str, Any]:
    """A task that hands its token to the test and waits for the answer."""
    return {
        "Type": "Task",
        "Resource": f"{INVOKE}.waitForTaskToken",
        "Parameters": {"FunctionName": TOY, "Payload": {"action": "park", "token.$": "$$.Task.Token"}},
        **fields,
    }


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sfn(clock: ManualClock) -> Iterator[Any]:
    toy_handler.reset()
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        virtual_time(clock),
        in_process_lambdas(),
    ):
        client = boto3.client("stepfunctions")
        try:
            yield client
        finally:
            stop_all(client)


def deploy(definition: dict[str, Any]) -> str:
    template = toy_template(definition)
    return create_state_machine(template, create_functions(template, {"Table": "local-table"}))


def start(sfn: Any, definition: dict[str, Any], payload: Any = None) -> str:
    execution = sfn.start_execution(
        stateMachineArn=deploy(definition), name="run", input=json.dumps(payload or {})
    )
    arn: str = execution["executionArn"]
    return arn


def finished(sfn: Any, execution: str) -> dict[str, Any]:
    return eventually(
        lambda: (d := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d
    )


def still_running(sfn: Any, execution: str) -> bool:
    time.sleep(0.1)  # long enough for a woken timer to move the execution on
    return bool(sfn.describe_execution(executionArn=execution)["status"] == "RUNNING")


def events(sfn: Any, execution: str) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = sfn.get_execution_history(executionArn=execution)["events"]
    return history


def event_types(sfn: Any, execution: str) -> list[str]:
    return [event["type"] for event in events(sfn, execution)]


def output(description: dict[str, Any]) -> Any:
    assert description["status"] == "SUCCEEDED", description
    return json.loads(description["output"])


# --- Deploying from the template ---------------------------------------------------------


def test_the_template_deploys_with_its_handler_environment_and_resolved_definition(sfn: Any) -> None:
    # Given a template with one function and a state machine that references it
    template = toy_template({"StartAt": "Now", "States": {"Now": {**invoke("now"), "End": True}}})

    # When both are created in moto
    functions = create_functions(template, {"Table": "local-table"})
    machine = create_state_machine(template, functions)

    # Then the function has the template's handler and resolved environment
    configuration = boto3.client("lambda").get_function_configuration(FunctionName=functions["ToyFunction"])
    assert configuration["Handler"] == "tests.workflow.toy_handler.handle"
    assert configuration["Environment"]["Variables"] == {"TABLE_NAME": "local-table"}
    # And the state machine has the template's name and references the function's ARN
    described = sfn.describe_state_machine(stateMachineArn=machine)
    assert described["name"] == "toy-workflow"
    state = json.loads(described["definition"])["States"]["Now"]
    assert state["Resource"] == "arn:aws:states:::lambda:invoke"
    assert state["Parameters"]["FunctionName"] == functions["ToyFunction"]


def test_a_template_without_a_state_machine_is_refused() -> None:
    template = {"Resources": {}}
    with pytest.raises(LookupError, match="found 0"):
        create_state_machine(template, {})


def test_intrinsics_resolve_references_joins_and_pseudo_parameters() -> None:
    refs = {"Topic": "topic-name", "Fn": "function-arn"}
    joined = {
        "Fn::Join": [
            ":",
            [
                "arn",
                {"Ref": "AWS::Partition"},
                {"Ref": "AWS::Region"},
                {"Ref": "AWS::AccountId"},
                {"Ref": "Topic"},
            ],
        ]
    }

    assert resolve_intrinsics(joined, refs) == "arn:aws:us-east-1:123456789012:topic-name"
    assert resolve_intrinsics({"nested": [{"Fn::GetAtt": ["Fn", "Arn"]}]}, refs) == {
        "nested": ["function-arn"]
    }
    with pytest.raises(KeyError, match="Unknown"):
        resolve_intrinsics({"Ref": "Unknown"}, refs)
    with pytest.raises(ValueError, match="Fn.Name"):
        resolve_intrinsics({"Fn::GetAtt": ["Fn", "Name"]}, refs)


def test_an_unhandled_exception_is_answered_the_way_lambda_does(sfn: Any) -> None:
    # Given the toy function deployed
    functions = create_functions(toy_template({}), {"Table": "local-table"})

    # When it is invoked with an event its handler raises on
    response = boto3.client("lambda").invoke(
        FunctionName=functions["ToyFunction"], Payload=json.dumps({"action": "broken"})
    )

    # Then Lambda's error payload comes back, marked as an unhandled function error
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read()) == {
        "errorMessage": "the step always fails",
        "errorType": "Broken",
        "stackTrace": [],
    }


# --- Virtual time -------------------------------------------------------------------------


def test_a_two_hour_wait_passes_as_soon_as_the_clock_is_moved(sfn: Any, clock: ManualClock) -> None:
    # Given an execution waiting two hours before a task
    began = time.monotonic()
    execution = start(
        sfn,
        {
            "StartAt": "Wait",
            "States": {
                "Wait": {"Type": "Wait", "Seconds": 7200, "Next": "Now"},
                "Now": {**invoke("now"), "End": True},
            },
        },
    )
    assert eventually(clock.next_deadline) == START + timedelta(hours=2)
    assert still_running(sfn, execution)

    # When the clock jumps to that timer
    clock.advance_to(START + timedelta(hours=2))

    # Then the execution finishes at once, and the handler saw the advanced time
    assert output(finished(sfn, execution))["now"] == (START + timedelta(hours=2)).isoformat()
    assert time.monotonic() - began < 60  # the two hours passed in virtual time (the bound allows a loaded CI)
    assert ["WaitStateEntered", "WaitStateExited"] == [t for t in event_types(sfn, execution) if "Wait" in t]


def test_a_timestamp_path_waits_until_that_utc_instant(sfn: Any, clock: ManualClock) -> None:
    # Given an execution waiting until a UTC instant taken from its input
    at = datetime(2030, 3, 4, 15, 30, tzinfo=UTC)
    execution = start(
        sfn,
        {
            "StartAt": "Wait",
            "States": {
                "Wait": {"Type": "Wait", "TimestampPath": "$.at", "Next": "Now"},
                "Now": {**invoke("now"), "End": True},
            },
        },
        {"at": "2030-03-04T15:30:00Z"},
    )
    assert eventually(clock.next_deadline) == at

    # When the clock reaches one second before it, the execution still waits
    clock.advance_to(at - timedelta(seconds=1))
    assert still_running(sfn, execution)

    # Then at the instant it moves on
    clock.advance_to(at)
    assert output(finished(sfn, execution))["now"] == at.isoformat()


def test_a_task_token_task_resumes_on_success_and_its_output_flows_on(sfn: Any) -> None:
    # Given an execution parked on a task token
    execution = start(
        sfn,
        {
            "StartAt": "Park",
            "States": {
                "Park": {**park(ResultPath="$.answer"), "Next": "Now"},
                "Now": {**invoke("now", **{"input.$": "$"}), "End": True},
            },
        },
        {"appointment": "a-1"},
    )
    token = toy_handler.tokens.get(timeout=5)
    assert still_running(sfn, execution)

    # When the token is answered
    sfn.send_task_success(taskToken=token, output=json.dumps({"confirmed": True}))

    # Then the answer is the parked task's result, which the next task receives
    assert output(finished(sfn, execution))["input"] == {"appointment": "a-1", "answer": {"confirmed": True}}


@pytest.mark.parametrize("timeout", [{"TimeoutSeconds": 1800}, {"TimeoutSecondsPath": "$.timeout"}])
def test_a_task_token_task_times_out_once_the_clock_passes_its_timeout(
    sfn: Any, clock: ManualClock, timeout: dict[str, Any]
) -> None:
    # Given an execution parked on a token for at most 30 minutes, catching the timeout
    execution = start(
        sfn,
        {
            "StartAt": "Park",
            "States": {
                "Park": {
                    **park(**timeout),
                    "Catch": [
                        {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Expired"}
                    ],
                    "End": True,
                },
                "Expired": {"Type": "Pass", "End": True},
            },
        },
        {"timeout": 1800},
    )
    toy_handler.tokens.get(timeout=5)

    # When the clock reaches the timeout, the task still waits
    clock.advance(timedelta(minutes=30) - timedelta(seconds=1))
    assert still_running(sfn, execution)

    # Then past it, the task times out and the catcher routes on
    clock.advance(timedelta(seconds=2))
    assert output(finished(sfn, execution))["error"]["Error"] == "States.Timeout"
    assert "TaskTimedOut" in event_types(sfn, execution)


def test_a_task_timeout_counts_in_virtual_time_not_real_time(sfn: Any) -> None:
    # Given an execution parked on a token for at most one second
    execution = start(sfn, {"StartAt": "Park", "States": {"Park": {**park(TimeoutSeconds=1), "End": True}}})
    token = toy_handler.tokens.get(timeout=5)

    # When more than a second of real time passes, but none on the clock
    time.sleep(1.2)

    # Then the task still waits, and takes its answer
    assert still_running(sfn, execution)
    sfn.send_task_success(taskToken=token, output='{"answer": "late but in time"}')
    assert output(finished(sfn, execution)) == {"answer": "late but in time"}


def test_a_flaky_handler_is_retried_with_its_back_off_in_virtual_time(sfn: Any, clock: ManualClock) -> None:
    # Given a task that fails twice with Flaky, retried on Flaky after 60 s then 120 s
    retry = {"ErrorEquals": ["Flaky"], "IntervalSeconds": 60, "BackoffRate": 2, "MaxAttempts": 3}
    step = call("flaky", key="booking", failures=2)
    execution = start(sfn, {"StartAt": "Step", "States": {"Step": {**step, "Retry": [retry], "End": True}}})

    # When it runs
    result = output(finished(sfn, execution))

    # Then the third attempt succeeds, after three minutes of back-off on the clock
    assert result == {"attempt": 3}
    calls = [e for e in events(sfn, execution) if e["type"].startswith("LambdaFunction")]
    assert [e["type"] for e in calls if not e["type"].endswith(("Scheduled", "Started"))] == [
        "LambdaFunctionFailed",
        "LambdaFunctionFailed",
        "LambdaFunctionSucceeded",
    ]
    assert {e["lambdaFunctionFailedEventDetails"]["error"] for e in calls if "Failed" in e["type"]} == {
        "Flaky"
    }
    assert clock.now() == START + timedelta(minutes=3)


def test_a_permanent_error_is_caught_by_its_class_name(sfn: Any) -> None:
    # Given a task whose handler always raises Broken, retried only on Flaky, caught on Broken
    execution = start(
        sfn,
        {
            "StartAt": "Step",
            "States": {
                "Step": {
                    **invoke("broken"),
                    "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 5}],
                    "Catch": [{"ErrorEquals": ["Broken"], "ResultPath": "$.error", "Next": "Handled"}],
                    "End": True,
                },
                "Handled": {"Type": "Pass", "End": True},
            },
        },
    )

    # When it runs, the error is caught once, with Lambda's payload as its cause
    error = output(finished(sfn, execution))["error"]
    assert error["Error"] == "Broken"
    assert json.loads(error["Cause"])["errorMessage"] == "the step always fails"
    assert event_types(sfn, execution).count("TaskFailed") == 1


def test_stopping_ends_waiting_executions_and_their_threads(sfn: Any, clock: ManualClock) -> None:
    # Given one execution in a day-long Wait and one parked on a token
    machine = deploy(
        {
            "StartAt": "Route",
            "States": {
                "Route": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.park", "BooleanEquals": True, "Next": "Park"}],
                    "Default": "Wait",
                },
                "Wait": {"Type": "Wait", "Seconds": 86400, "End": True},
                "Park": {**park(), "End": True},
            },
        }
    )
    waiting = sfn.start_execution(stateMachineArn=machine, name="waiting", input='{"park": false}')[
        "executionArn"
    ]
    parked = sfn.start_execution(stateMachineArn=machine, name="parked", input='{"park": true}')[
        "executionArn"
    ]
    eventually(lambda: START + timedelta(days=1) in clock.deadlines())
    toy_handler.tokens.get(timeout=5)

    # When one is stopped, then all
    sfn.stop_execution(executionArn=waiting)
    assert finished(sfn, waiting)["status"] == "ABORTED"
    stop_all(sfn)

    # Then both ended as aborted, and no interpreter thread is left
    assert finished(sfn, parked)["status"] == "ABORTED"
    assert event_types(sfn, waiting)[-1] == event_types(sfn, parked)[-1] == "ExecutionAborted"
    assert [thread for thread in TMP_THREADS if thread.is_alive()] == []


def test_a_map_runs_each_item_through_its_own_wait_and_task(sfn: Any, clock: ManualClock) -> None:
    # Given a Map whose two items wait a minute and an hour before a task
    execution = start(
        sfn,
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"},
                        "StartAt": "Wait",
                        "States": {
                            "Wait": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "Now"},
                            "Now": {**invoke("now"), "End": True},
                        },
                    },
                    "End": True,
                }
            },
        },
        {"items": [{"seconds": 60}, {"seconds": 3600}]},
    )

    # When the clock reaches each timer in turn
    eventually(lambda: clock.deadlines()[:2] == [START + timedelta(seconds=60), START + timedelta(hours=1)])
    clock.advance_to(START + timedelta(seconds=60))
    eventually(lambda: len(toy_handler.calls) == 1)
    assert still_running(sfn, execution)
    clock.advance_to(START + timedelta(hours=1))

    # Then each item ran its task when its own wait ended
    assert [item["now"] for item in output(finished(sfn, execution))] == [
        (START + timedelta(seconds=60)).isoformat(),
        (START + timedelta(hours=1)).isoformat(),
    ]


# --- The clocks on their own ----------------------------------------------------------------


def test_a_manual_clock_wakes_a_sleeper_only_once_past_its_deadline() -> None:
    # Given a thread sleeping until an hour from the start
    clock = ManualClock(START)
    sleeper = threading.Thread(target=clock.sleep_until, args=(START + timedelta(hours=1), threading.Event()))
    sleeper.start()
    assert eventually(clock.next_deadline) == START + timedelta(hours=1)

    # When the clock moves, but not far enough, or back
    clock.advance(timedelta(minutes=59))
    clock.advance_to(START)
    sleeper.join(0.1)

    # Then the thread still sleeps, and time did not go back
    assert sleeper.is_alive()
    assert clock.now() == START + timedelta(minutes=59)

    # And once the deadline passes, it wakes and no deadline is left
    clock.pause(60)
    sleeper.join(1)
    assert not sleeper.is_alive()
    assert clock.next_deadline() is None


def test_a_sleeper_wakes_early_when_interrupted() -> None:
    # Given a thread sleeping a day on a clock that does not move
    clock = ManualClock(START)
    interrupted = threading.Event()
    sleeper = threading.Thread(target=clock.sleep_until, args=(START + timedelta(days=1), interrupted))
    sleeper.start()
    sleeper.join(0.05)
    assert sleeper.is_alive()

    # When its interruption is set
    interrupted.set()

    # Then it wakes
    sleeper.join(1)
    assert not sleeper.is_alive()


def test_a_scaled_clock_runs_factor_times_as_fast() -> None:
    # Given a clock running an hour per tenth of a second
    clock = ScaledClock(factor=36_000, start=START)

    # When sleeping for an hour of it
    began = time.monotonic()
    clock.sleep_until(START + timedelta(hours=1), threading.Event())

    # Then about a tenth of a second passed
    assert 0.09 <= time.monotonic() - began < 5  # a tenth of a second, not an hour (the bound allows a loaded CI)
    assert clock.now() >= START + timedelta(hours=1)


def test_clocks_refuse_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2030, 1, 1))
