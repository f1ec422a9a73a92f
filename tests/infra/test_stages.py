"""`cdk deploy -c stage=prod`: what the stage switch changes. Both stages are synthesized from
cdk.json's own context, as the CDK CLI passes it, with cdk-nag on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App

from infra.settings import load
from local.template import resources
from tests.infra.conftest import CERTIFICATE, CONTEXT, DOMAIN, SITE_CERTIFICATE, synthesized

# What a deleted stack would otherwise lose: the tables, every log group, the key, the staff directory.
KEPT = ("AWS::DynamoDB::Table", "AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::Cognito::UserPool")


def _alarm_thresholds(template: dict[str, Any]) -> dict[str, float]:
    """Threshold per alarm, by the alarm's construct id (the logical id without its hash)."""
    return {name[len("Operations") : -8]: a["Properties"]["Threshold"] for name, a in resources(template, "AWS::CloudWatch::Alarm").items()}


def test_prod_keeps_its_data_when_the_stack_goes_and_dev_can_be_torn_down(dev, prod) -> None:
    for kind in KEPT:
        kept, torn_down = resources(prod, kind).values(), resources(dev, kind).values()
        assert len(kept) == len(torn_down) >= 1, kind
        assert {(r["DeletionPolicy"], r["UpdateReplacePolicy"]) for r in kept} == {("Retain", "Retain")}, kind
        assert {(r["DeletionPolicy"], r["UpdateReplacePolicy"]) for r in torn_down} == {("Delete", "Delete")}, kind
    assert len(resources(prod, "AWS::Logs::LogGroup")) == 5  # both functions, API access, executions, WAF
    for template, protected in ((prod, True), (dev, False)):
        tables = resources(template, "AWS::DynamoDB::Table").values()
        assert [t["Properties"]["DeletionProtectionEnabled"] for t in tables] == [protected, protected]
        (pool,) = resources(template, "AWS::Cognito::UserPool").values()
        assert pool["Properties"]["DeletionProtection"] == ("ACTIVE" if protected else "INACTIVE")
    # A key that goes with dev's data is deleted after the shortest wait; prod's is never scheduled.
    assert [k["Properties"].get("PendingWindowInDays") for k in resources(dev, "AWS::KMS::Key").values()] == [7]
    assert [k["Properties"].get("PendingWindowInDays") for k in resources(prod, "AWS::KMS::Key").values()] == [None]


def test_alarm_thresholds_follow_the_stage_and_safety_alarms_fire_at_the_first_in_both(dev, prod) -> None:
    dev_thresholds, prod_thresholds = _alarm_thresholds(dev), _alarm_thresholds(prod)
    assert dev_thresholds.keys() == prod_thresholds.keys()
    noisy = {"ApiErrors", "ApiThrottles", "WorkflowErrors", "WorkflowThrottles", "Api5xx"}
    assert noisy <= dev_thresholds.keys()
    for name in noisy:
        assert (dev_thresholds[name], prod_thresholds[name]) == (5, 1), name  # errorAlarmThreshold
    assert (dev_thresholds["ApiLatencyP99"], prod_thresholds["ApiLatencyP99"]) == (3000, 2000)  # apiLatencyP99Ms
    for name in ("WorkflowFailed", "WorkflowTimedOut", "EscalationUnacknowledged", "EscalationHandedOff", "RemsFormOverdue"):
        assert dev_thresholds[name] == prod_thresholds[name] == 1, name


def test_prod_keeps_logs_seven_years(dev, prod) -> None:
    for template, days in ((dev, 365), (prod, 2557)):
        assert {g["Properties"]["RetentionInDays"] for g in resources(template, "AWS::Logs::LogGroup").values()} == {days}


