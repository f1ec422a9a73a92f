"""What a clinic has to offer: opening hours, treatment chairs and providers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, StrictBool, field_validator, model_validator

from .model import Name, StrictRecord
from .patients import PHONE
from .rules import known_zone

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
IDENTIFIER = r"^[a-z0-9][a-z0-9-]{0,39}$"


class TimeRange(StrictRecord):
    start: time
    end: time

    @model_validator(mode="after")
    def _end_after_start(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


WeeklyHours = dict[Weekday, list[TimeRange]]


def intervals_on(hours: WeeklyHours, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The day's open intervals as UTC instants. Local wall times are converted per date,
    so an 08:00-17:00 day stays 08:00-17:00 local across a DST change."""
    ranges = hours.get(WEEKDAYS[day.weekday()], [])
    return [
        (
            datetime.combine(day, r.start, tzinfo=zone).astimezone(UTC),
            datetime.combine(day, r.end, tzinfo=zone).astimezone(UTC),
        )
        for r in ranges
    ]


def covered(intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(open_ <= start and end <= close for open_, close in intervals)


class ClinicProfile(StrictRecord):
    clinic_id: str = Field(pattern=IDENTIFIER)
    name: Name
    time_zone: str
    opening_hours: WeeklyHours
    rems_certified: StrictBool = False
    # Who a suicide-risk page goes to, in order: on-call, backup, clinic lead (provider ids).
    escalation_chain: list[str] = Field(default_factory=list, max_length=3)
    # Whole days the clinic is shut (holidays), in its own calendar.
    closures: list[date] = Field(default_factory=list, max_length=366)

    _known_zone = field_validator("time_zone")(known_zone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def opening_on(self, day: date) -> list[tuple[datetime, datetime]]:
        return [] if day in self.closures else intervals_on(self.opening_hours, day, self.zone)


class Chair(StrictRecord):
    chair_id: str = Field(pattern=IDENTIFIER)
    name: Name
    active: StrictBool = True


class Provider(StrictRecord):
    provider_id: str = Field(pattern=IDENTIFIER)
    name: Name
    role: Literal["prescriber", "nurse"]
    # Patients this provider can supervise at once; unset means the clinic rules' default.
    capacity: int | None = Field(default=None, ge=1, le=20)
    working_hours: WeeklyHours
    active: StrictBool = True
    pager: str | None = Field(default=None, pattern=PHONE, description="E.164 phone for safety pages")


class Clinic(StrictRecord):
    """A clinic's whole configuration, as one Query returns it."""

    profile: ClinicProfile
    chairs: dict[str, Chair]
    providers: dict[str, Provider]
