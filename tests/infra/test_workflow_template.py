"""The care workflow as deployed: its state machine, its role and its alarms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.template import resources

TRANSIENT = {"Lambda.ServiceException", "Lambda.TooManyRequestsException", "TemporarilyUnavailable"}


@pytest.fixture(scope="module")
def machine(template) -> dict[str, Any]:
    (resource,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    return resource["Properties"]


@pytest.fixture(scope="module")
def states(machine) -> dict[str, Any]:
    text = "".join(part if isinstance(part, str) else "arn-of-a-resource" for part in machine["DefinitionString"]["Fn::Join"][1])
    definition = json.loads(text)
    found: dict[str, Any] = {}

    def collect(block: dict[str, Any]) -> None:
        for name, state in block["States"].items():
            found[name] = state
            if "ItemProcessor" in state:
                collect(state["ItemProcessor"])

    collect(definition)
    return found


def _policy_of(template, role_logical_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_state_machine_is_standard_logs_everything_and_is_traced(machine) -> None:
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    logging = machine["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False  # ids only by design, and still kept out of logs


def test_every_task_retries_transient_errors_with_backoff(states) -> None:
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    assert len(tasks) >= 10
    for name, task in tasks.items():
        (retry,) = task["Retry"]
        assert TRANSIENT <= set(retry["ErrorEquals"]), name
        assert retry["BackoffRate"] >= 2 and retry["MaxAttempts"] >= 3 and retry["JitterStrategy"] == "FULL", name


def test_no_task_can_fail_without_a_catch_except_inside_a_caught_map(states) -> None:
    inside_maps = {name for s in states.values() if s["Type"] == "Map" for name in s["ItemProcessor"]["States"]}
    for name, state in states.items():
        if state["Type"] not in ("Task", "Map") or name in inside_maps:
            continue
        catchers = state.get("Catch", [])
        assert catchers and catchers[-1]["ErrorEquals"] == ["States.ALL"], name
    for map_state in (s for s in states.values() if s["Type"] == "Map"):
        assert map_state["Catch"][-1]["ErrorEquals"] == ["States.ALL"]


def test_every_failure_path_flags_the_appointment_before_failing(states) -> None:
    for name, state in states.items():
        for catcher in state.get("Catch", []):
            if catcher["ErrorEquals"] != ["States.ALL"] or name == "FlagNeedsAttention":
                continue
            if name == "Remind":  # a failed reminder flags the appointment and the session goes on
                assert catcher["Next"] == "ReminderFailed" and states["ReminderFailed"]["End"] is True
                continue
            recorder = states[catcher["Next"]]
            assert recorder["Type"] == "Pass" and recorder["Next"] == "FlagNeedsAttention", name
            assert recorder["Parameters"]["error.$"] == "$.failure.Error"  # the name only, never the cause
    assert states["FlagNeedsAttention"]["Next"] == "WorkflowFailed"
    assert states["WorkflowFailed"]["Type"] == "Fail"


def test_human_steps_are_callbacks_with_timeouts_from_configuration(states) -> None:
    check_in = states["AwaitCheckIn"]
    assert check_in["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert check_in["TimeoutSeconds"] == 30 * 60
    assert check_in["Catch"][0] == {"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": "MissedCheckIn"}
    assert states["AwaitDose"]["TimeoutSeconds"] == 120 * 60
    assert states["AwaitDischarge"]["TimeoutSecondsPath"] == "$.observation.overdueInSeconds"
    # A follow-up waits until whatever is due next (reminder, screener deadline, expiry), as the step says.
    assert states["AwaitFollowUp"]["TimeoutSecondsPath"] == "$.followUp.waitSeconds"
    assert states["AwaitFollowUp"]["Catch"][0]["Next"] == "FollowUpCheck"
    first_wait = states["FollowUps"]["ItemSelector"]["followUp"]["waitSeconds"]
    assert first_wait == 24 * 3600  # surveyReminderHours


def test_an_unacknowledged_page_moves_up_the_chain_on_its_own_timeout(states) -> None:
    escalate = states["Escalate"]
    assert escalate["TimeoutSeconds"] == 15 * 60  # escalationAcknowledgeMinutes
    assert escalate["Catch"][0] == {"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": "Unacknowledged"}
    assert escalate["Next"] == "FollowUpCheck"
    # Paging is counted from 1 and ends: 3 rounds (escalationRounds) of on-call, backup and lead.
    assert states["StartPaging"] == {"Type": "Pass", "Result": {"pages": 1}, "ResultPath": "$.escalation", "Next": "Escalate"}
    assert states["Unacknowledged"]["Parameters"] == {"pages.$": "States.MathAdd($.escalation.pages, 1)"}
    assert states["Unacknowledged"]["Next"] == "ChainExhausted?"
    exhausted = states["ChainExhausted?"]
    assert exhausted["Choices"] == [{"Variable": "$.escalation.pages", "NumericGreaterThan": 9, "Next": "HandOffEscalation"}]
    assert exhausted["Default"] == "Escalate"
    hand_off = states["HandOffEscalation"]
    assert (hand_off["Parameters"]["step"], hand_off["Next"]) == ("hand-off-escalation", "FollowUpCheck")
    choices = {
        comparison["StringEquals"]: choice["Next"]
        for choice in states["FollowUpNext?"]["Choices"]
        for comparison in choice.get("Or", [choice])
    }
    assert choices == {
        "wait": "AwaitFollowUp",
        "escalate": "StartPaging",
        "task": "CreateFollowUpTask",
        "remind": "FollowUpCheck",  # found due by a late park or late answers: the check does it
        "expire": "FollowUpCheck",
    }
    assert states["FollowUpNext?"]["Default"] == "FollowUpClosed"


def test_no_callback_waits_without_a_deadline_that_looks_again(states) -> None:
    callbacks = {name: s for name, s in states.items() if s.get("Resource", "").endswith(".waitForTaskToken")}
    assert len(callbacks) == 7
    for name, state in callbacks.items():
        assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state, name
        assert state["Catch"][0]["ErrorEquals"] == ["States.Timeout"], name
    assert states["AwaitLateDischarge"]["TimeoutSeconds"] == 60 * 60
    assert states["AwaitLateDischarge"]["Catch"][0]["Next"] == "DischargeOverdue"  # re-checks until done


def test_state_machine_role_may_only_invoke_the_steps_function(template, machine) -> None:
    statements = _policy_of(template, machine["RoleArn"]["Fn::GetAtt"][0])
    invoke = [s for s in statements if "lambda:InvokeFunction" in _actions(s)]
    assert len(invoke) == 1
    targets = json.dumps(invoke[0]["Resource"])
    assert "WorkflowSteps" in targets and "ApiHandler" not in targets
    for statement in statements:
        assert not any(a.startswith(("dynamodb:", "sns:", "states:")) for a in _actions(statement)), statement


def test_api_may_start_stop_and_resume_only_care_executions(template) -> None:
    api_role = next(name for name in resources(template, "AWS::IAM::Role") if name.startswith("ApiHandler"))
    statements = [s for s in _policy_of(template, api_role) if any(a.startswith("states:") for a in _actions(s))]
    actions = {a for s in statements for a in _actions(s)}
    assert actions == {"states:StartExecution", "states:StopExecution", "states:SendTaskSuccess"}
    for statement in statements:
        resource = json.dumps(statement["Resource"])
        if statement["Action"] == "states:StopExecution":  # named by ARN: the machine's executions only
            assert resource.endswith(':execution:KetamineClinic-local-care:*"]]}'), resource
        else:
            assert "WorkflowStateMachine" in resource, statement


def test_failed_and_timed_out_executions_alarm_the_operator(template) -> None:
    alarms = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    workflow_alarms = {a["MetricName"] for a in alarms if a.get("Namespace") == "AWS/States"}
    assert workflow_alarms == {"ExecutionsFailed", "ExecutionsTimedOut"}
    assert all(a["AlarmActions"] for a in alarms)


def test_pages_go_by_sms_only_to_phone_numbers_and_no_topic_is_shared_by_clinics(template) -> None:
    # The one topic left is the operator's alarms (no PHI, no clinic's alerts).
    (topic,) = resources(template, "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    steps_role = next(name for name in resources(template, "AWS::IAM::Role") if name.startswith("WorkflowSteps"))
    publish = [s for s in _policy_of(template, steps_role) if "sns:Publish" in _actions(s)]
    assert any(s.get("NotResource") == "arn:*:sns:*:*:*" for s in publish)
    assert all("Resource" not in s or s["Resource"] != "*" for s in publish)


def test_an_escalation_unacknowledged_past_the_chain_alarms_the_operator_and_a_dashboard_shows_every_alarm(template) -> None:
    alarms = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    (escalation,) = [a for a in alarms if a.get("MetricName") == "EscalationUnacknowledged"]
    assert escalation["Namespace"] == "KetamineClinic" and escalation["Threshold"] == 1 and escalation["AlarmActions"]
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    assert "EscalationUnacknowledged" in json.dumps(dashboard["Properties"]["DashboardBody"])


def test_a_rems_session_waits_for_its_forms_deadline_after_the_follow_ups_and_others_are_done(states) -> None:
    assert states["FollowUps"]["Next"] == "RemsForm?"
    choice = states["RemsForm?"]
    (rems,) = choice["Choices"]
    assert rems == {"Variable": "$.observation.remsFormOverdueAt", "IsPresent": True, "Next": "WaitForRemsFormDeadline"}
    assert choice["Default"] == "Done"
    assert states["WaitForRemsFormDeadline"]["TimestampPath"] == "$.observation.remsFormOverdueAt"
    check = states["RemsFormCheck"]
    assert (check["Parameters"]["step"], check["Next"]) == ("rems-form-check", "Done")
    assert check["Catch"][-1]["Next"] == "RemsFormCheckFailed"  # flags the appointment, fails, alarms


def test_an_overdue_rems_form_alarms_the_operator_on_the_metric_the_workflow_counts(template) -> None:
    alarms = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    (overdue,) = [a for a in alarms if a.get("MetricName") == "RemsFormOverdue"]
    dimensions = [{"Name": "service", "Value": "care-workflow"}, {"Name": "stage", "Value": "dev"}]  # the local stack's stage
    assert (overdue["Namespace"], overdue["Dimensions"]) == ("KetamineClinic", dimensions)
    assert (overdue["Threshold"], overdue["ComparisonOperator"], overdue["TreatMissingData"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
        "notBreaching",
    )
    topic = next(name for name in resources(template, "AWS::SNS::Topic") if name.startswith("OperationsOperatorAlerts"))
    assert overdue["AlarmActions"] == [{"Ref": topic}]
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    assert "RemsFormOverdue" in json.dumps(dashboard["Properties"]["DashboardBody"])
