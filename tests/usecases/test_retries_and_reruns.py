"""The read-change-write helper and the care workflow's re-runs on the in-memory ports: a
lost race is read again and applied once, a record that keeps changing ends in a 409 that
writes nothing, and a step run twice writes once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from clinic.domain.appointments import Action, Status
from clinic.domain.care import AttentionKind
from clinic.domain.errors import Conflict

from tests.usecases.conftest import CLINIC, DESK, MONDAY, Clinic, at


def _someone_flags(clinic: Clinic, appointment_id: str, reason: str) -> None:
    """Another writer's change, landing between our read and our write."""
    clinic.records.meanwhile.append(lambda: clinic.uses.care_workflow.runs.flag(appointment_id, AttentionKind.WORKFLOW, reason))


def test_a_change_that_lost_a_race_is_read_again_and_applied_on_the_new_version(clinic: Clinic) -> None:
    clinic.patient()
    booked = clinic.book(at(9))
    _someone_flags(clinic, booked.appointment_id, "a concurrent flag")

    cancelled = clinic.uses.bookings.cancel(DESK, booked.appointment_id, "patient is unwell")

    assert (cancelled.status, cancelled.version) == (Status.CANCELLED, 3)
    assert cancelled.attention is not None and cancelled.attention.reason == "a concurrent flag"  # kept, not overwritten
    trail = clinic.records.audit_trail(booked.appointment_id)
    assert [entry.action for entry in trail] == [Action.BOOK, Action.ATTENTION, Action.CANCEL]


def test_an_appointment_that_keeps_changing_ends_in_a_409_and_the_change_is_not_written(clinic: Clinic) -> None:
    clinic.patient()
    booked = clinic.book(at(9))
    clinic.clock.now = at(8, 50)
    concurrent = iter(range(3))

    def someone_keeps_changing_it() -> None:
        n = next(concurrent, None)
        if n is not None:
            clinic.uses.care_workflow.runs.flag(booked.appointment_id, AttentionKind.WORKFLOW, f"concurrent flag {n}")
            clinic.records.meanwhile.append(someone_keeps_changing_it)  # and again before our next write

    clinic.records.meanwhile.append(someone_keeps_changing_it)

    with pytest.raises(Conflict) as refused:
        clinic.uses.front_desk.check_in(DESK, booked.appointment_id)

    assert refused.value.message == "the appointment keeps changing; reload it and try again"
    stored = clinic.records.get_appointment(booked.appointment_id)
    assert stored is not None and stored.status is Status.BOOKED and stored.checked_in_at is None
    assert stored.version == 4  # the booking and the three concurrent flags, not our check-in


def test_a_repeated_check_in_writes_nothing_and_resumes_the_run_waiting_for_it(clinic: Clinic) -> None:
    clinic.patient()
    booked = clinic.book(at(9))
    assert clinic.uses.care_workflow.park(booked.appointment_id, 1, "check-in", "token-1") == {"parked": True}
    clinic.clock.now = at(8, 50)

    first = clinic.uses.front_desk.check_in(DESK, booked.appointment_id)
    written = clinic.records.changes_written
    again = clinic.uses.front_desk.check_in(DESK, booked.appointment_id)

    assert again == first and first.status is Status.ARRIVED
    assert clinic.records.changes_written == written
    assert [token for token, _ in clinic.engine.resumed] == ["token-1", "token-1"]  # resuming twice is harmless
    assert [entry.action for entry in clinic.records.audit_trail(booked.appointment_id)] == [Action.BOOK, Action.CHECK_IN]


def test_waiting_at_a_step_already_done_resumes_at_once_and_a_rerun_of_a_wait_writes_nothing(clinic: Clinic) -> None:
    clinic.patient()
    clinic.patient("p2")
    done = clinic.book(at(9))
    waiting = clinic.book(at(9), chair="chair-2", patient="p2")
    clinic.clock.now = at(8, 50)
    clinic.uses.front_desk.check_in(DESK, done.appointment_id)

    assert clinic.uses.care_workflow.park(done.appointment_id, 1, "check-in", "token-done") == {"parked": False}
    assert clinic.engine.resumed == [("token-done", {})]

    assert clinic.uses.care_workflow.park(waiting.appointment_id, 1, "check-in", "token-wait") == {"parked": True}
    written = clinic.records.changes_written
    assert clinic.uses.care_workflow.park(waiting.appointment_id, 1, "check-in", "token-wait") == {"parked": True}
    assert clinic.records.changes_written == written
    stored = clinic.records.get_appointment(waiting.appointment_id)
    assert stored is not None and stored.updated_at == waiting.updated_at  # where the run waits is bookkeeping, not a change


def test_a_missed_check_in_becomes_a_no_show_once_and_frees_the_chair(clinic: Clinic) -> None:
    clinic.patient()
    booked = clinic.book(at(9))
    clinic.clock.now = at(9) + timedelta(minutes=30)

    assert clinic.uses.care_workflow.missed_check_in(booked.appointment_id, 1) == {"arrived": False}
    written = clinic.records.changes_written
    assert clinic.uses.care_workflow.missed_check_in(booked.appointment_id, 1) == {"arrived": False}

    assert clinic.records.changes_written == written
    stored = clinic.records.get_appointment(booked.appointment_id)
    assert stored is not None and stored.status is Status.NOSHOW
    assert clinic.records.occupancy(CLINIC, MONDAY) == {}
    assert clinic.engine.stopped == []  # the workflow ends its own run


def test_a_flag_is_on_the_clinics_alerts_until_staff_resolve_it_and_a_failed_workflow_stays_flagged(clinic: Clinic) -> None:
    clinic.patient()
    clinic.patient("p2")
    flagged = clinic.book(at(9))
    failed = clinic.book(at(9), chair="chair-2", patient="p2")
    clinic.uses.care_workflow.runs.flag(flagged.appointment_id, AttentionKind.UNREACHABLE, "call the patient")
    clinic.uses.care_workflow.runs.flag(failed.appointment_id, AttentionKind.WORKFLOW, "the workflow stopped")

    *_, on_alerts = clinic.uses.follow_ups.alerts(CLINIC)
    resolved = clinic.uses.front_desk.resolve_attention(DESK, flagged.appointment_id, "called them")
    again = clinic.uses.front_desk.resolve_attention(DESK, flagged.appointment_id, "called them")
    with pytest.raises(Conflict):
        clinic.uses.front_desk.resolve_attention(DESK, failed.appointment_id, None)

    assert {a.appointment_id for a in on_alerts} == {flagged.appointment_id, failed.appointment_id}
    assert resolved.attention is None and again == resolved
    *_, still = clinic.uses.follow_ups.alerts(CLINIC)
    assert [a.appointment_id for a in still] == [failed.appointment_id]
    last = clinic.records.audit_trail(flagged.appointment_id)[-1]
    assert (last.action, last.actor_id, last.reason) == (Action.RESOLVE, DESK.user_id, "called them")
