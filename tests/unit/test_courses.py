"""Course templates and their recurrence: pure rules, no AWS."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from clinic.domain.courses import PreferredTime, nearest_first, occurrences, spacing_problem, span_problem
from clinic.domain.errors import InvalidRequest
from clinic.domain.rules import ClinicRules, CoursePhase, CourseTemplate
from pydantic import ValidationError

NEW_YORK = ZoneInfo("America/New_York")
TEMPLATES = ClinicRules().course_templates


def _at(*days_and_times: tuple[str, time]) -> list[PreferredTime]:
    return [PreferredTime(weekday=day, at=at) for day, at in days_and_times]


def test_spravato_induction_is_twice_weekly_for_four_weeks_then_weekly_and_keeps_09_00_across_dst() -> None:
    # US daylight saving time starts on Sunday 2027-03-14.
    planned = occurrences(TEMPLATES["spravato-induction"], date(2027, 3, 1), _at(("mon", time(9)), ("thu", time(9))), NEW_YORK)

    days = [o.start.date() for o in planned]
    assert days == [date(2027, 3, d) for d in (1, 4, 8, 11, 15, 18, 22, 25, 29)] + [date(2027, 4, d) for d in (5, 12, 19)]
    assert [o.phase for o in planned] == [1] * 8 + [2] * 4
    assert {o.start.astimezone(NEW_YORK).time() for o in planned} == {time(9)}
    utc_hours = [o.start.astimezone(UTC).hour for o in planned]
    assert utc_hours[:4] == [14] * 4 and utc_hours[4:] == [13] * 8  # 09:00 EST, then 09:00 EDT
    assert [o.number for o in planned] == list(range(1, 13))


def test_each_weekday_keeps_its_own_preferred_time() -> None:
    planned = occurrences(TEMPLATES["spravato-induction"], date(2027, 3, 1), _at(("thu", time(14, 30)), ("mon", time(9))), NEW_YORK)
    assert [(o.start.strftime("%a"), o.start.time()) for o in planned[:2]] == [("Mon", time(9)), ("Thu", time(14, 30))]


def test_iv_induction_spreads_six_infusions_over_two_weeks_on_the_preferred_days() -> None:
    planned = occurrences(
        TEMPLATES["iv-induction"], date(2027, 3, 3), _at(("mon", time(8)), ("wed", time(8)), ("fri", time(8))), NEW_YORK
    )
    assert [o.start.date() for o in planned] == [date(2027, 3, d) for d in (3, 5, 8, 10, 12, 15)]


def test_twice_weekly_from_three_preferred_days_takes_the_two_furthest_apart() -> None:
    planned = occurrences(
        TEMPLATES["spravato-induction"], date(2027, 3, 1), _at(("mon", time(9)), ("wed", time(9)), ("fri", time(9))), NEW_YORK
    )
    assert {o.start.strftime("%a") for o in planned[:8]} == {"Mon", "Fri"}
    assert {o.start.strftime("%a") for o in planned[8:]} == {"Mon"}


def test_maintenance_every_two_weeks() -> None:
    planned = occurrences(TEMPLATES["spravato-maintenance"], date(2027, 3, 2), _at(("tue", time(10)),), NEW_YORK)
    gaps = {(b.start - a.start).days for a, b in itertools.pairwise(planned)}
    assert len(planned) == 6 and gaps == {14}


def test_too_few_preferred_days_names_the_field() -> None:
    with pytest.raises(InvalidRequest) as refused:
        occurrences(TEMPLATES["iv-induction"], date(2027, 3, 1), _at(("mon", time(9)), ("wed", time(9))), NEW_YORK)
    assert refused.value.field == "preferredTimes" and "needs 3 preferred weekdays" in refused.value.message


def test_a_weekday_named_twice_is_refused() -> None:
    with pytest.raises(InvalidRequest) as refused:
        occurrences(TEMPLATES["spravato-induction"], date(2027, 3, 1), _at(("mon", time(9)), ("mon", time(15))), NEW_YORK)
    assert refused.value.field == "preferredTimes"


def test_spacing_and_span_problems() -> None:
    start = datetime(2027, 3, 1, 14, tzinfo=UTC)
    assert spacing_problem(start, [start + timedelta(hours=48)], timedelta(hours=48), NEW_YORK) is None
    problem = spacing_problem(start, [start + timedelta(hours=47)], timedelta(hours=48), NEW_YORK)
    assert problem == "is less than 48 h from the patient's session at 2027-03-03 08:00"
    iv = TEMPLATES["iv-induction"]
    assert span_problem(iv, [start, start + timedelta(days=20)]) is None
    assert "within 21 days" in (span_problem(iv, [start, start + timedelta(days=21)]) or "")


def test_nearest_first_prefers_the_nearest_day_then_the_nearest_time_of_day() -> None:
    wanted = datetime(2027, 3, 4, 9, tzinfo=NEW_YORK)
    same_day_late = wanted.replace(hour=15, minute=30)
    day_before_same_time, day_after_same_time = wanted - timedelta(days=1), wanted + timedelta(days=1)
    day_before_late = day_before_same_time.replace(hour=15, minute=30)  # closer in hours than the day after at 09:00
    ordered = nearest_first([day_after_same_time, day_before_late, same_day_late, day_before_same_time], wanted, NEW_YORK)
    assert ordered == [same_day_late, day_before_same_time, day_after_same_time, day_before_late]


def test_a_template_must_name_a_known_session_type() -> None:
    bad = CourseTemplate(label="x", session_type="nope", phases=[CoursePhase(sessions=1)])
    with pytest.raises(ValidationError, match="unknown session type 'nope'"):
        ClinicRules(course_templates={"x": bad})


def test_built_in_templates_follow_the_session_types_configured() -> None:
    rules = ClinicRules.model_validate(
        {"sessionTypes": {"iv-ketamine": {"label": "IV", "dosingMinutes": 40, "observationMinutes": 60, "turnoverMinutes": 20}}}
    )
    assert set(rules.course_templates) == {"iv-induction", "iv-booster"}
