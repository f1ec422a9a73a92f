"""Messages to patients (SMS through SNS, email through SES) and pages to clinicians (an SNS
topic). Bodies carry a link or an appointment id, never PHI."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..domain.errors import TemporarilyUnavailable
from ..domain.patients import Patient


class Notifier:
    def __init__(self, sns: Any, ses: Any, clinician_topic_arn: str, email_sender: str | None):
        self.sns = sns
        self.ses = ses
        self.clinician_topic_arn = clinician_topic_arn
        self.email_sender = email_sender

    def to_patient(self, patient: Patient, subject: str, text: str) -> str:
        """Sends by SMS when the patient has a phone, else by email; returns the channel used."""
        try:
            if patient.phone:
                self.sns.publish(
                    PhoneNumber=patient.phone,
                    Message=text,
                    MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
                )
                return "sms"
            if patient.email and self.email_sender:
                self.ses.send_email(
                    Source=self.email_sender,
                    Destination={"ToAddresses": [patient.email]},
                    Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}},
                )
                return "email"
        except ClientError as error:
            raise TemporarilyUnavailable("the message could not be sent") from error
        raise NoChannel("the patient has no phone number and email delivery is not configured")

    def to_clinicians(self, subject: str, text: str) -> None:
        try:
            self.sns.publish(TopicArn=self.clinician_topic_arn, Subject=subject, Message=text)
        except ClientError as error:
            raise TemporarilyUnavailable("the clinician page could not be sent") from error


class NoChannel(Exception):
    """No way to reach the patient: a permanent failure the workflow reports to staff."""
