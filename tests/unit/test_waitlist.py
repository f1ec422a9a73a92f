"""Who a freed time goes to: pure rules, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from clinic.domain.waitlist import WaitlistEntry, in_turn
from pydantic import ValidationError

NEW_YORK = ZoneInfo("America/New_York")
JOINED = datetime(2027, 2, 1, 15, tzinfo=UTC)
THURSDAY_9 = datetime(2027, 3, 4, 9, tzinfo=NEW_YORK)


def entry(n: int, **changes: object) -> WaitlistEntry:
    fields = {
        "entry_id": f"e{n}", "clinic_id": "north", "patient_id": f"p{n}", "session_type": "spravato",
        "weekdays": ["thu"], "earliest": time(8), "latest": time(12), "created_at": JOINED, "position": n,
    }
    return WaitlistEntry(**(fields | changes))


def test_entries_want_their_session_type_weekdays_and_window_inclusive() -> None:
    wanted = entry(1)
    assert wanted.wants("spravato", THURSDAY_9)
    assert wanted.wants("spravato", THURSDAY_9.replace(hour=12)) and wanted.wants("spravato", THURSDAY_9.replace(hour=8))
    assert not wanted.wants("spravato", THURSDAY_9.replace(hour=12, minute=15))
    assert not wanted.wants("iv-ketamine", THURSDAY_9)
    assert not wanted.wants("spravato", THURSDAY_9 + timedelta(days=1))


def test_offers_go_in_join_order_to_the_first_who_want_it_and_may_take_it() -> None:
    entries = [entry(5), entry(2, weekdays=["mon"]), entry(4), entry(1), entry(3)]
    chosen = in_turn(entries, "spravato", THURSDAY_9, eligible=lambda e: e.patient_id != "p3", limit=2)
    assert [e.entry_id for e in chosen] == ["e1", "e4"]


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError, match="latest must not be before earliest"):
        entry(1, earliest=time(12), latest=time(8))
