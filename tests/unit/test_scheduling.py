"""Availability and start-time rules, without AWS."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from clinic.domain.errors import InvalidRequest
from clinic.domain.resources import Chair, Clinic, ClinicProfile, Provider, TimeRange
from clinic.domain.rules import ClinicRules
from clinic.domain.scheduling import Block, Grain, Scheduler, grains_for, lattice

NEW_YORK = ZoneInfo("America/New_York")
RULES = ClinicRules()
SPRAVATO = RULES.session_types["spravato"]  # 15 + 120 + 15 = 150 minutes
HOURS = {d: [TimeRange(start="08:00", end="18:00")] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def clinic(chairs: int = 1, capacity: int = 1, provider_hours=None) -> Clinic:
    return Clinic(
        profile=ClinicProfile(clinic_id="north", name="North", time_zone="America/New_York", opening_hours=HOURS),
        chairs={f"c{n}": Chair(chair_id=f"c{n}", name=f"Chair {n}") for n in range(1, chairs + 1)},
        providers={
            "nurse": Provider(
                provider_id="nurse", name="Nurse", role="nurse", capacity=capacity, working_hours=provider_hours or HOURS
            )
        },
    )


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


DAY = date(2026, 12, 7)  # a Monday
NOW = local(DAY - timedelta(days=1), 12)


def held(block_start: datetime, chair: str = "c1", provider: str = "nurse") -> dict[Grain, int]:
    block = Block(block_start, block_start + SPRAVATO.block)
    return {grain: 1 for grain in grains_for(block, chair, provider, RULES.grain)}


def test_an_empty_day_offers_every_step_whose_whole_block_fits_before_closing() -> None:
    slots = Scheduler(RULES, clinic()).availability(DAY, SPRAVATO, {}, NOW)
    starts = [s.start.astimezone(NEW_YORK).strftime("%H:%M") for s in slots]
    assert starts[0] == "08:00"
    assert starts[-1] == "15:30"  # 15:30 + 150 min = 18:00, closing
    assert len(starts) == (15 * 60 + 30 - 8 * 60) // 15 + 1


def test_a_booked_chair_blocks_every_start_whose_block_overlaps_it() -> None:
    occupancy = held(local(DAY, 10))
    slots = Scheduler(RULES, clinic()).availability(DAY, SPRAVATO, occupancy, NOW)
    starts = {s.start.astimezone(NEW_YORK).strftime("%H:%M") for s in slots}
    assert "07:45" not in starts and "08:00" not in starts  # 08:00-10:30 overlaps 10:00
    assert "07:30" not in starts  # before opening
    assert "12:30" in starts  # 10:00 + 150 min
    assert not {"08:00", "09:00", "10:00", "11:00", "12:15"} & starts


def test_provider_capacity_allows_parallel_sessions_up_to_the_limit() -> None:
    two_chairs = clinic(chairs=2, capacity=2)
    one_held = held(local(DAY, 10), chair="c1")
    slots = Scheduler(RULES, two_chairs).availability(DAY, SPRAVATO, one_held, NOW)
    at_ten = next(s for s in slots if s.start == local(DAY, 10))
    assert at_ten.chair_ids == ("c2",) and at_ten.provider_ids == ("nurse",)
    both_held = {**one_held, **{g: 2 for g in held(local(DAY, 10), chair="c2") if g.kind == "provider"}}
    slots = Scheduler(RULES, two_chairs).availability(DAY, SPRAVATO, both_held, NOW)
    assert all(s.start != local(DAY, 10) for s in slots)


def test_minimum_notice_and_provider_hours_narrow_the_day() -> None:
    until_one = {d: [TimeRange(start="08:00", end="13:00")] for d in HOURS}
    now = local(DAY, 8, 50)
    slots = Scheduler(RULES, clinic(provider_hours=until_one)).availability(DAY, SPRAVATO, {}, now)
    starts = [s.start.astimezone(NEW_YORK).strftime("%H:%M") for s in slots]
    assert starts == ["10:00", "10:15", "10:30"]  # 60 min notice from 08:50; block must end by 13:00


@pytest.mark.parametrize(
    ("day", "expected_utc"),
    [
        (date(2027, 3, 13), "13:00"),  # EST, UTC-5
        (date(2027, 3, 14), "12:00"),  # clocks spring forward overnight: EDT, UTC-4
        (date(2027, 11, 7), "13:00"),  # clocks fall back overnight
    ],
)
def test_opening_stays_at_local_eight_across_dst_changes(day: date, expected_utc: str) -> None:
    now = local(day - timedelta(days=1), 9)
    slots = Scheduler(RULES, clinic()).availability(day, SPRAVATO, {}, now)
    assert slots[0].start.astimezone(NEW_YORK).strftime("%H:%M") == "08:00"
    assert slots[0].start.astimezone(UTC).strftime("%H:%M") == expected_utc
    assert slots[-1].start.astimezone(NEW_YORK).strftime("%H:%M") == "15:30"


def test_grains_sit_on_a_fixed_utc_lattice_so_shifted_blocks_share_them() -> None:
    first = lattice(Block(local(DAY, 9), local(DAY, 11, 30)), RULES.grain)
    shifted = lattice(Block(local(DAY, 9, 15), local(DAY, 11, 45)), RULES.grain)
    assert len(first) == 10 and len(shifted) == 10
    assert len(set(first) & set(shifted)) == 9
    adjacent = lattice(Block(local(DAY, 11, 30), local(DAY, 14)), RULES.grain)
    assert not set(first) & set(adjacent)


def test_a_block_off_the_lattice_claims_every_grain_it_touches() -> None:
    points = lattice(Block(local(DAY, 9, 5), local(DAY, 9, 20)), RULES.grain)
    assert [p.astimezone(NEW_YORK).strftime("%H:%M") for p in points] == ["09:00", "09:15"]


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (datetime(2026, 12, 7, 10, 0), "must include a UTC offset"),
        (local(DAY - timedelta(days=2), 10), "is in the past"),
        (local(DAY - timedelta(days=1), 12, 30), "minutes' notice"),
        (local(DAY, 10, 5), "15-minute step"),
        (local(DAY, 16), "opening hours"),
        (local(DAY, 7, 30), "opening hours"),
        (local(DAY + timedelta(days=200), 10), "days ahead"),
    ],
)
def test_start_rules_name_the_field_and_the_problem(start: datetime, message: str) -> None:
    with pytest.raises(InvalidRequest) as error:
        Scheduler(RULES, clinic()).check_start(start, SPRAVATO, NOW)
    assert error.value.field == "start"
    assert message in error.value.message


def test_a_valid_start_gives_the_whole_block() -> None:
    block = Scheduler(RULES, clinic()).check_start(local(DAY, 9), SPRAVATO, NOW)
    assert block.end - block.start == timedelta(minutes=150)


def test_unknown_session_type_lists_the_known_ones() -> None:
    with pytest.raises(InvalidRequest) as error:
        Scheduler(RULES, clinic()).session_type("ketamine-lozenge")
    assert error.value.field == "sessionType"
    assert "iv-ketamine" in error.value.message and "spravato" in error.value.message


def test_provider_must_work_through_the_whole_block() -> None:
    morning_only = {d: [TimeRange(start="08:00", end="10:00")] for d in HOURS}
    scheduler = Scheduler(RULES, clinic(provider_hours=morning_only))
    block = scheduler.check_start(local(DAY, 9), SPRAVATO, NOW)
    with pytest.raises(InvalidRequest) as error:
        scheduler.check_provider_hours(scheduler.provider("nurse"), block)
    assert error.value.field == "providerId"
