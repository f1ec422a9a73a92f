"""The clinic stack: wires one construct per concern."""

from __future__ import annotations

from dataclasses import replace

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from .constructs.api import ClinicApi
from .constructs.data import ClinicData
from .constructs.encryption import ClinicKey
from .constructs.firewall import ApiFirewall
from .constructs.identity import StaffIdentity
from .constructs.messaging import Messaging
from .constructs.monitoring import Operations
from .constructs.site import WebSite
from .constructs.workflow import CareWorkflow, state_machine_arn, state_machine_name
from .nag import accept
from .settings import StageSettings


class ClinicStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: StageSettings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        retain = settings.retain_data  # the stage decides what a deleted stack keeps
        site = WebSite(
            self,
            "Site",
            ship_api_explorer=settings.stage != "prod",
            domain_name=settings.site_domain_name,
            certificate_arn=settings.site_certificate_arn,
        )
        # Unless set, the API answers the hosted site and patient links open its pages.
        settings = replace(
            settings,
            allowed_origin=settings.allowed_origin or site.origin,
            patient_link_base_url=settings.patient_link_base_url or f"{site.origin}/patient",
        )
        key = ClinicKey(self, "Encryption", retain=retain).key
        data = ClinicData(self, "Data", key=key, retain=retain)
        identity = StaffIdentity(
            self, "Identity", mfa_required=settings.mfa_required, retain=retain, site_url=site.origin
        )
        messaging = Messaging(self, "Messaging", email_sender=settings.email_sender)
        workflow = CareWorkflow(self, "Workflow", settings=settings, key=key, table=data.table, messaging=messaging)
        api = ClinicApi(
            self,
            "Api",
            settings=settings,
            key=key,
            table=data.table,
            idempotency_table=data.idempotency_table,
            user_pool=identity.user_pool,
            state_machine_arn=state_machine_arn(self),
            messaging=messaging,
        )
        workflow.state_machine.grant_start_execution(api.function)
        workflow.state_machine.grant(api.function, "states:SendTaskSuccess")  # resumes, never fails, a callback
        # The ARN from pseudo parameters, not the stack's region and account: the finding's id
        # below must read the same whether or not the CLI sets CDK_DEFAULT_REGION/ACCOUNT.
        executions = f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}:execution:{state_machine_name(self)}:*"
        api.function.add_to_role_policy(iam.PolicyStatement(actions=["states:StopExecution"], resources=[executions]))
        accept(
            api.function.role,  # type: ignore[arg-type]
            {
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
                f"{state_machine_name(self)}:*]": "Stops executions of the care state machine only (a reschedule or "
                "cancel ends the appointment's run).",
            },
        )
        ApiFirewall(
            self,
            "Firewall",
            stage=api.rest_api.deployment_stage,
            stage_name=settings.stage,
            public_requests_per_ip=settings.public_requests_per_ip,
            key=key,
            log_retention_days=settings.log_retention_days,
            retain_logs=retain,
        )
        Operations(
            self,
            "Operations",
            settings=settings,
            key=key,
            functions={"Api": api.function, "Workflow": workflow.function},
            rest_api=api.rest_api,
            state_machine=workflow.state_machine,
        )
        api_url = f"https://{settings.api_domain_name}/" if settings.api_domain_name else api.rest_api.url
        site.secure(
            connect_to=[
                f"https://{api.rest_api.rest_api_id}.execute-api.{self.region}.{self.url_suffix}",
                *([f"https://{settings.api_domain_name}"] if settings.api_domain_name else []),
                f"https://cognito-idp.{self.region}.{self.url_suffix}",
            ]
        )
        # The client's runtime configuration, from this deployment's own values (web/config.js reads it).
        site.publish(
            {
                "apiUrl": api_url,
                "region": self.region,
                "userPoolId": identity.user_pool.user_pool_id,
                "userPoolClientId": identity.client.user_pool_client_id,
            }
        )
        CfnOutput(self, "SiteUrl", value=f"{site.origin}/")
        CfnOutput(self, "ApiUrl", value=api.rest_api.url)
        if api.domain is not None:
            CfnOutput(self, "ApiDomainUrl", value=f"https://{settings.api_domain_name}/")
            CfnOutput(self, "ApiDomainTarget", value=api.domain.domain_name_alias_domain_name)
        CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=identity.client.user_pool_client_id)
        CfnOutput(self, "TableName", value=data.table.table_name)  # for the operator's `make first-admin`
