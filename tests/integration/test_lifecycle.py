"""Reschedule, cancel, check-in and no-show: FHIR statuses, released chairs, audit trail."""

from __future__ import annotations

import pytest
from clinic.usecases import kernel

from tests.support.world import CLINIC, World, at, clinic_day, org_key


@pytest.fixture
def booked(clinic: World) -> tuple[World, dict]:
    patient = clinic.register_patient()
    reply = clinic.book(patient["patientId"], at(clinic_day(), 9), key="lifecycle-booking")
    assert reply.status == 201
    return clinic, reply.body


def freeze(monkeypatch: pytest.MonkeyPatch, instant) -> None:
    monkeypatch.setattr(kernel, "utc_now", lambda: instant)


def audit(world: World, appointment_id: str) -> list[dict]:
    return world.call("GET", f"/appointments/{appointment_id}/audit").body["entries"]


def test_cancel_records_reason_lateness_and_frees_the_chair(booked, monkeypatch) -> None:
    world, appointment = booked
    freeze(monkeypatch, at(clinic_day(), 6))  # three hours before the 09:00 start
    reply = world.call("POST", f"/appointments/{appointment['appointmentId']}/cancel", {"reason": "patient has a fever"})
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "cancelled"
    assert reply.body["cancellation"]["late"] is True
    assert not [i for i in world.items() if i["pk"]["S"].startswith(org_key("HOLD#")) and i.get("holders")]
    again = world.book(appointment["patientId"], at(clinic_day(), 9), key="rebook-after-cancel")
    assert again.status == 201
    entry = audit(world, appointment["appointmentId"])[-1]
    assert (entry["fromStatus"], entry["toStatus"], entry["reason"]) == ("booked", "cancelled", "patient has a fever")
    assert entry["actorName"] == "front-desk-user" and entry["actorId"] == "sub-front-desk-user"


def test_cancel_two_days_ahead_is_not_late(booked, monkeypatch) -> None:
    world, appointment = booked
    freeze(monkeypatch, at(clinic_day(-2), 8))
    reply = world.call("POST", f"/appointments/{appointment['appointmentId']}/cancel", {"reason": "moving house"})
    assert reply.body["cancellation"]["late"] is False


def test_check_in_then_cancelled_check_in_is_refused_with_the_reason(booked, monkeypatch) -> None:
    world, appointment = booked
    path = f"/appointments/{appointment['appointmentId']}"
    freeze(monkeypatch, at(clinic_day(), 8, 45))
    assert world.call("POST", f"{path}/cancel", {"reason": "clinic closed"}).status == 200
    before = world.items()
    reply = world.call("POST", f"{path}/check-in")
    assert reply.status == 409
    assert reply.body["message"] == "cannot check-in an appointment that is cancelled"
    assert world.items() == before


def test_double_check_in_changes_nothing_the_second_time(booked, monkeypatch) -> None:
    world, appointment = booked
    freeze(monkeypatch, at(clinic_day(), 8, 45))
    path = f"/appointments/{appointment['appointmentId']}/check-in"
    first = world.call("POST", path)
    assert first.status == 200 and first.body["status"] == "arrived"
    items = world.items()
    second = world.call("POST", path)
    assert second.status == 200 and second.body == first.body
    assert world.items() == items
    assert [e["toStatus"] for e in audit(world, appointment["appointmentId"])] == ["booked", "arrived"]


def test_no_show_after_the_start_releases_the_chair(booked, monkeypatch) -> None:
    world, appointment = booked
    path = f"/appointments/{appointment['appointmentId']}/no-show"
    freeze(monkeypatch, at(clinic_day(), 8, 50))
    early = world.call("POST", path)
    assert early.status == 409 and "before the appointment's start" in early.body["message"]
    freeze(monkeypatch, at(clinic_day(), 9, 40))
    late = world.call("POST", path)
    assert late.status == 200 and late.body["status"] == "noshow"
    assert not [i for i in world.items() if i["pk"]["S"].startswith(org_key("HOLD#")) and i.get("holders")]


def test_reschedule_moves_the_block_and_frees_the_old_time(booked) -> None:
    world, appointment = booked
    path = f"/appointments/{appointment['appointmentId']}/reschedule"
    reply = world.call("POST", path, {"start": at(clinic_day(), 9, 30).isoformat()})  # overlaps its own block
    assert reply.status == 200, reply.body
    assert reply.body["start"].endswith("Z") and reply.body["version"] == 2
    other = world.register_patient(key="other-patient")
    assert world.book(other["patientId"], at(clinic_day(), 12, 0), key="after-old-block").status == 201  # 09:30+150 = 12:00
    moved = world.call("POST", path, {"start": at(clinic_day(1), 9).isoformat(), "chairId": "chair-2"})
    assert moved.status == 200 and moved.body["localDate"] == clinic_day(1).isoformat()
    third = world.register_patient(key="third-patient")
    assert world.book(third["patientId"], at(clinic_day(), 9), key="old-slot-again").status == 201
    steps = [(e["action"], e.get("fromStatus"), e["toStatus"]) for e in audit(world, appointment["appointmentId"])]
    assert steps == [("book", None, "booked"), ("reschedule", "booked", "booked"), ("reschedule", "booked", "booked")]


def test_reschedule_into_a_taken_slot_is_refused_and_keeps_the_original(booked) -> None:
    world, appointment = booked
    other = world.register_patient(key="other-patient")
    assert world.book(other["patientId"], at(clinic_day(), 13), key="blocking-booking").status == 201
    before = world.items()
    reply = world.call("POST", f"/appointments/{appointment['appointmentId']}/reschedule", {"start": at(clinic_day(), 12).isoformat()})
    assert reply.status == 409 and "the chair is already booked" in reply.body["message"]
    assert world.items() == before


def test_board_shows_statuses_of_the_day(booked, monkeypatch) -> None:
    world, appointment = booked
    freeze(monkeypatch, at(clinic_day(), 8, 45))
    world.call("POST", f"/appointments/{appointment['appointmentId']}/check-in")
    board = world.call("GET", f"/clinics/{CLINIC}/board", query={"date": clinic_day().isoformat()})
    assert [a["status"] for a in board.body["appointments"]] == ["arrived"]
