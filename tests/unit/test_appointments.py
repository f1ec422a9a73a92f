"""The appointment lifecycle (FHIR Appointment.status)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from clinic.domain.appointments import Action, Status, is_late_cancellation, next_status
from clinic.domain.errors import IllegalTransition

from tests.support.appointments import START, appointment

DAY_OF = START - timedelta(minutes=30)


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        (Status.BOOKED, Action.CHECK_IN, Status.ARRIVED),
        (Status.BOOKED, Action.CANCEL, Status.CANCELLED),
        (Status.ARRIVED, Action.CANCEL, Status.CANCELLED),
        (Status.BOOKED, Action.RESCHEDULE, Status.BOOKED),
    ],
)
def test_allowed_transitions(status: Status, action: Action, expected: Status) -> None:
    assert next_status(appointment(status=status), action, DAY_OF, "2026-12-07") == expected


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.CANCELLED, Action.CHECK_IN),
        (Status.NOSHOW, Action.CHECK_IN),
        (Status.FULFILLED, Action.CANCEL),
        (Status.ARRIVED, Action.NO_SHOW),
        (Status.ARRIVED, Action.RESCHEDULE),
        (Status.CANCELLED, Action.RESCHEDULE),
    ],
)
def test_illegal_transitions_say_why(status: Status, action: Action) -> None:
    with pytest.raises(IllegalTransition) as error:
        next_status(appointment(status=status), action, START + timedelta(hours=1), "2026-12-07")
    assert f"cannot {action.value} an appointment that is {status.value}" == error.value.message


def test_repeating_an_action_already_done_is_a_no_op() -> None:
    assert next_status(appointment(status=Status.ARRIVED), Action.CHECK_IN, DAY_OF, "2026-12-07") is None
    assert next_status(appointment(status=Status.CANCELLED), Action.CANCEL, DAY_OF, "2026-12-07") is None


def test_no_show_only_after_the_start() -> None:
    with pytest.raises(IllegalTransition, match="before the appointment's start"):
        next_status(appointment(status=Status.BOOKED), Action.NO_SHOW, START - timedelta(minutes=1), "2026-12-07")
    assert next_status(appointment(status=Status.BOOKED), Action.NO_SHOW, START + timedelta(minutes=31), "2026-12-07") == Status.NOSHOW


def test_check_in_only_on_the_appointment_day() -> None:
    with pytest.raises(IllegalTransition, match="cannot check in on 2026-12-06"):
        next_status(appointment(status=Status.BOOKED), Action.CHECK_IN, START - timedelta(days=1), "2026-12-06")


@pytest.mark.parametrize(("hours_before", "late"), [(25, False), (24.01, False), (23.99, True), (1, True)])
def test_late_cancellation_window(hours_before: float, late: bool) -> None:
    now = START - timedelta(hours=hours_before)
    assert is_late_cancellation(appointment(status=Status.BOOKED), now, window_hours=24) is late
