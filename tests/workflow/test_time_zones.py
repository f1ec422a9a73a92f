"""Clinics whose local date differs from UTC's around the session: Sydney (UTC+11 in
December) with a 07:00 session, which is the evening before in UTC, and Honolulu (UTC-10)
with a 19:00 session, which is the next morning in UTC. Every expectation below is a literal
worked out by hand from the clinic's wall clock, never computed with the service's code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support.timing import eventually
from tests.support.world import CHECKLIST, SET_UP_PAGERS, dose_body
from tests.workflow.conftest import CareWorld, cssrs, gad7, phq9


@dataclass(frozen=True)
class Clinic:
    clinic_id: str
    zone: str
    opening: tuple[str, str]
    nurse_hours: tuple[str, str]
    local_day: str  # the session's date on the clinic's wall clock
    utc_day: str  # the same instant's date in UTC: another day
    start: str  # the session's start, UTC
    too_late_or_early: str  # a start the clinic's hours refuse (UTC)
    reminders: tuple[str, str]  # 48 h and 24 h before (UTC)
    check_in: str  # 10 min before the start: the clinic's day, another UTC day
    task_due: str  # end of the clinic's day when the first survey is answered (UTC)
    rems_overdue: str  # the clinic's midnight after the form's due date (session + 7 days), UTC


SYDNEY = Clinic(
    clinic_id="sydney", zone="Australia/Sydney", opening=("07:00", "18:00"), nurse_hours=("07:00", "15:00"),
    local_day="2026-12-09", utc_day="2026-12-08", start="2026-12-08T20:00:00Z", too_late_or_early="2026-12-08T19:45:00Z",
    reminders=("2026-12-06T20:00:00Z", "2026-12-07T20:00:00Z"), check_in="2026-12-08T19:50:00Z",
    # discharged 09:05 on the 9th; survey 24 h later, answered 09:05 on the 10th: due 23:59 on the 10th
    task_due="2026-12-10T12:59:00Z", rems_overdue="2026-12-16T13:00:00Z",
)
HONOLULU = Clinic(
    clinic_id="honolulu", zone="Pacific/Honolulu", opening=("08:00", "22:00"), nurse_hours=("12:00", "22:00"),
    local_day="2026-12-09", utc_day="2026-12-10", start="2026-12-10T05:00:00Z", too_late_or_early="2026-12-10T07:00:00Z",
    reminders=("2026-12-08T05:00:00Z", "2026-12-09T05:00:00Z"), check_in="2026-12-10T04:50:00Z",
    # discharged 21:05 on the 9th; survey 24 h later, answered 21:05 on the 10th: due 23:59 on the 10th
    task_due="2026-12-11T09:59:00Z", rems_overdue="2026-12-17T10:00:00Z",
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def open_clinic(care: CareWorld, clinic: Clinic) -> None:
    every_day = {day: [{"start": clinic.opening[0], "end": clinic.opening[1]}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    nurse_days = {day: [{"start": clinic.nurse_hours[0], "end": clinic.nurse_hours[1]}] for day in every_day}
    profile = {"name": clinic.clinic_id.title(), "timeZone": clinic.zone, "openingHours": every_day}
    nurse = {"name": "Nurse A", "role": "nurse", "capacity": 2, "workingHours": nurse_days, "pager": SET_UP_PAGERS["nurse-a"]}
    prescriber = {"name": "Dr B", "role": "prescriber", "capacity": 1, "workingHours": every_day, "pager": SET_UP_PAGERS["dr-b"]}
    calls = [
        (f"/clinics/{clinic.clinic_id}", profile),
        (f"/clinics/{clinic.clinic_id}/chairs/chair-1", {"name": "Chair 1"}),
        (f"/clinics/{clinic.clinic_id}/providers/nurse-a", nurse),
        (f"/clinics/{clinic.clinic_id}/providers/dr-b", prescriber),
        (f"/clinics/{clinic.clinic_id}", {**profile, "remsCertified": True, "escalationChain": ["dr-b", "nurse-a"]}),
    ]
    for path, body in calls:
        assert care.call("PUT", path, body, role="admin").status == 200


def book(care: CareWorld, clinic: Clinic, patient_id: str, start: str, provider: str = "nurse-a", key: str = "tz-booking") -> Any:
    body = {"clinicId": clinic.clinic_id, "patientId": patient_id, "sessionType": "spravato", "chairId": "chair-1",
            "providerId": provider, "start": start}
    return care.call("POST", "/appointments", body, headers={"Idempotency-Key": key})


def on_board(care: CareWorld, clinic: Clinic, day: str) -> list[str]:
    board = care.call("GET", f"/clinics/{clinic.clinic_id}/board", query={"date": day})
    assert board.status == 200, board.body
    return [a["appointmentId"] for a in board.body["appointments"]]


def alerts(care: CareWorld, clinic: Clinic) -> dict[str, Any]:
    return care.call("GET", f"/clinics/{clinic.clinic_id}/alerts").body


@pytest.mark.parametrize("clinic", [SYDNEY, HONOLULU], ids=lambda c: c.zone)
def test_a_session_on_another_utc_day_keeps_to_the_clinics_own_day(care: CareWorld, clinic: Clinic) -> None:
    open_clinic(care, clinic)
    patient = care.register_patient(key=f"{clinic.clinic_id}-patient")["patientId"]

    # Availability, opening hours and the provider's working hours, on the clinic's day.
    free = care.call("GET", f"/clinics/{clinic.clinic_id}/availability", query={"date": clinic.local_day, "sessionType": "spravato"})
    assert free.status == 200, free.body
    assert utc(clinic.start) in [utc(slot["start"]) for slot in free.body["slots"]]
    refused = book(care, clinic, patient, clinic.too_late_or_early, key="tz-refused")
    assert refused.status == 422 and refused.body["fields"][0]["field"] == "start", refused.body
    if clinic is SYDNEY:  # Dr B works all day; a provider starting at 08:00 cannot take a 07:00 session
        late_nurse = {"name": "Nurse L", "role": "nurse", "capacity": 1, "workingHours": {"wed": [{"start": "08:00", "end": "18:00"}]}}
        assert care.call("PUT", f"/clinics/{clinic.clinic_id}/providers/nurse-l", late_nurse, role="admin").status == 200
        outside = book(care, clinic, patient, clinic.start, provider="nurse-l", key="tz-outside")
        assert outside.status == 422 and outside.body["fields"][0]["field"] == "providerId", outside.body

    booked = book(care, clinic, patient, clinic.start)
    assert booked.status == 201, booked.body
    appointment = booked.body
    assert on_board(care, clinic, clinic.local_day) == [appointment["appointmentId"]]
    assert on_board(care, clinic, clinic.utc_day) == []

    # Reminders 48 h and 24 h before the instant.
    for n, reminder in enumerate(clinic.reminders, start=1):
        care.sleeping_until(utc(reminder))
        care.advance_to(utc(reminder))
        eventually(lambda n=n: len(care.sms()) == n, what=f"reminder {n}")

    # Check-in on the clinic's day, although UTC's date is another.
    care.advance_to(utc(clinic.check_in))
    checked_in = care.act(appointment, "check-in", role="front-desk")
    assert checked_in.status == 200, checked_in.body
    first_device = utc(clinic.start) + timedelta(minutes=5)
    care.advance_to(first_device)
    care.parked_at(appointment, "dose")
    assert care.act(appointment, "dose", dose_body(first_device)).status == 200
    care.advance_to(first_device + timedelta(minutes=38))
    bp = {"bloodPressure": {"systolic": 130, "diastolic": 80}}
    assert care.act(appointment, "vitals", bp, headers={"Idempotency-Key": "tz-after-dose-bp"}).status == 201
    care.advance_to(first_device + timedelta(minutes=40))
    care.parked_at(appointment, "discharge")
    discharged_at = first_device + timedelta(minutes=120)
    care.advance_to(discharged_at)
    assert care.act(appointment, "discharge", {"checklist": CHECKLIST}).status == 200
    (form,) = care.call("GET", f"/clinics/{clinic.clinic_id}/rems-forms").body["forms"]
    assert form["dueDate"] == "2026-12-16"

    # A lower-risk positive on the first survey: a task due by the end of the clinic's day.
    care.sleeping_until(discharged_at + timedelta(hours=24))
    care.advance_to(discharged_at + timedelta(hours=24))
    first = eventually(lambda: care.survey_links(), what="the first survey")[0]
    assert care.answer(first, "phq-9", phq9(item9=1)).status == 200
    assert care.answer(first, "c-ssrs-screener", cssrs(cssrs_1=1)).status == 200
    (task,) = eventually(lambda: alerts(care, clinic)["tasks"], what="a task")
    assert utc(task["dueAt"]).replace(second=0, microsecond=0) == utc(clinic.task_due)

    # The second survey, answered; then the REMS form, due 7 days after the clinic's session
    # date, turns overdue at the clinic's midnight after that day.
    care.sleeping_until(discharged_at + timedelta(hours=168))
    care.advance_to(discharged_at + timedelta(hours=168))
    second = eventually(lambda: len(care.survey_links()) == 2 and care.survey_links()[1], what="the second survey")
    assert care.answer(second, "phq-9", phq9()).status == 200
    assert care.answer(second, "gad-7", gad7()).status == 200
    overdue = utc(clinic.rems_overdue)
    care.sleeping_until(overdue)
    care.advance_to(overdue - timedelta(minutes=1))
    assert care.status(appointment) == "RUNNING"
    care.advance_to(overdue)
    assert care.finished(appointment) == "SUCCEEDED"
    assert [subject for subject, _ in care.pages()].count("REMS form overdue") == 1
