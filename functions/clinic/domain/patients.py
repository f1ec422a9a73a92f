"""Patients: the minimum of protected health information the clinic needs to run a day."""

from __future__ import annotations

from datetime import date

from pydantic import ConfigDict, Field, StrictBool, field_validator, model_validator

from .errors import InvalidRequest
from .model import Name, PersonName, StrictRecord

PHONE = r"^\+[1-9][0-9]{7,14}$"  # E.164, what SMS delivery needs
EMAIL = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"


class _Model(StrictRecord):
    model_config = ConfigDict(str_strip_whitespace=True)


class EmergencyContact(_Model):
    name: Name
    phone: str = Field(pattern=PHONE)
    relationship: str | None = Field(default=None, max_length=60)


class PatientDetails(_Model):
    given_name: PersonName
    family_name: PersonName
    birth_date: date
    phone: str | None = Field(default=None, pattern=PHONE)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    emergency_contact: EmergencyContact
    rems_enrolled: StrictBool = False
    treating_ptsd: StrictBool = Field(default=False, description="PTSD is treated: the PCL-5 joins a follow-up monthly")

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth_date(cls, value: date) -> date:
        if value > date.today() or value.year < 1900:
            raise ValueError("must be a past date after 1900")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> PatientDetails:
        if not self.phone and not self.email:
            raise ValueError("give a phone number or an email address so follow-ups can reach the patient")
        return self


class Patient(PatientDetails):
    patient_id: str


def rems_enrollment_missing() -> InvalidRequest:
    """The one wording of the REMS enrollment rule, whoever finds it broken (a use case, or
    the table's condition when enrollment was withdrawn after the use case looked)."""
    return InvalidRequest("patientId", "the patient's REMS enrollment is not on file: enroll them before booking")


def check_rems_enrollment(patient: Patient, requires_rems: bool) -> None:
    """A REMS product is given only to a patient enrolled in its REMS."""
    if requires_rems and not patient.rems_enrolled:
        raise rems_enrollment_missing()
