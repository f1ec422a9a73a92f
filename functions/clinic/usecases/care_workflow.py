"""What each task of the care workflow (one Step Functions execution per appointment run)
does: reminders, the callbacks it waits at, the observation window, the REMS form's
deadline, failures. The follow-up steps are the follow-ups' own (follow_ups.py).

Every step is safe to run twice with the same input (Step Functions may re-run a task that
already took effect): state changes are conditional, and a message is recorded once sent
and not sent again. (A retry between the send and its record repeats it: messages go at
least once, never silently not at all.)"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..domain.appointments import Action, Appointment, Status, Workflow
from ..domain.care import (
    AttentionKind,
    blood_pressure_due_at,
    blood_pressure_recorded_since,
    discharge_overdue_at,
    rems_form_overdue,
    rems_form_overdue_at,
)
from ..domain.escalations import chain_pagers
from ..domain.errors import IllegalTransition, TemporarilyUnavailable, Undeliverable
from ..domain.instants import utc_text
from ..domain.links import Link, LinkKind, digest, new_token
from ..domain.workflow import Step, callback_output, open_for_run
from .appointments import AppointmentStore, Change, StatusChanges, WorkflowRuns
from .follow_ups import FollowUps
from .kernel import WORKFLOW_ACTOR, ClinicUseCase, known_patient, page_each, page_once
from .ports import LinkRecords, MessageLog, Messages, PatientRecords, SessionRecords


@dataclass(eq=False)
class CareWorkflow(ClinicUseCase):
    """One method per task of the state machine (workflow/handler.py dispatches to them)."""

    patients: PatientRecords
    store: AppointmentStore
    runs: WorkflowRuns
    status: StatusChanges
    session_records: SessionRecords
    links: LinkRecords
    log: MessageLog
    follow_ups: FollowUps
    messages: Callable[[], Messages]  # made on first use: most requests never send one
    patient_link_base_url: str  # without a trailing slash
    organization_id: str  # the practice whose links these are (a link's token names it)

    # --- before the session ----------------------------------------------------------
    def remind(self, appointment_id: str, run: int, hours_before: int) -> dict[str, Any]:
        appointment = self.store.for_run(appointment_id, run)
        key = f"reminder-{run}-{hours_before}h"
        if appointment.status is not Status.BOOKED or self.log.message_sent(appointment_id, key):
            return {"sent": False}
        token = new_token(self.organization_id)
        link = Link(
            digest=digest(token),
            kind=LinkKind.CONFIRM,
            appointment_id=appointment_id,
            run=run,
            valid_until=appointment.start,
        )
        self.links.save_link(link)
        text = (
            f"Reminder: you have an appointment in about {hours_before} hours. Please confirm you will come and that "
            f"someone will drive you home (no driving until the next day): {self.patient_link_base_url}/confirm#{token}"
        )
        try:
            channel = self.messages().to_patient(known_patient(self.patients, appointment.patient_id), "Appointment reminder", text)
        except Undeliverable as refused:
            self.reminder_failed(appointment_id, run, str(refused))
            return {"sent": False}
        self.log.record_message(appointment_id, key, channel, self.clock())
        return {"sent": True}

    def reminder_failed(self, appointment_id: str, run: int, why: str) -> dict[str, Any]:
        """A reminder that cannot go out: the front desk calls instead; the journey goes on."""
        self.store.for_run(appointment_id, run)
        self.runs.flag(appointment_id, AttentionKind.UNREACHABLE, f"a reminder could not be sent ({why}): call the patient")
        return {"flagged": True}

    # --- callbacks -------------------------------------------------------------------
    def park(self, appointment_id: str, run: int, step: str, token: str) -> dict[str, Any]:
        """The run waits at callback `step` with `token`: records where it waits (so the route
        that does the step can resume it), or resumes it at once when the step is done."""
        waiting_at = Step(step)
        waiting = Workflow(run=run, waiting_for=waiting_at.value, task_token=token)

        def decide(before: Appointment, now: datetime) -> Change | None:
            if callback_output(before, waiting_at, self.rules) is not None or before.workflow == waiting:
                return None  # done already, or a re-run of the same wait: nothing to write
            return Change({"workflow": waiting})

        before, after = self.store.change(appointment_id, decide, load=lambda i: self.store.for_run(i, run))
        output = callback_output(before, waiting_at, self.rules) if after is None else None
        if output is not None:
            self.runs.engine.resume(token, output)  # done already: go on at once
        return {"parked": output is None}

    def missed_check_in(self, appointment_id: str, run: int) -> dict[str, Any]:
        """At the end of the check-in grace: arrived if the patient checked in after all, else
        the appointment becomes a no-show (releasing the chair)."""
        stored = self.store.records.get_appointment(appointment_id)
        if stored is not None and stored.status is Status.NOSHOW and stored.workflow.run == run:
            return {"arrived": False}  # a re-run: this run already recorded the no-show
        appointment = open_for_run(stored, appointment_id, run)
        if appointment.checked_in_at is not None:
            return {"arrived": True}
        try:
            after = self.status.apply(
                WORKFLOW_ACTOR, appointment_id, Action.NO_SHOW, reason="not checked in within the grace period"
            )
        except IllegalTransition:
            after = self.store.for_run(appointment_id, run)  # checked in at the last moment
        return {"arrived": after.checked_in_at is not None}

    # --- observation -----------------------------------------------------------------
    def observation_check(self, appointment_id: str, run: int) -> dict[str, Any]:
        """At the post-dose blood pressure check: prompts for it unless it was taken, and
        says how long until the discharge is overdue."""
        appointment = self.store.for_run(appointment_id, run)
        dose = appointment.dose
        if dose is None:
            raise ValueError("observation check reached without a dose")  # the dose callback must precede it
        care = self.rules.care
        now = self.clock()
        if appointment.discharge is None:
            due = blood_pressure_due_at(dose, self.rules.session_types[appointment.session_type])
            window_opens = due - timedelta(minutes=care.blood_pressure_check_tolerance_minutes)
            if not blood_pressure_recorded_since(self.session_records.vitals(appointment_id), window_opens):
                self._page_once(
                    appointment,
                    f"bp-check-{run}",
                    "Blood pressure check due",
                    f"The post-dose blood pressure is due for the patient in {self._chair_name(appointment)}.",
                )
                reason = "the post-dose blood pressure check is due: take it"
                self.runs.flag(appointment_id, AttentionKind.BLOOD_PRESSURE_CHECK, reason)
        remaining = (discharge_overdue_at(dose, care) - now).total_seconds()
        output: dict[str, Any] = {"overdueInSeconds": max(1, math.ceil(remaining))}
        if self.rules.session_types[appointment.session_type].requires_rems:
            # Known from the session's date: the workflow waits until then once the follow-ups are done.
            zone = self.clinic(appointment.clinic_id).profile.zone
            overdue_at = rems_form_overdue_at(date.fromisoformat(appointment.local_date), care, zone)
            output["remsFormOverdueAt"] = utc_text(overdue_at)
        return output

    def overdue(self, appointment_id: str, run: int, wait_for: str) -> dict[str, Any]:
        """A callback step ran late. Done after all (a lost callback): go on. Otherwise flag
        the appointment and page the clinicians; the workflow keeps waiting."""
        step = Step(wait_for)
        appointment = self.store.for_run(appointment_id, run)
        output = callback_output(appointment, step, self.rules)
        if output is not None:
            return {"done": True, **output}
        care = self.rules.care
        kind, reason = {
            Step.DOSE: (AttentionKind.DOSE_OVERDUE, f"no dose recorded {care.dose_overdue_minutes} min into the session"),
            Step.DISCHARGE: (
                AttentionKind.DISCHARGE_OVERDUE,
                f"not discharged {care.discharge_overdue_minutes} min after the dose started",
            ),
        }[step]
        flagged = self.runs.flag(appointment_id, kind, reason)
        self._page_once(flagged or appointment, f"overdue-{run}-{step.value}", "Needs attention", f"{self._chair_name(appointment)}: {reason}.")
        return {"done": False}

    # --- follow-up (the follow-ups' own steps) -----------------------------------------
    def await_follow_up(
        self, appointment_id: str, run: int, number: int, hours_after: int, instruments: list[str], token: str
    ) -> dict[str, Any]:
        return self.follow_ups.open_and_wait(appointment_id, run, number, hours_after, instruments, token)

    def follow_up_check(self, appointment_id: str, run: int, number: int) -> dict[str, Any]:
        return self.follow_ups.check(appointment_id, run, number)

    def escalate(self, appointment_id: str, run: int, number: int, token: str) -> dict[str, Any]:
        return self.follow_ups.escalate(appointment_id, run, number, token)

    def hand_off_escalation(self, appointment_id: str, run: int, number: int) -> dict[str, Any]:
        return self.follow_ups.hand_off(appointment_id, run, number)

    def follow_up_task(self, appointment_id: str, run: int, number: int) -> dict[str, Any]:
        return self.follow_ups.create_task(appointment_id, run, number)

    # --- REMS ------------------------------------------------------------------------
    def rems_form_check(self, appointment_id: str, run: int) -> dict[str, Any]:
        """At the REMS Patient Monitoring Form's deadline: a form still not marked filed is
        overdue. It stays on the clinic's alerts (forms due or overdue), the clinicians are
        paged once, and the handler counts it for the operator's alarm."""
        appointment = self.store.for_run(appointment_id, run)
        # The clinic's forms still due (one Query); a form marked filed has left that list.
        due = [f for f in self.session_records.rems_forms_due(appointment.clinic_id) if f.appointment_id == appointment_id]
        today = self.clock().astimezone(self.clinic(appointment.clinic_id).profile.zone).date()
        if not due or not rems_form_overdue(due[0], today):
            return {"overdue": False}
        self._page_once(
            appointment,
            f"rems-form-overdue-{run}",
            "REMS form overdue",
            "A REMS Patient Monitoring Form is past its deadline and not marked filed: file it with the REMS, "
            "then mark it filed.",
        )
        return {"overdue": True}

    # --- failures --------------------------------------------------------------------
    def needs_attention(self, appointment_id: str, run: int, failed_step: str, error: str) -> dict[str, Any]:
        """A step failed for good: staff must see it and a clinician is paged. The error's
        name is a class name; its cause stays out, as it may quote data."""
        reason = f"the care workflow stopped at {failed_step!r} ({error}); check the appointment"
        try:
            appointment = self.runs.flag(appointment_id, AttentionKind.WORKFLOW, reason)
        except TemporarilyUnavailable:
            raise  # retried by the state machine: the page goes out with the flag
        except Exception:
            # The flag cannot be written: the page must still go out to the clinic's on-call
            # (unrecorded, so a retry may page again), then the failure ends the run for the
            # operator's alarm (which is all that is left if the appointment cannot be read).
            self._page_unrecorded(appointment_id, f"Appointment needs attention: {reason} (the flag could not be recorded).")
            raise
        if appointment is not None:
            self._page_once(appointment, f"attention-{run}-{failed_step}", "Appointment needs attention", reason)
        return {"flagged": appointment is not None}

    def _page_unrecorded(self, appointment_id: str, text: str) -> None:
        with suppress(Exception):
            appointment = self.store.records.get_appointment(appointment_id)
            if appointment is not None:
                pagers = chain_pagers(self.clinic(appointment.clinic_id))
                page_each(self.messages(), [pager for _, pager in pagers[:1]], f"{text} Appointment {appointment_id}.")

    def _chair_name(self, appointment: Appointment) -> str:
        """The chair as the clinic's staff name it (a chair removed since: its id)."""
        chair = self.clinic(appointment.clinic_id).chairs.get(appointment.chair_id)
        return chair.name if chair else appointment.chair_id

    def _page_once(self, appointment: Appointment, key: str, subject: str, text: str) -> None:
        clinic = self.clinic(appointment.clinic_id)
        page_once(self.messages(), self.log, self.clock, clinic, appointment.appointment_id, key, subject, text)
