"""The clinic's own day where it differs from UTC's: Sydney (UTC+11 in December) early in
the morning, Honolulu (UTC-10) late in the evening. Expectations are literal UTC instants
and dates worked out by hand from the clinic's wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from clinic.domain.appointments import Action, Status, next_status
from clinic.domain.care import reminder_times, rems_form_overdue_at
from clinic.domain.errors import IllegalTransition, InvalidRequest
from clinic.domain.escalations import end_of_day
from clinic.domain.resources import Chair, Clinic, ClinicProfile, Provider, TimeRange
from clinic.domain.rules import ClinicRules
from clinic.domain.scheduling import Scheduler
from zoneinfo import ZoneInfo

from tests.support.appointments import appointment

RULES = ClinicRules()
SPRAVATO = RULES.session_types["spravato"]  # 15 + 120 + 15 = 150 minutes
SYDNEY = ZoneInfo("Australia/Sydney")
HONOLULU = ZoneInfo("Pacific/Honolulu")
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def clinic(zone: ZoneInfo, opening: tuple[str, str], nurse: tuple[str, str]) -> Clinic:
    return Clinic(
        profile=ClinicProfile(
            clinic_id="c", name="C", time_zone=zone.key,
            opening_hours={d: [TimeRange(start=opening[0], end=opening[1])] for d in WEEK},
        ),
        chairs={"c1": Chair(chair_id="c1", name="Chair 1")},
        providers={"nurse": Provider(provider_id="nurse", name="Nurse", role="nurse", capacity=1,
                                     working_hours={d: [TimeRange(start=nurse[0], end=nurse[1])] for d in WEEK})},
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


SYDNEY_CLINIC = clinic(SYDNEY, ("07:00", "18:00"), ("07:00", "15:00"))
HONOLULU_CLINIC = clinic(HONOLULU, ("08:00", "22:00"), ("12:00", "22:00"))
NOW = utc("2026-12-01T17:00:00Z")


@pytest.mark.parametrize(
    ("place", "instant", "local_day"),
    [
        (SYDNEY_CLINIC, "2026-12-08T20:00:00Z", date(2026, 12, 9)),  # 07:00 on the 9th in Sydney
        (SYDNEY_CLINIC, "2026-12-08T12:59:00Z", date(2026, 12, 8)),  # 23:59 on the 8th
        (HONOLULU_CLINIC, "2026-12-10T05:00:00Z", date(2026, 12, 9)),  # 19:00 on the 9th in Honolulu
        (HONOLULU_CLINIC, "2026-12-10T10:00:00Z", date(2026, 12, 10)),  # midnight starting the 10th
        (SYDNEY_CLINIC, "2026-12-09T19:50:00Z", date(2026, 12, 10)),  # 06:50 on the 10th
        (HONOLULU_CLINIC, "2026-12-09T04:50:00Z", date(2026, 12, 8)),  # 18:50 on the 8th
    ],
)
def test_an_instant_belongs_to_the_clinics_day(place: Clinic, instant: str, local_day: date) -> None:
    assert Scheduler(RULES, place).local_date(utc(instant)) == local_day


def test_sydneys_first_start_of_the_day_is_the_evening_before_in_utc() -> None:
    slots = Scheduler(RULES, SYDNEY_CLINIC).availability(date(2026, 12, 9), SPRAVATO, {}, NOW)
    assert slots[0].start == utc("2026-12-08T20:00:00Z")  # 07:00 opening
    assert slots[-1].start == utc("2026-12-09T01:30:00Z")  # 12:30: the nurse stops at 15:00
    Scheduler(RULES, SYDNEY_CLINIC).check_start(utc("2026-12-08T20:00:00Z"), SPRAVATO, NOW)
    with pytest.raises(InvalidRequest):
        Scheduler(RULES, SYDNEY_CLINIC).check_start(utc("2026-12-08T19:45:00Z"), SPRAVATO, NOW)  # 06:45


def test_honolulus_last_start_of_the_day_is_the_next_morning_in_utc() -> None:
    slots = Scheduler(RULES, HONOLULU_CLINIC).availability(date(2026, 12, 9), SPRAVATO, {}, NOW)
    assert slots[0].start == utc("2026-12-09T22:00:00Z")  # 12:00, when the nurse starts
    assert slots[-1].start == utc("2026-12-10T05:30:00Z")  # 19:30 + 150 min = 22:00, closing
    with pytest.raises(InvalidRequest):
        Scheduler(RULES, HONOLULU_CLINIC).check_start(utc("2026-12-10T05:45:00Z"), SPRAVATO, NOW)  # ends after 22:00


def test_a_provider_is_checked_against_their_hours_on_the_clinics_day() -> None:
    scheduler = Scheduler(RULES, SYDNEY_CLINIC)
    block = scheduler.check_start(utc("2026-12-08T20:00:00Z"), SPRAVATO, NOW)
    scheduler.check_provider_hours(SYDNEY_CLINIC.providers["nurse"], block)
    late = Provider(provider_id="late", name="Late", role="nurse", capacity=1,
                    working_hours={"wed": [TimeRange(start="08:00", end="18:00")]})
    with pytest.raises(InvalidRequest):
        scheduler.check_provider_hours(late, block)
    tuesday_only = late.model_copy(update={"working_hours": {"tue": [TimeRange(start="07:00", end="18:00")]}})
    with pytest.raises(InvalidRequest):  # the 8th is a Tuesday in UTC, the 9th a Wednesday in Sydney
        scheduler.check_provider_hours(tuesday_only, block)


@pytest.mark.parametrize(
    ("now", "clinic_today", "allowed"),
    [
        ("2026-12-08T19:50:00Z", "2026-12-09", True),  # Sydney 06:50 on the session's day, the 8th in UTC
        ("2026-12-09T19:50:00Z", "2026-12-10", False),  # Sydney 06:50 the next day, the 9th in UTC
        ("2026-12-10T04:50:00Z", "2026-12-09", True),  # Honolulu 18:50 on the session's day, the 10th in UTC
        ("2026-12-09T04:50:00Z", "2026-12-08", False),  # Honolulu 18:50 the day before, the 9th in UTC
    ],
)
def test_check_in_belongs_to_the_clinics_day(now: str, clinic_today: str, allowed: bool) -> None:
    """The clinic's today (worked out by local_date, tested above) against the session's day."""
    booked = appointment(status=Status.BOOKED).model_copy(update={"local_date": "2026-12-09"})
    if allowed:
        assert next_status(booked, Action.CHECK_IN, utc(now), clinic_today) is Status.ARRIVED
    else:
        with pytest.raises(IllegalTransition):
            next_status(booked, Action.CHECK_IN, utc(now), clinic_today)


def test_same_day_tasks_are_due_at_the_end_of_the_clinics_day() -> None:
    assert end_of_day(utc("2026-12-09T22:05:00Z"), SYDNEY) == utc("2026-12-10T12:59:00Z")  # 09:05 on the 10th
    assert end_of_day(utc("2026-12-11T07:05:00Z"), HONOLULU) == utc("2026-12-11T09:59:00Z")  # 21:05 on the 10th


def test_the_rems_form_turns_overdue_at_the_clinics_midnight() -> None:
    assert rems_form_overdue_at(date(2026, 12, 9), RULES.care, SYDNEY) == utc("2026-12-16T13:00:00Z")
    assert rems_form_overdue_at(date(2026, 12, 9), RULES.care, HONOLULU) == utc("2026-12-17T10:00:00Z")


def test_reminders_are_48_and_24_hours_before_the_instant() -> None:
    start = utc("2026-12-08T20:00:00Z")  # Sydney 07:00
    assert reminder_times(start, RULES.care, NOW) == [(utc("2026-12-06T20:00:00Z"), 48), (utc("2026-12-07T20:00:00Z"), 24)]
