"""The staff REST API: one Lambda behind API Gateway with a Cognito authorizer."""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..gateway_errors import DEFAULT_4XX, GATEWAY_ERRORS
from ..nag import accept
from ..settings import StageSettings
from .functions import MANAGED, ClinicFunction
from .logging import encrypted_log_group
from .messaging import Messaging


# The patient link routes (all POST; the Lambda's /public/ routes, which a test compares).
# Each is its own resource with its own throttle bucket: a flood of one (survey opens, say)
# cannot use up the requests that carry another patient's crisis answers.
PATIENT_LINK_ROUTES = (
    "confirmations",
    "confirmations/open",
    "surveys",
    "surveys/answers",
    "waitlist-offers",
    "waitlist-offers/accept",
)
# Staff management's Cognito calls (functions/clinic/adapters/cognito.py), granted on the staff pool only.
STAFF_ADMIN_CALLS = (
    "AdminCreateUser",
    "AdminGetUser",
    "AdminAddUserToGroup",
    "AdminRemoveUserFromGroup",
    "AdminUpdateUserAttributes",
    "AdminDisableUser",
    "AdminEnableUser",
    "AdminUserGlobalSignOut",
)


class ClinicApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StageSettings,
        key: kms.IKey,
        table: dynamodb.ITable,
        idempotency_table: dynamodb.ITable,
        user_pool: cognito.IUserPool,
        state_machine_arn: str,
        messaging: Messaging,
    ) -> None:
        super().__init__(scope, construct_id)
        handler = ClinicFunction(
            self,
            "Handler",
            handler="clinic.api.app.lambda_handler",
            service="clinic-api",
            key=key,
            log_retention_days=settings.log_retention_days,
            retain_logs=settings.retain_data,
            config_cache_seconds=settings.config_cache_seconds,
            stage=settings.stage,
            reserved_concurrency=settings.api_reserved_concurrency,
            environment={
                "TABLE_NAME": table.table_name,
                "IDEMPOTENCY_TABLE_NAME": idempotency_table.table_name,
                "STATE_MACHINE_ARN": state_machine_arn,
                "CLINIC_RULES": settings.clinic_rules.model_dump_json(by_alias=True),
                "ALLOWED_ORIGIN": settings.allowed_origin,
                "USER_POOL_ID": user_pool.user_pool_id,
                **messaging.environment(settings.patient_link_base_url),
            },
        )
        self.function = handler.function
        table.grant_read_write_data(self.function)
        idempotency_table.grant_read_write_data(self.function)
        messaging.grant_send(self.function)  # waitlist offers to patients
        # Staff management (adapters/cognito.py): exactly its admin calls, on this pool only.
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=[f"cognito-idp:{action}" for action in STAFF_ADMIN_CALLS], resources=[user_pool.user_pool_arn])
        )

        access_logs = encrypted_log_group(
            self, "AccessLogs", key=key, retention_days=settings.log_retention_days, retain=settings.retain_data
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            description="Ketamine clinic appointments and follow-up",
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=settings.stage,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.INFO,
                data_trace_enabled=False,  # full request logging would write PHI to logs
                throttling_rate_limit=settings.api_rate_limit,
                throttling_burst_limit=settings.api_burst_limit,
                method_options={
                    f"/public/{route}/POST": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=settings.public_rate_limit,
                        throttling_burst_limit=settings.public_burst_limit,
                    )
                    for route in PATIENT_LINK_ROUTES
                },
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=[settings.allowed_origin],
                allow_methods=apigw.Cors.ALL_METHODS,
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
                max_age=Duration.minutes(10),
            ),
        )
        # Staff routes: one proxy resource routed by the Lambda (Powertools), which checks
        # groups; API Gateway checks the Cognito token first. /public: the patient link
        # routes, each its own resource and throttle bucket, whose single-use token the
        # Lambda checks; any other /public/ path is refused by the gateway itself.
        # Bodies are validated against the OpenAPI models in the Lambda.
        validator = self.rest_api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        integration = apigw.LambdaIntegration(handler.live)
        staff_options = {
            "authorizer": apigw.CognitoUserPoolsAuthorizer(self, "StaffAuthorizer", cognito_user_pools=[user_pool]),
            "authorization_type": apigw.AuthorizationType.COGNITO,
            "request_validator": validator,
        }
        staff = apigw.MethodOptions(**staff_options)
        # A proxy under the root also adds its method to the root, without options: add it first.
        self.rest_api.root.add_method("ANY", integration, **staff_options)
        proxy = self.rest_api.root.add_proxy(default_integration=integration, default_method_options=staff, any_method=True)
        public_root = self.rest_api.root.add_resource("public")
        public = [
            public_root.resource_for_path(route).add_method(
                "POST", integration, authorization_type=apigw.AuthorizationType.NONE, request_validator=validator
            )
            for route in PATIENT_LINK_ROUTES
        ]
        self._gateway_responses(settings.allowed_origin)
        self.domain = self._custom_domain(settings.api_domain_name, settings.api_certificate_arn)
        self._accept_findings(proxy, public, table)

    def _gateway_responses(self, allowed_origin: str | None) -> None:
        """API Gateway's own answers in the API's error shape, with CORS headers so the web client
        can read them (without, the browser hides a 401 or a firewall block behind a CORS error)."""
        cors = {"Access-Control-Allow-Origin": f"'{allowed_origin}'", "Vary": "'Origin'"}
        answers = {**GATEWAY_ERRORS, "DEFAULT_4XX": DEFAULT_4XX}
        for kind, answer in answers.items():
            message = "$context.error.messageString" if not answer.message else json.dumps(answer.message)
            headers = dict(cors)
            if answer.retry_after_seconds:
                headers["Retry-After"] = f"'{answer.retry_after_seconds}'"
            self.rest_api.add_gateway_response(
                kind,
                type=apigw.ResponseType.of(kind),
                # The defaults keep API Gateway's own status (400, 403, 404, 415...; 500, 502, 504).
                status_code=None if kind.startswith("DEFAULT_") else str(answer.status),
                response_headers=headers,
                templates={"application/json": f'{{"code":"{answer.code}","message":{message},"fields":[]}}'},
            )

    def _custom_domain(self, domain_name: str | None, certificate_arn: str | None) -> apigw.DomainName | None:
        """The stage's own name for the API (`apiDomainName`), TLS 1.2 with the operator's ACM
        certificate from the stack's region; paths under it carry no stage prefix. The DNS record
        (CNAME or alias to the `ApiDomainTarget` output) stays with whoever holds the zone."""
        if not domain_name or not certificate_arn:
            return None
        return self.rest_api.add_domain_name(
            "DomainName",
            domain_name=domain_name,
            certificate=acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn),
            endpoint_type=apigw.EndpointType.REGIONAL,
            security_policy=apigw.SecurityPolicy.TLS_1_2,
        )

    def _accept_findings(self, proxy: apigw.ProxyResource, public: list[apigw.Method], table: dynamodb.ITable) -> None:
        table_id = Stack.of(self).resolve(table.node.default_child.logical_id)  # type: ignore[union-attr]
        accept(
            self.function,
            {
                "HIPAA.Security-LambdaDLQ": "Invoked synchronously by API Gateway only; a dead-letter queue applies to "
                "asynchronous invocations, and the caller receives every error.",
            },
        )
        role = self.function.role
        assert role is not None
        accept(
            role,
            {
                f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]": "The table's own indexes (board, "
                "patient history), granted by CDK.",
            },
        )
        cloud_watch_role = self.rest_api.node.find_child("CloudWatchRole")
        accept(
            cloud_watch_role,
            {
                f"AwsSolutions-IAM4[Policy::{MANAGED}/AmazonAPIGatewayPushToCloudWatchLogs]": "API Gateway's "
                "account-level logging role; this is the policy AWS provides for it."
            },
        )
        for method in public:
            accept(
                method,
                {
                    "AwsSolutions-APIG4": "Patient links: the patient has no account; each request carries a single-use "
                    "256-bit token that the Lambda checks against its stored hash, and the route is throttled.",
                    "AwsSolutions-COG4": "Patients do not sign in to Cognito; the link's token is the credential.",
                },
            )
        public_resources = {method.resource for method in public} | {self.rest_api.root.node.find_child("public")}
        for resource in (self.rest_api.root, proxy, *public_resources):
            accept(
                resource.node.find_child("OPTIONS"),
                {
                    "AwsSolutions-APIG4": "CORS preflight: browsers send OPTIONS without credentials; the mock "
                    "integration returns only CORS headers.",
                    "AwsSolutions-COG4": "CORS preflight carries no token by browser design.",
                },
            )
        accept(
            self.rest_api.deployment_stage,
            {
                "HIPAA.Security-APIGWCacheEnabledAndEncrypted": "Caching is off on purpose: responses carry PHI "
                "and must never be served from a cache.",
                "HIPAA.Security-APIGWSSLEnabled": "The backend is a Lambda proxy integration, not an HTTP endpoint "
                "that could verify an API Gateway client certificate.",
            },
        )
