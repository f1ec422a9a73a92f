"""Courses of treatment: the recurrence a course template describes, and the spacing rules
its sessions keep. Pure: which chairs are free is the service's question."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.rrule import FR, MO, SA, SU, TH, TU, WE, WEEKLY, rrule

from .errors import InvalidRequest
from .model import StrictRecord
from .resources import WEEKDAYS, Weekday
from .rules import CourseTemplate

_RRULE_DAYS = dict(zip(WEEKDAYS, (MO, TU, WE, TH, FR, SA, SU), strict=True))


class PreferredTime(StrictRecord):
    weekday: Weekday
    at: time


class Occurrence(StrictRecord):
    """One session of a planned course, at the clinic's wall-clock time."""

    number: int  # 1-based, in course order
    phase: int  # 1-based
    start: datetime  # aware, in the clinic's zone


def occurrences(
    template: CourseTemplate, first_day: date, preferred: Sequence[PreferredTime], zone: ZoneInfo
) -> list[Occurrence]:
    """The course's sessions from `first_day` on the preferred weekdays and times. Times are
    wall-clock: a 09:00 session stays 09:00 across a DST change. Each phase starts the day after
    the previous one's last session; a phase with `per_week` sessions uses the first `per_week`
    preferred weekdays (in week order)."""
    if len({p.weekday for p in preferred}) != len(preferred):
        raise InvalidRequest("preferredTimes", "name each weekday once")
    if len(preferred) < template.weekdays_needed:
        raise InvalidRequest(
            "preferredTimes", f"{template.label} needs {template.weekdays_needed} preferred weekdays; got {len(preferred)}"
        )
    ordered = sorted(preferred, key=lambda p: WEEKDAYS.index(p.weekday))
    planned: list[Occurrence] = []
    phase_start = first_day
    for phase_number, phase in enumerate(template.phases, start=1):
        days = _spread(ordered, phase.per_week)
        at = {p.weekday: p.at for p in days}
        rule = rrule(
            WEEKLY,
            interval=phase.every_weeks,
            byweekday=[_RRULE_DAYS[p.weekday] for p in days],
            count=phase.sessions,
            dtstart=datetime.combine(phase_start, time()),
        )
        for moment in rule:
            day = moment.date()
            wall = at[WEEKDAYS[day.weekday()]]
            planned.append(
                Occurrence(number=len(planned) + 1, phase=phase_number, start=datetime.combine(day, wall, tzinfo=zone))
            )
        phase_start = planned[-1].start.date() + timedelta(days=1)
    return planned


def _spread(ordered: Sequence[PreferredTime], per_week: int) -> list[PreferredTime]:
    """`per_week` of the preferred days, as far apart in the week as the choice allows
    (Mon/Wed/Fri give Mon+Fri for twice weekly, Mon for weekly)."""
    if per_week == 1:
        return [ordered[0]]
    step = (len(ordered) - 1) / (per_week - 1)
    return [ordered[round(i * step)] for i in range(per_week)]


def spacing_problem(start: datetime, others: Iterable[datetime], minimum: timedelta, zone: ZoneInfo) -> str | None:
    """Why `start` is too close to one of the patient's `others` sessions, or None."""
    for other in sorted(others):
        if abs(start - other) < minimum:
            hours = f"{minimum.total_seconds() / 3600:g}"
            return f"is less than {hours} h from the patient's session at {other.astimezone(zone):%Y-%m-%d %H:%M}"
    return None


def span_problem(template: CourseTemplate, starts: Sequence[datetime]) -> str | None:
    if template.within_days is None or len(starts) < 2:
        return None
    if (max(starts) - min(starts)).days >= template.within_days:
        return f"{template.label} must be given within {template.within_days} days"
    return None


def nearest_first(candidates: Iterable[datetime], wanted: datetime, zone: ZoneInfo) -> list[datetime]:
    """Candidates on the nearest day first and, within a day, nearest the wanted time of day
    (what a patient who asked for 09:00 would pick); earlier first on a tie."""
    wanted_local = wanted.astimezone(zone)

    def distance(candidate: datetime) -> tuple[int, float, datetime]:
        local = candidate.astimezone(zone)
        days = abs((local.date() - wanted_local.date()).days)
        clock = abs(
            datetime.combine(wanted_local.date(), local.time()) - datetime.combine(wanted_local.date(), wanted_local.time())
        )
        return days, clock.total_seconds(), candidate

    return sorted(candidates, key=distance)


class CourseStatus(StrEnum):
    BOOKING = "booking"  # its sessions are being written; never left so (rolled back on failure)
    ACTIVE = "active"
    CANCELLED = "cancelled"


class Course(StrictRecord):
    course_id: str
    clinic_id: str
    patient_id: str
    template: str
    session_type: str
    status: CourseStatus
    version: int
    created_at: datetime
    updated_at: datetime
    cancellation_reason: str | None = None
