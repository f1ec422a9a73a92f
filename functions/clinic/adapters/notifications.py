"""Messages to patients (SMS through SNS, email through SES) and pages to clinicians (SMS to
the pagers of the clinic's own escalation chain; no topic is shared by clinics). Bodies
carry a link or an appointment id, never PHI."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..domain.errors import TemporarilyUnavailable, Undeliverable
from ..domain.patients import Patient

# What a retry after a pause can cure; any other refusal (an opted-out or invalid number,
# an unverified sender) will not change by retrying.
# SNS says "Throttled" and "KMSThrottling" (its ThrottledException, KMSThrottlingException); SES "Throttling".
_TRANSIENT = frozenset(
    {"Throttled", "Throttling", "ThrottlingException", "TooManyRequestsException", "InternalError", "InternalFailure",
     "ServiceUnavailable", "KMSThrottling", "KMSThrottlingException"}
)


def _failure(error: ClientError, what: str) -> Exception:
    if error.response["Error"]["Code"] in _TRANSIENT:
        return TemporarilyUnavailable(f"{what} could not be sent; retry shortly")
    return Undeliverable(f"{what} was refused ({error.response['Error']['Code']})")


class Notifier:
    def __init__(self, sns: Any, ses: Any, email_sender: str | None):
        self.sns = sns
        self.ses = ses
        self.email_sender = email_sender

    def to_patient(self, patient: Patient, subject: str, text: str) -> str:
        """Sends by SMS when the patient has a phone, else by email; returns the channel used."""
        try:
            if patient.phone:
                self._sms(patient.phone, text)
                return "sms"
            if patient.email and self.email_sender:
                self.ses.send_email(
                    Source=self.email_sender,
                    Destination={"ToAddresses": [patient.email]},
                    Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}},
                )
                return "email"
        except ClientError as error:
            raise _failure(error, "the message") from error
        raise Undeliverable("the patient has no phone number and email delivery is not configured")

    def to_pager(self, phone: str, text: str) -> None:
        """A safety page to one clinician's phone."""
        try:
            self._sms(phone, text)
        except ClientError as error:
            raise _failure(error, "the safety page") from error

    def _sms(self, phone: str, text: str) -> None:
        self.sns.publish(
            PhoneNumber=phone,
            Message=text,
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )
