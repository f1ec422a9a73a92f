"""A web ACL in front of the API stage: the patient link routes have no Cognito token, so
each client address is held to a rate there (stage throttling alone is shared by everyone)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_wafv2 as waf
from constructs import Construct

from ..names import per_creation
from .logging import encrypted_log_group


class ApiFirewall(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: apigw.Stage,
        stage_name: str,
        public_requests_per_ip: int,
        key: kms.IKey,
        log_retention_days: int,
        retain_logs: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        # The path starts with the stage on the execute-api URL, and without it behind a custom domain.
        public_paths = waf.CfnWebACL.StatementProperty(
            or_statement=waf.CfnWebACL.OrStatementProperty(
                statements=[_path_starts_with(f"/{stage_name}/public/"), _path_starts_with("/public/")]
            )
        )
        self.web_acl = waf.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=waf.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("ClinicApi"),
            rules=[
                waf.CfnWebACL.RuleProperty(
                    name="PatientLinksPerAddress",
                    priority=0,
                    action=waf.CfnWebACL.RuleActionProperty(block={}),
                    statement=waf.CfnWebACL.StatementProperty(
                        rate_based_statement=waf.CfnWebACL.RateBasedStatementProperty(
                            limit=public_requests_per_ip,  # per address, per 5 minutes
                            aggregate_key_type="IP",
                            scope_down_statement=public_paths,
                        )
                    ),
                    visibility_config=_visibility("PatientLinksPerAddress"),
                ),
                waf.CfnWebACL.RuleProperty(
                    name="KnownBadInputs",
                    priority=1,
                    override_action=waf.CfnWebACL.OverrideActionProperty(none={}),
                    statement=waf.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=waf.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesKnownBadInputsRuleSet"
                        )
                    ),
                    visibility_config=_visibility("KnownBadInputs"),
                ),
            ],
        )
        waf.CfnWebACLAssociation(self, "Association", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn)
        # WAF logs to groups named aws-waf-logs-*; staff tokens are redacted (bodies are never logged).
        stack = Stack.of(self)
        name = per_creation(f"aws-waf-logs-{stack.stack_name}")
        logs = encrypted_log_group(self, "Logs", key=key, retention_days=log_retention_days, retain=retain_logs, name=name)
        logging = waf.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            # WAF takes the group's ARN without the ":*" of its Arn attribute: built from the name,
            # so the dependency on the group is stated.
            log_destination_configs=[
                stack.format_arn(
                    service="logs", resource="log-group", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME
                )
            ],
            redacted_fields=[waf.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "authorization"})],
        )
        logging.add_resource_dependency(logs.node.default_child)  # type: ignore[arg-type]


def _path_starts_with(prefix: str) -> waf.CfnWebACL.StatementProperty:
    return waf.CfnWebACL.StatementProperty(
        byte_match_statement=waf.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=waf.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="STARTS_WITH",
            search_string=prefix,
            text_transformations=[waf.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _visibility(name: str) -> waf.CfnWebACL.VisibilityConfigProperty:
    return waf.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=False  # samples would hold request data
    )
