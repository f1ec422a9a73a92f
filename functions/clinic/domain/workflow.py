"""What the care workflow (one Step Functions execution per appointment run) is told and
when it may move on. The appointment record is the truth; the execution follows it.

Each human step is a callback: the execution parks with a task token and is resumed by the
route that records the step. A step already done when the execution gets there resumes it
at once, so the order in which staff and the workflow arrive never matters."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from .appointments import RELEASING, Appointment
from .care import blood_pressure_due_at, follow_up_times, reminder_times
from .errors import DomainError
from .instants import utc_text as utc
from .rules import ClinicRules


class Step(StrEnum):
    """The callback steps an execution can be parked at."""

    CHECK_IN = "check-in"
    DOSE = "dose"
    DISCHARGE = "discharge"


class AppointmentClosed(DomainError):
    """The appointment was cancelled or marked a no-show: the execution ends quietly.
    (The class name is the error name the state machine catches.)"""


class Superseded(DomainError):
    """A reschedule started a newer run of this appointment's workflow: this one ends."""


def execution_input(appointment: Appointment, rules: ClinicRules, now: datetime) -> dict[str, Any]:
    """Ids and times only: execution input and history must never carry PHI."""
    return {
        "appointmentId": appointment.appointment_id,
        "run": appointment.workflow.run,
        "start": utc(appointment.start),
        "reminders": [{"at": utc(at), "hoursBefore": hours} for at, hours in reminder_times(appointment.start, rules.care, now)],
    }


def open_for_run(appointment: Appointment | None, appointment_id: str, run: int) -> Appointment:
    """The appointment as a step of run `run` may act on it, or why that run must end."""
    if appointment is None:
        raise AppointmentClosed(f"appointment {appointment_id!r} does not exist")
    if appointment.workflow.run != run:
        raise Superseded(f"run {run} of appointment {appointment_id!r} was superseded by run {appointment.workflow.run}")
    if appointment.status in RELEASING:
        raise AppointmentClosed(f"appointment {appointment_id!r} is {appointment.status.value}")
    return appointment


def callback_output(appointment: Appointment, step: Step, rules: ClinicRules) -> dict[str, Any] | None:
    """The output that resumes an execution parked at `step`, or None while the step is not done."""
    if step is Step.CHECK_IN:
        return {} if appointment.checked_in_at is not None else None
    if step is Step.DOSE:
        if appointment.dose is None:
            return None
        session_type = rules.session_types[appointment.session_type]
        return {"bloodPressureDueAt": utc(blood_pressure_due_at(appointment.dose, session_type))}
    if appointment.discharge is None:
        return None
    follow_ups = follow_up_times(appointment.discharge.at, rules.care)
    return {
        "followUps": [
            {
                "number": number,
                "at": utc(at),
                "hoursAfter": hours,
                "instruments": rules.instruments_for(appointment.session_type, hours),
            }
            for number, (at, hours) in enumerate(follow_ups, 1)
        ]
    }
