"""Request and response bodies of the REST API (camelCase JSON)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ..domain.resources import IDENTIFIER, WeeklyHours


class _Request(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True)


class ClinicProfileRequest(_Request):
    name: str = Field(min_length=1, max_length=120)
    time_zone: str | None = Field(default=None, description="IANA zone; defaults to the deployment's")
    opening_hours: WeeklyHours
    rems_certified: bool = False


class ChairRequest(_Request):
    name: str = Field(min_length=1, max_length=120)
    active: bool = True


class ProviderRequest(_Request):
    name: str = Field(min_length=1, max_length=120)
    role: str = Field(pattern="^(prescriber|nurse)$")
    capacity: int | None = Field(default=None, ge=1, le=20)
    working_hours: WeeklyHours
    active: bool = True


class BookingRequest(_Request):
    clinic_id: str = Field(pattern=IDENTIFIER)
    patient_id: str = Field(min_length=1, max_length=64)
    session_type: str = Field(min_length=1, max_length=40)
    chair_id: str = Field(pattern=IDENTIFIER)
    provider_id: str = Field(pattern=IDENTIFIER)
    start: datetime = Field(description="ISO 8601 with a UTC offset")


class RescheduleRequest(_Request):
    start: datetime
    chair_id: str | None = Field(default=None, pattern=IDENTIFIER)
    provider_id: str | None = Field(default=None, pattern=IDENTIFIER)


class CancelRequest(_Request):
    reason: str = Field(min_length=3, max_length=500)


class DayQuery(_Request):
    date: date
