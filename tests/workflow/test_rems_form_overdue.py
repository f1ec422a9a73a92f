"""A Spravato session's REMS Patient Monitoring Form left unfiled past its deadline: the
session's own execution waits for the deadline (no table Scans), then pages the clinicians,
keeps the form on the clinic's alerts and counts `RemsFormOverdue` for the operator's alarm.
Sessions without REMS end after their follow-ups."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from clinic.domain.care import rems_form_overdue_at
from clinic.domain.rules import ClinicRules
from clinic.workflow.handler import _rems_form_overdue

from tests.support.world import CLINIC, at
from tests.workflow.conftest import NOW, CareWorld
from tests.workflow.journeys import followed_up, rems_form_deadline, session_cost

OVERDUE_PAGE = (
    "REMS form overdue",
    "A REMS Patient Monitoring Form is past its deadline and not marked filed: file it with the REMS, then mark it filed.",
)


def overdue_metrics(output: str) -> list[dict]:
    """The EMF records counting RemsFormOverdue among what the functions printed."""
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{") and "RemsFormOverdue" in line]
    return [r for r in records if "_aws" in r]


def test_an_unfiled_form_past_its_deadline_pages_alarms_and_stays_on_the_alerts(care: CareWorld, capsys) -> None:
    appointment = followed_up(care)
    deadline = rems_form_deadline(appointment)  # 7 days after the session, at the clinic's midnight
    care.sleeping_until(deadline)  # waits for exactly that instant, not the start of the due date
    care.advance_to(deadline - timedelta(minutes=1))  # 23:59 on the due date: due, not yet overdue
    assert care.status(appointment) == "RUNNING"
    assert [subject for subject, _ in care.pages() if subject == OVERDUE_PAGE[0]] == []

    care.advance_to(deadline)
    assert care.finished(appointment) == "SUCCEEDED"
    assert care.states_entered(appointment)[-4:] == ["RemsForm?", "WaitForRemsFormDeadline", "RemsFormCheck", "Done"]
    page = f"{OVERDUE_PAGE[1]} Appointment {appointment['appointmentId']}."
    assert care.pages() == [(OVERDUE_PAGE[0], page)]  # an id, never the patient or the session's date
    (metric,) = overdue_metrics(capsys.readouterr().out)
    assert metric["RemsFormOverdue"] == [1.0] and metric["service"] == "care-workflow"
    # The clinic's alerts still list the form, now overdue, until someone marks it filed.
    (due,) = care.alerts()["remsFormsDueSoon"]
    assert due["appointmentId"] == appointment["appointmentId"]
    assert date.fromisoformat(due["dueDate"]) < deadline.date()
    assert session_cost(care, appointment) == (24, 9)


def test_a_form_marked_filed_before_its_deadline_raises_nothing(care: CareWorld, capsys) -> None:
    appointment = followed_up(care)
    deadline = rems_form_deadline(appointment)
    care.sleeping_until(deadline)
    filed = care.call("POST", f"/appointments/{appointment['appointmentId']}/rems-form/submit", role="clinician")
    assert filed.status == 200
    care.advance_to(deadline)

    assert care.finished(appointment) == "SUCCEEDED"
    assert care.states_entered(appointment)[-2:] == ["RemsFormCheck", "Done"]
    assert care.pages() == [] and overdue_metrics(capsys.readouterr().out) == []
    assert care.alerts()["remsFormsDueSoon"] == []


def test_a_session_without_rems_ends_after_its_follow_ups(care: CareWorld) -> None:
    patient = care.register_patient(key="iv-patient")
    booked = care.book(patient["patientId"], at(NOW.date() + timedelta(days=5), 10), key="iv-booking", session_type="iv-ketamine")
    assert booked.status == 201, booked.body
    appointment = followed_up(care, booked.body)

    assert care.finished(appointment) == "SUCCEEDED"
    states = care.states_entered(appointment)
    assert states[-3:] == ["FollowUpClosed", "RemsForm?", "Done"]
    assert "WaitForRemsFormDeadline" not in states
    assert session_cost(care, appointment) == (22, 8)
    assert care.call("GET", f"/clinics/{CLINIC}/rems-forms").body["forms"] == []  # no form to wait for


@pytest.mark.parametrize(
    ("session_day", "overdue_at"),
    [
        (date(2026, 12, 1), datetime(2026, 12, 9, 5, 0, tzinfo=UTC)),  # EST: midnight is 05:00 UTC
        (date(2026, 3, 1), datetime(2026, 3, 9, 4, 0, tzinfo=UTC)),  # the due date is the day clocks spring forward
    ],
)
def test_a_form_is_overdue_from_the_clinics_midnight_after_its_due_date(session_day: date, overdue_at: datetime) -> None:
    care_rules = ClinicRules().care
    assert care_rules.rems_form_due_days == 7
    assert rems_form_overdue_at(session_day, care_rules, ZoneInfo("America/New_York")) == overdue_at


def test_the_overdue_metric_is_what_the_operators_alarm_watches(capsys, monkeypatch) -> None:
    monkeypatch.setenv("STAGE", "dev")
    _rems_form_overdue()
    (metric,) = overdue_metrics(capsys.readouterr().out)
    (declared,) = metric["_aws"]["CloudWatchMetrics"]
    assert declared["Namespace"] == "KetamineClinic" and [sorted(d) for d in declared["Dimensions"]] == [["service", "stage"]]
    assert declared["Metrics"] == [{"Name": "RemsFormOverdue", "Unit": "Count"}]
    assert (metric["service"], metric["stage"]) == ("care-workflow", "dev")