def test_no_concurrency_is_reserved_unless_set_since_a_new_account_keeps_all_ten_unreserved(dev, prod) -> None:
    for template in (dev, prod):
        assert all("ReservedConcurrentExecutions" not in f["Properties"] for f in resources(template, "AWS::Lambda::Function").values())
    reserved = synthesized(stage="prod", apiReservedConcurrency="50", workflowReservedConcurrency=10)
    assert sorted(
        f["Properties"]["ReservedConcurrentExecutions"]
        for f in resources(reserved, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"].startswith("clinic.")
    ) == [10, 50]


def test_what_a_deleted_stack_keeps_is_named_anew_for_each_creation(prod) -> None:
    """A retained log group or vault with a fixed name would collide with a re-created stack."""
    retained = {n: r for n, r in prod["Resources"].items() if r.get("DeletionPolicy") == "Retain"}
    named = {n: r for n, r in retained.items() for key in r["Properties"] if key.endswith("Name") and key != "DomainName"}
    assert {r["Type"] for r in named.values()} == {"AWS::Logs::LogGroup", "AWS::Backup::BackupVault"}
    for resource in named.values():
        name = json.dumps(next(v for k, v in resource["Properties"].items() if k.endswith("Name")))
        assert '{"Ref": "AWS::StackId"}' in name, name  # a new id, so a new name, per creation
    (logging,) = resources(prod, "AWS::WAFv2::LoggingConfiguration").values()
    (waf_logs,) = [n for n, r in named.items() if r["Type"] == "AWS::Logs::LogGroup"]
    assert waf_logs in logging["DependsOn"]  # its destination is named, not referenced: the group first


def test_the_partition_comes_from_the_stack_and_alarms_watch_their_own_stage(dev, prod) -> None:
    for stage, template in (("dev", dev), ("prod", prod)):
        assert '"arn:aws:' not in json.dumps(template).replace(CERTIFICATE, "").replace(SITE_CERTIFICATE, "")  # cdk.json targets aws-cn too
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
            dimensions = {d["Name"]: d["Value"] for d in alarm["Properties"].get("Dimensions", [])}
            namespace = alarm["Properties"]["Namespace"]
            if namespace == "AWS/ApiGateway":
                stage_resource = template["Resources"][dimensions["Stage"]["Ref"]]  # a Stage's Ref is its name
                assert stage_resource["Properties"]["StageName"] == stage and "ApiName" in dimensions
            elif namespace == "KetamineClinic":
                assert dimensions == {"service": "care-workflow", "stage": stage}
            else:  # a function's or the state machine's own metrics name the stack's resource
                assert "Ref" in json.dumps(dimensions), alarm


def test_a_custom_domain_from_context_fronts_the_api_with_tls_1_2_and_is_optional(dev, prod) -> None:
    (domain,) = resources(prod, "AWS::ApiGateway::DomainName").values()
    props = domain["Properties"]
    assert (props["DomainName"], props["RegionalCertificateArn"]) == (DOMAIN, CERTIFICATE)
    assert props["EndpointConfiguration"] == {"Types": ["REGIONAL"]} and props["SecurityPolicy"] == "TLS_1_2"
    (mapping,) = resources(prod, "AWS::ApiGateway::BasePathMapping").values()
    stage_name = next(iter(resources(prod, "AWS::ApiGateway::Stage")))
    assert mapping["Properties"]["Stage"] == {"Ref": stage_name} and "BasePath" not in mapping["Properties"]
    assert prod["Outputs"]["ApiDomainUrl"]["Value"] == f"https://{DOMAIN}/"
    assert "RegionalDomainName" in json.dumps(prod["Outputs"]["ApiDomainTarget"]["Value"])  # the DNS record's target
    # The firewall's patient-link rate applies behind the domain too, where paths carry no stage.
    (acl,) = resources(prod, "AWS::WAFv2::WebACL").values()
    assert '"/public/"' in json.dumps(acl["Properties"]["Rules"]) and '"/prod/public/"' in json.dumps(acl["Properties"]["Rules"])

    assert resources(dev, "AWS::ApiGateway::DomainName") == {} and resources(dev, "AWS::ApiGateway::BasePathMapping") == {}
    assert "ApiDomainUrl" not in dev["Outputs"] and "ApiUrl" in dev["Outputs"]


def test_each_stage_names_its_stack_api_stage_and_state_machine(dev, prod) -> None:
    for stage, template in (("dev", dev), ("prod", prod)):
        (api_stage,) = resources(template, "AWS::ApiGateway::Stage").values()
        assert api_stage["Properties"]["StageName"] == stage
        (machine,) = resources(template, "AWS::StepFunctions::StateMachine").values()
        assert machine["Properties"]["StateMachineName"] == f"KetamineClinic-{stage}-care"


@pytest.mark.parametrize(
    ("stage", "retain", "errors"),
    [("dev", False, 5), ("prod", True, 1)],
)
def test_a_key_under_stages_prod_overrides_the_top_level_one(stage: str, retain: bool, errors: int) -> None:
    settings = load(App(context={**CONTEXT, "stage": stage}))
    assert (settings.retain_data, settings.error_alarm_threshold) == (retain, errors)


def test_without_any_context_data_is_kept_and_every_error_alarms() -> None:
    settings = load(App())
    assert (settings.stage, settings.retain_data, settings.error_alarm_threshold) == ("dev", True, 1)
    assert (settings.api_domain_name, settings.api_certificate_arn) == (None, None)


@pytest.mark.parametrize(
    ("context", "error", "named"),
    [
        ({"stage": "staging"}, ValueError, "'stage'"),
        ({"apiDomainName": DOMAIN}, ValueError, "apiCertificateArn"),
        ({"apiCertificateArn": CERTIFICATE}, ValueError, "apiDomainName"),
        ({"apiDomainName": DOMAIN, "apiCertificateArn": "arn:aws:iam::111111111111:server-certificate/x"}, ValueError, "apiCertificateArn"),
        ({"retainData": "no"}, TypeError, "retainData"),
        ({"errorAlarmThreshold": 0}, ValueError, "errorAlarmThreshold"),
        ({"apiReservedConcurrency": 0}, ValueError, "apiReservedConcurrency"),
    ],
)
def test_a_bad_stage_setting_fails_synth_naming_it(context: dict[str, Any], error: type[Exception], named: str) -> None:
    with pytest.raises(error, match=named):
        load(App(context=context))


def test_command_line_values_arrive_as_text_and_keep_their_meaning() -> None:
    """`-c retainData=false -c errorAlarmThreshold=3` reach the app as strings."""
    settings = load(App(context={"retainData": "false", "errorAlarmThreshold": "3"}))
    assert (settings.retain_data, settings.error_alarm_threshold) == (False, 3)
