"""How the service reaches people: SMS through SNS (to patients, and pages to the pagers of
each clinic's own escalation chain: no topic is shared by clinics, whose subscribers would
read every practice's alerts) and, when a sender is configured, email through SES."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct


class Messaging(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        email_sender: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.email_sender = email_sender

    def environment(self, patient_link_base_url: str) -> dict[str, str]:
        """What a function that sends messages needs to know (names, never PHI)."""
        environment = {"PATIENT_LINK_BASE_URL": patient_link_base_url}
        if self.email_sender:
            environment["EMAIL_SENDER"] = self.email_sender
        return environment

    def grant_send(self, grantee: iam.IGrantable) -> None:
        # SMS to a phone number has no resource ARN to scope to.
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Publish"], not_resources=["arn:*:sns:*:*:*"])
        )
        if self.email_sender:
            identity = Stack.of(self).format_arn(
                service="ses",
                resource="identity",
                resource_name=self.email_sender.split("@")[-1],  # the verified domain
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )
            grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(actions=["ses:SendEmail"], resources=[identity]))
