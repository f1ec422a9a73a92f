"""Booking rules on the in-memory ports: conflicts in clinic time, capacity, repeated
requests, cancellation with its waitlist offer, reschedule."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from clinic.domain.appointments import Status
from clinic.domain.care import AttentionKind
from clinic.domain.errors import AlreadyExists, Conflict, InvalidRequest

from tests.usecases.conftest import CLINIC, DESK, MONDAY, Clinic, at


def test_a_second_booking_on_a_held_chair_is_refused_in_the_clinics_time_and_writes_nothing(clinic: Clinic) -> None:
    clinic.patient()
    clinic.patient("p2")
    first = clinic.book(at(9))
    held = dict(clinic.records.occupancy(CLINIC, MONDAY))

    with pytest.raises(Conflict) as refused:
        clinic.book(at(11, 15), patient="p2")

    assert refused.value.message == "the chair is already booked at 11:15 on 2027-03-01"
    assert clinic.records.occupancy(CLINIC, MONDAY) == held
    assert [a.appointment_id for a in clinic.records.board(CLINIC, MONDAY)] == [first.appointment_id]


def test_a_nurse_supervises_two_patients_at_once_and_no_third(clinic: Clinic) -> None:
    for patient in ("p1", "p2", "p3"):
        clinic.patient(patient)
    clinic.book(at(9), chair="chair-1")
    clinic.book(at(9), chair="chair-2", patient="p2")
    clinic.uses.configuration.save_chair(CLINIC, clinic.records.chairs[CLINIC]["chair-1"].model_copy(update={"chair_id": "chair-3"}))

    with pytest.raises(Conflict) as refused:
        clinic.book(at(9, 30), chair="chair-3", patient="p3")

    assert refused.value.message.startswith("the provider is already booked at 09:30")


def test_a_repeated_booking_finds_its_own_appointment_and_starts_one_run(clinic: Clinic) -> None:
    clinic.patient()
    first = clinic.book(at(9), appointment_id="booking-1")
    again = clinic.book(at(9), appointment_id="booking-1")

    assert again == first
    assert [name for name, _ in clinic.engine.started] == [first.execution_name]
    assert len(clinic.records.audit_trail(first.appointment_id)) == 1


def test_another_booking_under_a_used_id_is_refused(clinic: Clinic) -> None:
    clinic.patient()
    clinic.book(at(9), appointment_id="booking-1")

    with pytest.raises(AlreadyExists):
        clinic.book(at(13), appointment_id="booking-1")


def test_a_spravato_session_needs_the_patients_rems_enrollment(clinic: Clinic) -> None:
    clinic.patient("p2", rems_enrolled=False)

    with pytest.raises(InvalidRequest) as refused:
        clinic.book(at(9), patient="p2")

    assert refused.value.problems == [("patientId", "the patient's REMS enrollment is not on file: enroll them before booking")]
    assert clinic.records.appointments == {}


def test_a_booking_whose_workflow_cannot_start_stands_and_is_flagged(clinic: Clinic) -> None:
    clinic.patient()
    clinic.engine.unavailable = True

    booked = clinic.book(at(9))

    assert booked.status is Status.BOOKED
    assert booked.attention is not None and booked.attention.kind is AttentionKind.WORKFLOW
    assert clinic.records.get_appointment(booked.appointment_id) == booked


def test_a_cancellation_releases_the_time_stops_the_run_and_offers_the_time_to_the_waitlist(clinic: Clinic) -> None:
    clinic.patient()
    clinic.patient("p2")
    booked = clinic.book(at(9))
    clinic.uses.waitlist.join(CLINIC, "p2", "spravato", ["mon"], time(8), time(12))

    cancelled = clinic.uses.bookings.cancel(DESK, booked.appointment_id, "patient is unwell")

    assert cancelled.status is Status.CANCELLED and cancelled.cancellation is not None
    assert clinic.records.occupancy(CLINIC, MONDAY) == {}
    assert clinic.engine.stopped == [booked.execution_name]
    ((to, subject, text),) = clinic.messages.sent
    assert (to, subject) == ("p2", "A treatment time has opened up")
    assert "https://clinic.example/patient/offer#" in text


def test_a_reschedule_moves_the_held_time_and_starts_a_new_run(clinic: Clinic) -> None:
    clinic.patient()
    booked = clinic.book(at(9))

    moved = clinic.uses.bookings.reschedule(DESK, booked.appointment_id, start=at(10), chair_id="chair-2", provider_id=None)

    assert (moved.start, moved.chair_id, moved.workflow.run, moved.version) == (at(10), "chair-2", 2, 2)
    held = clinic.records.occupancy(CLINIC, MONDAY)
    assert {grain.resource_id for grain in held} == {"chair-2", "nurse-a"}
    assert min(grain.at for grain in held) == at(10)
    assert [name for name, _ in clinic.engine.started] == [booked.execution_name, moved.execution_name]
    assert clinic.engine.stopped == [booked.execution_name]


def test_a_booking_inside_the_minimum_notice_is_refused_naming_the_field(clinic: Clinic) -> None:
    clinic.patient()
    clinic.clock.now = at(8, 30) - timedelta(minutes=1)

    with pytest.raises(InvalidRequest) as refused:
        clinic.book(at(8, 30))

    assert refused.value.field == "start"


def test_a_patients_sessions_keep_the_session_types_spacing_and_a_reschedule_is_not_spaced_from_itself(clinic: Clinic) -> None:
    clinic.patient()
    booked = clinic.book(at(9))

    with pytest.raises(InvalidRequest) as refused:
        clinic.book(at(9) + timedelta(days=1))
    moved = clinic.uses.bookings.reschedule(DESK, booked.appointment_id, start=at(13), chair_id=None, provider_id=None)

    assert refused.value.problems == [("start", "is less than 48 h from the patient's session at 2027-03-01 09:00")]
    assert moved.start == at(13)
    assert clinic.book(at(13) + timedelta(days=2)).start == at(13) + timedelta(days=2)  # 48 h later is allowed
