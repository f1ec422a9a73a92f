"""How the service reaches people: an encrypted SNS topic that pages the clinic's
clinicians, SMS to patients through SNS and, when a sender is configured, email through SES."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class Messaging(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        clinician_emails: list[str],
        email_sender: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.clinician_topic = sns.Topic(self, "ClinicianAlerts", master_key=key, enforce_ssl=True)
        for address in clinician_emails:
            self.clinician_topic.add_subscription(subscriptions.EmailSubscription(address))
        self.email_sender = email_sender

    def environment(self, patient_link_base_url: str) -> dict[str, str]:
        """What a function that sends messages needs to know (names, never PHI)."""
        environment = {"CLINICIAN_TOPIC_ARN": self.clinician_topic.topic_arn, "PATIENT_LINK_BASE_URL": patient_link_base_url}
        if self.email_sender:
            environment["EMAIL_SENDER"] = self.email_sender
        return environment

    def grant_send(self, grantee: iam.IGrantable) -> None:
        self.clinician_topic.grant_publish(grantee)
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
