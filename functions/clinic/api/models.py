"""Request and response bodies of the REST API (camelCase JSON)."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator
from pydantic.alias_generators import to_camel

from ..domain.care import BloodPressure, Checklist, Measurements
from ..domain.model import Name, PersonName
from ..domain.patients import EMAIL, PHONE, PatientDetails
from ..domain.staff import USERNAME, Role
from ..domain.resources import IDENTIFIER, Weekday, WeeklyHours


class _Request(BaseModel):
    model_config = ConfigDict(defer_build=True, alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True)


class ClinicProfileRequest(_Request):
    name: Name
    time_zone: str | None = Field(default=None, description="IANA zone; defaults to the deployment's")
    opening_hours: WeeklyHours
    rems_certified: StrictBool = False
    escalation_chain: list[str] = Field(
        default_factory=list, max_length=3, description="provider ids paged in turn for suicide risk: on-call, backup, lead"
    )
    closures: list[date] = Field(default_factory=list, max_length=366, description="days the clinic is shut (holidays)")


class ChairRequest(_Request):
    name: Name
    active: StrictBool = True


class ProviderRequest(_Request):
    name: Name
    role: str = Field(pattern="^(prescriber|nurse)$")
    capacity: int | None = Field(default=None, ge=1, le=20)
    working_hours: WeeklyHours
    active: StrictBool = True
    pager: str | None = Field(default=None, pattern=PHONE, description="E.164 phone for safety pages")


class PatientRegistration(PatientDetails):
    confirmed_new: StrictBool = Field(
        default=False,
        description="the desk has checked the possible duplicates a 409 `possible_duplicate` named: register anyway",
    )

    def details(self) -> PatientDetails:
        return PatientDetails.model_validate(self.model_dump(exclude={"confirmed_new"}))


class PatientSearchRequest(_Request):
    text: str = Field(
        min_length=1, max_length=100,
        description="the start of a given or family name (or \"family given\"), a birth date (YYYY-MM-DD), or the last digits of a phone",
    )


class BookingRequest(_Request):
    clinic_id: str = Field(pattern=IDENTIFIER)
    patient_id: str = Field(min_length=1, max_length=64)
    session_type: str = Field(min_length=1, max_length=40)
    chair_id: str = Field(pattern=IDENTIFIER)
    provider_id: str = Field(pattern=IDENTIFIER)
    start: datetime = Field(description="ISO 8601 with a UTC offset")


class PreferredTimeRequest(_Request):
    weekday: Weekday
    at: time = Field(description="local wall-clock time, e.g. 09:00")


class CoursePlanRequest(_Request):
    clinic_id: str = Field(pattern=IDENTIFIER)
    patient_id: str = Field(min_length=1, max_length=64)
    template: str = Field(min_length=1, max_length=40, description="a course template of cdk.json's courseTemplates")
    start_date: date = Field(description="the first day the course may start (clinic's calendar)")
    preferred_times: list[PreferredTimeRequest] = Field(min_length=1, max_length=7)
    chair_id: str | None = Field(default=None, pattern=IDENTIFIER, description="preferred chair, when free")
    provider_id: str | None = Field(default=None, pattern=IDENTIFIER, description="preferred provider, when free")


class CourseSessionRequest(_Request):
    start: datetime = Field(description="ISO 8601 with a UTC offset")
    chair_id: str = Field(pattern=IDENTIFIER)
    provider_id: str = Field(pattern=IDENTIFIER)


class CourseBookingRequest(_Request):
    clinic_id: str = Field(pattern=IDENTIFIER)
    patient_id: str = Field(min_length=1, max_length=64)
    template: str = Field(min_length=1, max_length=40)
    sessions: list[CourseSessionRequest] = Field(min_length=1, max_length=60, description="e.g. a plan's placements")


class WaitlistRequest(_Request):
    patient_id: str = Field(min_length=1, max_length=64)
    session_type: str = Field(min_length=1, max_length=40)
    weekdays: list[Weekday] = Field(min_length=1, max_length=7, description="days the patient can come")
    earliest: time = Field(description="earliest start the patient can take, clinic time")
    latest: time = Field(description="latest start the patient can take, clinic time")


class RescheduleRequest(_Request):
    start: datetime
    chair_id: str | None = Field(default=None, pattern=IDENTIFIER)
    provider_id: str | None = Field(default=None, pattern=IDENTIFIER)


class CancelRequest(_Request):
    reason: str = Field(min_length=3, max_length=500)


class DayQuery(_Request):
    date: date


class OverrideRequest(_Request):
    prescriber_id: str = Field(pattern=IDENTIFIER, description="the prescriber who decided to go ahead")
    reason: str = Field(min_length=3, max_length=500)


class DoseRequest(_Request):
    pre_dose_blood_pressure: BloodPressure
    started_at: AwareDatetime = Field(description="Spravato: the first device; IV: the infusion start (ISO 8601 with offset)")
    dose_mg: float = Field(gt=0, le=1000)
    device_count: int | None = Field(default=None, ge=1, le=3)
    lot_number: str | None = Field(default=None, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    override: OverrideRequest | None = None


class VitalsRequest(Measurements):
    taken_at: AwareDatetime | None = Field(default=None, description="defaults to now")


class DischargeRequest(_Request):
    checklist: Checklist
    ready_at: AwareDatetime | None = Field(
        default=None, description="when the patient would have been ready without the minimum observation (REMS form)"
    )
    adverse_events: str | None = Field(default=None, max_length=1000, description="serious adverse events, if any")


class ConfirmationRequest(_Request):
    token: str = Field(min_length=32, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$", description="from the reminder's link")
    attending: StrictBool
    ride_arranged: StrictBool = Field(description="someone drives the patient home: no driving until the next day")


LINK_TOKEN = Field(min_length=32, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$", description="from the message's link")


class SurveyRequest(_Request):
    token: str = LINK_TOKEN


class OfferRequest(_Request):
    token: str = LINK_TOKEN


class ReminderLinkRequest(_Request):
    token: str = LINK_TOKEN


class SurveyAnswersRequest(_Request):
    token: str = LINK_TOKEN
    instrument: str = Field(min_length=1, max_length=40, description="the questionnaire answered, e.g. phq-9")
    answers: dict[str, StrictInt] = Field(description="item linkId -> the chosen option's value", max_length=40)


class AcknowledgeRequest(_Request):
    note: str | None = Field(default=None, max_length=1000, description="what was done, e.g. called the patient")


EVERY_CLINIC = ["*"]


class StaffAccessRequest(_Request):
    role: Role
    clinics: list[str] = Field(
        min_length=1, max_length=50, description='the clinic ids the member works at, or ["*"] for every clinic of the practice'
    )

    @field_validator("clinics")
    @classmethod
    def _clinic_ids(cls, value: list[str]) -> list[str]:
        if value == EVERY_CLINIC:
            return value
        if any(not re.match(IDENTIFIER, clinic) for clinic in value):
            raise ValueError('must be clinic ids (lower-case letters, digits and dashes), or ["*"] alone for every clinic')
        return sorted(set(value))

    @property
    def clinic_ids(self) -> list[str] | None:
        return None if self.clinics == EVERY_CLINIC else self.clinics


class StaffInviteRequest(StaffAccessRequest):
    username: str = Field(pattern=USERNAME, description="3 to 40 lower-case letters, digits, dots, dashes, underscores")
    email: str = Field(max_length=254, pattern=EMAIL, description="Cognito sends the temporary password here")
    given_name: PersonName
    family_name: PersonName
