"""Security properties of the synthesized template."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.api import STAFF_ADMIN_CALLS
from local.aws import API_HANDLER, WORKFLOW_HANDLER
from local.template import function_by_handler, resources


@pytest.fixture(scope="module")
def stack(template) -> Template:
    return Template.from_json(template)


def test_table_is_encrypted_with_a_customer_key_recoverable_and_retained(stack: Template, template) -> None:
    tables = resources(template, "AWS::DynamoDB::Table")
    assert len(tables) == 2
    for table in tables.values():
        props = table["Properties"]
        encryption = props["SSESpecification"]
        assert encryption["SSEEnabled"] is True and encryption["SSEType"] == "KMS"
        assert encryption["KMSMasterKeyId"]["Fn::GetAtt"][1] == "Arn"  # the stack's own key, not the AWS-owned one
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
        assert props["BillingMode"] == "PAY_PER_REQUEST"
    stack.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_main_table_serves_the_access_patterns(template) -> None:
    main = next(t for name, t in resources(template, "AWS::DynamoDB::Table").items() if "Idempotency" not in name)
    props = main["Properties"]
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["pk", "sk"]
    assert {i["IndexName"] for i in props["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2"}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


def test_idempotency_records_expire(template) -> None:
    idempotency = next(t for name, t in resources(template, "AWS::DynamoDB::Table").items() if "Idempotency" in name)
    assert idempotency["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_table_is_in_a_backup_plan(stack: Template) -> None:
    stack.resource_count_is("AWS::Backup::BackupPlan", 1)
    stack.resource_count_is("AWS::Backup::BackupSelection", 1)


def test_every_staff_method_needs_a_cognito_token_and_only_patient_links_are_public(template) -> None:
    methods = resources(template, "AWS::ApiGateway::Method").values()
    for method in methods:
        props = method["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            assert props["Integration"]["Type"] == "MOCK"
        elif "public" in json.dumps(props["ResourceId"]).lower():
            assert props["AuthorizationType"] == "NONE"
        else:
            assert props["AuthorizationType"] == "COGNITO_USER_POOLS"
            assert "AuthorizerId" in props
    anys = [m["Properties"] for m in methods if m["Properties"]["HttpMethod"] == "ANY"]
    assert len(anys) == 2  # the root and /{proxy+}: staff routes
    assert all(m["AuthorizationType"] == "COGNITO_USER_POOLS" for m in anys)
    public = [m["Properties"] for m in methods if m["Properties"]["AuthorizationType"] == "NONE" and m["Properties"]["HttpMethod"] != "OPTIONS"]
    assert len(public) == 6 and {m["HttpMethod"] for m in public} == {"POST"}  # the patient link routes only


def test_each_patient_link_route_has_its_own_throttle_bucket_that_a_few_addresses_cannot_drain(template) -> None:
    """Sizing (README, Settings): one address may make 100 requests in 5 minutes (WAF), about
    0.33 a second; each link route takes 50 a second. Draining one route takes 150 addresses
    at their limit, and drains only that route: a flood of survey opens leaves answers alone."""
    (stage,) = resources(template, "AWS::ApiGateway::Stage").values()
    buckets = {
        s["ResourcePath"]: (s["ThrottlingRateLimit"], s["ThrottlingBurstLimit"])
        for s in stage["Properties"]["MethodSettings"]
        if "public" in s["ResourcePath"]
    }
    assert buckets == {
        "/~1public~1confirmations": (50, 100),
        "/~1public~1confirmations~1open": (50, 100),
        "/~1public~1surveys": (50, 100),
        "/~1public~1surveys~1answers": (50, 100),
        "/~1public~1waitlist-offers": (50, 100),
        "/~1public~1waitlist-offers~1accept": (50, 100),
    }
    (acl,) = resources(template, "AWS::WAFv2::WebACL").values()
    (per_address,) = [r["Statement"]["RateBasedStatement"]["Limit"] for r in acl["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert per_address == 100
    assert 50 / (per_address / 300) >= 150


def test_the_gateway_opens_exactly_the_lambdas_patient_link_routes() -> None:
    from clinic.api.app import ROUTES

    from infra.constructs.api import PATIENT_LINK_ROUTES

    lambda_routes = sorted(p.path.removeprefix("/public/") for p, _ in ROUTES if p.path.startswith("/public/"))
    assert lambda_routes == sorted(PATIENT_LINK_ROUTES)
    assert {p.method for p, _ in ROUTES if p.path.startswith("/public/")} == {"POST"}


def test_stage_logs_access_traces_and_throttles_without_logging_bodies(stack: Template) -> None:
    stack.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {"DataTraceEnabled": False, "LoggingLevel": "INFO", "ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100}
                    )
                ]
            ),
        },
    )


def test_user_pool_has_no_self_sign_up_and_requires_mfa(stack: Template) -> None:
    stack.has_resource_properties(
        "AWS::Cognito::UserPool",
        {"AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True}, "MfaConfiguration": "ON"},
    )
    groups = {g["Properties"]["GroupName"] for g in resources(stack.to_json(), "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"front-desk", "clinician", "admin"}


COMMON = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL", "CONFIG_CACHE_SECONDS", "STAGE"}


@pytest.mark.parametrize(
    ("handler", "variables"),
    [
        (API_HANDLER, {"TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "STATE_MACHINE_ARN", "CLINIC_RULES", "ALLOWED_ORIGIN",
                       "PATIENT_LINK_BASE_URL", "USER_POOL_ID"}),
        (WORKFLOW_HANDLER, {"TABLE_NAME", "STATE_MACHINE_ARN", "PATIENT_LINK_BASE_URL", "CLINIC_RULES"}),
    ],
)
def test_functions_are_traced_with_encrypted_retained_logs_and_no_phi_in_environment(
    template, handler: str, variables: set[str]
) -> None:
    function = function_by_handler(template, handler)
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["Runtime"].startswith("python3.")
    assert set(function["Environment"]["Variables"]) == variables | COMMON
    assert "ReservedConcurrentExecutions" not in function  # off unless the operator sets it (account quota)
    for group in resources(template, "AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in group["Properties"] and group["Properties"]["RetentionInDays"] == 365
        assert group["DeletionPolicy"] == "Retain"


def test_callers_invoke_snapstart_versions_never_latest(template) -> None:
    """Cold starts restore a snapshot taken after imports (issue 7): SnapStart applies only to
    published versions, so the API and every workflow task must go through the alias."""
    functions = {  # the clinic's own; CDK's site deployment function runs once per deploy
        name: f for name, f in resources(template, "AWS::Lambda::Function").items() if f["Properties"]["Handler"].startswith("clinic.")
    }
    assert len(functions) == 2
    assert {f["Properties"]["SnapStart"]["ApplyOn"] for f in functions.values()} == {"PublishedVersions"}
    aliases = resources(template, "AWS::Lambda::Alias")
    assert {a["Properties"]["FunctionName"]["Ref"] for a in aliases.values()} == set(functions)
    text = json.dumps(template)
    machine = json.dumps(next(iter(resources(template, "AWS::StepFunctions::StateMachine").values())))
    for alias in aliases:
        assert f'"Ref": "{alias}"' in text
    assert all(f'"{fn}", "Arn"' not in machine for fn in functions)  # no task calls $LATEST
    methods = resources(template, "AWS::ApiGateway::Method")
    uris = json.dumps([m["Properties"].get("Integration", {}).get("Uri") for m in methods.values()])
    assert all(f'"{fn}", "Arn"' not in uris for fn in functions) and any(alias in uris for alias in aliases)


def test_function_role_reaches_only_its_own_tables_and_key(template) -> None:
    policies = [p["Properties"]["PolicyDocument"]["Statement"] for p in resources(template, "AWS::IAM::Policy").values()]
    function_policy = next(s for s in policies if any("dynamodb:PutItem" in json.dumps(x) for x in s))
    for statement in function_policy:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(a.startswith("dynamodb:") for a in actions):
            assert statement["Resource"] != "*"
        if any(a.startswith("xray:") for a in actions):
            assert statement["Resource"] == "*"


def test_only_the_api_manages_staff_accounts_with_exactly_staff_managements_calls_on_the_staff_pool(template) -> None:
    pool = next(iter(resources(template, "AWS::Cognito::UserPool")))
    granted = [
        (name, statement)
        for name, policy in resources(template, "AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "cognito-idp:" in json.dumps(statement["Action"])
    ]
    assert len(granted) == 1
    name, statement = granted[0]
    assert "Api" in name
    assert sorted(statement["Action"]) == sorted(f"cognito-idp:{call}" for call in STAFF_ADMIN_CALLS)
    assert statement["Resource"] == {"Fn::GetAtt": [pool, "Arn"]}


def test_alarms_notify_the_operator_topic(stack: Template, template) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 4
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"], alarm
    stack.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})


def test_a_web_acl_holds_each_address_to_a_rate_on_the_patient_links_and_logs_without_tokens(template) -> None:
    (acl,) = resources(template, "AWS::WAFv2::WebACL").values()
    rate = next(r for r in acl["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"])
    statement = rate["Statement"]["RateBasedStatement"]
    assert (statement["Limit"], statement["AggregateKeyType"], rate["Action"]) == (100, "IP", {"Block": {}})
    prefixes = [s["ByteMatchStatement"]["SearchString"] for s in statement["ScopeDownStatement"]["OrStatement"]["Statements"]]
    assert prefixes == ["/dev/public/", "/public/"]  # the execute-api URL carries the stage, a custom domain not
    (association,) = resources(template, "AWS::WAFv2::WebACLAssociation").values()
    assert "Stage" in json.dumps(association["Properties"]["ResourceArn"])
    (logging,) = resources(template, "AWS::WAFv2::LoggingConfiguration").values()
    assert logging["Properties"]["RedactedFields"] == [{"SingleHeader": {"Name": "authorization"}}]
    assert "aws-waf-logs-" in json.dumps(logging["Properties"]["LogDestinationConfigs"])
