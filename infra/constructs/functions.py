"""The one way this app makes a Lambda function: Python with the Powertools layer, the
functions/ directory as its code, X-Ray on and an encrypted log group of its own."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ..nag import accept
from .logging import encrypted_log_group

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
RUNTIME = lambda_.Runtime.PYTHON_3_13
POWERTOOLS_VERSION = "3.37.0"  # the version pyproject.toml pins for tests
MANAGED = "arn:<AWS::Partition>:iam::aws:policy/service-role"


class ClinicFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        service: str,
        key: kms.IKey,
        log_retention_days: int,
        retain_logs: bool,
        config_cache_seconds: int,
        stage: str,
        environment: dict[str, str],
        reserved_concurrency: int | None = None,
        timeout_seconds: int = 10,
    ) -> None:
        super().__init__(scope, construct_id)
        # Powertools publishes its layer ARN per version in public SSM parameters.
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "Powertools",
            ssm.StringParameter.value_for_string_parameter(
                self, f"/aws/service/powertools/python/x86_64/python3.13/{POWERTOOLS_VERSION}"
            ),
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            handler=handler,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR), exclude=["**/__pycache__", "**/*.pyc"]),
            layers=[powertools],
            memory_size=512,
            timeout=Duration.seconds(timeout_seconds),
            # Active tracing records every invocation's segment (and Step Functions links them); the
            # X-Ray SDK is left out of the code: it cost ~135 ms of every cold start for per-call subsegments.
            tracing=lambda_.Tracing.ACTIVE,
            log_group=encrypted_log_group(self, "Logs", key=key, retention_days=log_retention_days, retain=retain_logs),
            reserved_concurrent_executions=reserved_concurrency,
            # Imports and module set-up run once, when a version is published; a cold start
            # restores that snapshot instead of importing boto3, Powertools and the models again.
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS,
            environment={
                **environment,
                "CONFIG_CACHE_SECONDS": str(config_cache_seconds),
                "STAGE": stage,  # a dimension of the workflow's alarmed metrics: stages share an account
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": "KetamineClinic",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        # Callers invoke this alias: SnapStart applies to published versions, never to $LATEST.
        self.live = lambda_.Alias(self, "Live", alias_name="live", version=self.function.current_version)
        accept(
            self.function,
            {
                "Annotation::@aws-cdk/aws-lambda:snapStartRequirePublish": "Callers invoke the `live` alias of "
                "the current version, which publishes a version on every code or configuration change.",
                "AwsSolutions-L1": "Pinned to python3.13, the runtime the pinned Powertools layer is built and tested for; "
                "move with the layer.",
                "HIPAA.Security-LambdaInsideVPC": "Reaches only AWS public endpoints (DynamoDB, Step Functions, SNS, "
                "X-Ray) over TLS with IAM auth; there is no VPC resource to reach, so a VPC adds NAT cost without "
                "narrowing exposure.",
            },
        )
        if reserved_concurrency is None:
            accept(
                self.function,
                {
                    "HIPAA.Security-LambdaConcurrency": "Off unless the operator sets it: Lambda keeps 10 of the "
                    "account's concurrency unreserved, so any reservation fails to deploy in an account whose quota "
                    "is still the new-account 10 (README, Deploy). Stage and WAF throttling bound the API meanwhile."
                },
            )
        role = self.function.role
        assert role is not None
        accept(
            role,
            {
                f"AwsSolutions-IAM4[Policy::{MANAGED}/AWSLambdaBasicExecutionRole]": "Only allows writing the "
                "function's own logs.",
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]": "Scoped to the one clinic key, granted by CDK.",
                "AwsSolutions-IAM5[Action::kms:ReEncrypt*]": "Scoped to the one clinic key, granted by CDK.",
                "AwsSolutions-IAM5[Resource::*]": "X-Ray PutTraceSegments/PutTelemetryRecords take no resource.",
                "HIPAA.Security-IAMNoInlinePolicy": "CDK writes each grant into the role's own inline policy, scoped "
                "to this one function's resources.",
            },
        )
