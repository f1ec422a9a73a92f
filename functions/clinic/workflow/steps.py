"""What each task of the care workflow does. Every step is safe to run twice with the same
input (Step Functions may re-run a task that already took effect): state changes are
conditional, and a message is recorded once sent and not sent again. (A retry between the
send and its record repeats it: messages go at least once, never silently not at all.)"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any, Protocol

from ..domain.appointments import Appointment, Status
from ..domain.care import (
    AttentionKind,
    blood_pressure_due_at,
    blood_pressure_recorded_since,
    discharge_overdue_at,
)
from ..domain.errors import Undeliverable
from ..domain.followups import FollowUp, FollowUpStatus
from ..domain.links import Link, LinkKind, digest, new_token
from ..domain.patients import Patient
from ..domain.workflow import Step, progress
from ..service import ClinicService


class Messages(Protocol):
    """Raises TemporarilyUnavailable (retry) or Undeliverable (staff must act)."""

    def to_patient(self, patient: Patient, subject: str, text: str) -> str: ...
    def to_clinicians(self, subject: str, text: str) -> None: ...


class WorkflowSteps:
    def __init__(self, service: ClinicService, messages: Messages, patient_link_base_url: str):
        self.service = service
        self.repository = service.repository
        self.messages = messages
        self.patient_link_base_url = patient_link_base_url.rstrip("/")

    # --- before the session ----------------------------------------------------------
    def remind(self, appointment_id: str, run: int, hours_before: int) -> dict[str, Any]:
        appointment = self.service.workflow_appointment(appointment_id, run)
        key = f"reminder-{run}-{hours_before}h"
        if appointment.status is not Status.BOOKED or self.repository.message_sent(appointment_id, key):
            return {"sent": False}
        token = new_token()
        link = Link(
            digest=digest(token),
            kind=LinkKind.CONFIRM,
            appointment_id=appointment_id,
            run=run,
            valid_until=appointment.start,
        )
        self.repository.save_link(link)
        text = (
            f"Reminder: you have an appointment in about {hours_before} hours. Please confirm you will come and that "
            f"someone will drive you home (no driving until the next day): {self.patient_link_base_url}/confirm#{token}"
        )
        try:
            channel = self.messages.to_patient(self.service.patient(appointment.patient_id), "Appointment reminder", text)
        except Undeliverable as refused:
            self.reminder_failed(appointment_id, run, str(refused))
            return {"sent": False}
        self.repository.record_message(appointment_id, key, channel, self.service.clock())
        return {"sent": True}

    def reminder_failed(self, appointment_id: str, run: int, why: str) -> dict[str, Any]:
        """A reminder that cannot go out: the front desk calls instead; the journey goes on."""
        self.service.workflow_appointment(appointment_id, run)
        self.service.needs_attention(
            appointment_id, AttentionKind.UNREACHABLE, f"a reminder could not be sent ({why}): call the patient"
        )
        return {"flagged": True}

    # --- callbacks -------------------------------------------------------------------
    def park(self, appointment_id: str, run: int, step: str, token: str) -> dict[str, Any]:
        output = self.service.park(appointment_id, run, Step(step), token)
        if output is not None:
            self.service.workflow.resume(token, output)  # already done: go on at once
        return {"parked": output is None}

    def missed_check_in(self, appointment_id: str, run: int) -> dict[str, Any]:
        return {"arrived": self.service.missed_check_in(appointment_id, run)}

    # --- observation -----------------------------------------------------------------
    def observation_check(self, appointment_id: str, run: int) -> dict[str, Any]:
        """At the post-dose blood pressure check: prompts for it unless it was taken, and
        says how long until the discharge is overdue."""
        appointment = self.service.workflow_appointment(appointment_id, run)
        dose = appointment.dose
        if dose is None:
            raise ValueError("observation check reached without a dose")  # the dose callback must precede it
        care = self.service.rules.care
        now = self.service.clock()
        if appointment.discharge is None:
            due = blood_pressure_due_at(dose, self.service.rules.session_types[appointment.session_type])
            window_opens = due - timedelta(minutes=care.blood_pressure_check_tolerance_minutes)
            if not blood_pressure_recorded_since(self.repository.vitals(appointment_id), window_opens):
                self._page_once(
                    appointment,
                    f"bp-check-{run}",
                    "Blood pressure check due",
                    f"The post-dose blood pressure is due for the patient in chair {appointment.chair_id}.",
                )
        remaining = (discharge_overdue_at(dose, care) - now).total_seconds()
        return {"overdueInSeconds": max(1, math.ceil(remaining))}

    def overdue(self, appointment_id: str, run: int, wait_for: str) -> dict[str, Any]:
        """A callback step ran late. Done after all (a lost callback): go on. Otherwise flag
        the appointment and page the clinicians; the workflow keeps waiting."""
        step = Step(wait_for)
        appointment = self.service.workflow_appointment(appointment_id, run)
        output = progress(appointment, step, self.service.rules)
        if output is not None:
            return {"done": True, **output}
        care = self.service.rules.care
        kind, reason = {
            Step.DOSE: (AttentionKind.DOSE_OVERDUE, f"no dose recorded {care.dose_overdue_minutes} min into the session"),
            Step.DISCHARGE: (
                AttentionKind.DISCHARGE_OVERDUE,
                f"not discharged {care.discharge_overdue_minutes} min after the dose started",
            ),
        }[step]
        flagged = self.service.needs_attention(appointment_id, kind, reason)
        self._page_once(
            flagged or appointment,
            f"overdue-{run}-{step.value}",
            "Needs attention",
            f"Chair {appointment.chair_id}: {reason}.",
        )
        return {"done": False}

    # --- follow-up -------------------------------------------------------------------
    def open_follow_up(
        self, appointment_id: str, run: int, number: int, hours_after: int, instruments: list[str], token: str
    ) -> dict[str, Any]:
        self.service.workflow_appointment(appointment_id, run)
        follow_up = FollowUp(
            appointment_id=appointment_id,
            number=number,
            hours_after_discharge=hours_after,
            instruments=instruments,
            opened_at=self.service.clock(),
            task_token=token,
        )
        self.repository.open_follow_up(follow_up)
        return {"opened": number}

    def follow_up_missed(self, appointment_id: str, run: int, number: int) -> dict[str, Any]:
        self.service.workflow_appointment(appointment_id, run)
        self.repository.close_follow_up(appointment_id, number, FollowUpStatus.MISSED, self.service.clock())
        return {"missed": number}

    # --- failures --------------------------------------------------------------------
    def needs_attention(self, appointment_id: str, run: int, failed_step: str, error: str) -> dict[str, Any]:
        """A step failed for good: staff must see it and a clinician is paged. The error's
        name is a class name; its cause stays out, as it may quote data."""
        reason = f"the care workflow stopped at {failed_step!r} ({error}); check the appointment"
        appointment = self.service.needs_attention(appointment_id, AttentionKind.WORKFLOW, reason)
        if appointment is not None:
            self._page_once(appointment, f"attention-{run}-{failed_step}", "Appointment needs attention", reason)
        return {"flagged": appointment is not None}

    def _page_once(self, appointment: Appointment, key: str, subject: str, text: str) -> None:
        if self.repository.message_sent(appointment.appointment_id, key):
            return
        self.messages.to_clinicians(subject, f"{text} Appointment {appointment.appointment_id}.")
        self.repository.record_message(appointment.appointment_id, key, "page", self.service.clock())
