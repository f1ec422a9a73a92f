"""What each task of the care workflow does. Every step is safe to run twice with the same
input (Step Functions may re-run a task that already took effect): state changes are
conditional, and a message is recorded once sent and not sent again. (A retry between the
send and its record repeats it: messages go at least once, never silently not at all.)"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from ..domain.appointments import Appointment, Status
from ..domain.care import (
    AttentionKind,
    blood_pressure_due_at,
    blood_pressure_recorded_since,
    discharge_overdue_at,
    rems_form_overdue,
    rems_form_overdue_at,
)
from ..domain.errors import Conflict, StaleRecord, TemporarilyUnavailable, Undeliverable
from ..domain.escalations import ClinicianTask, Escalation, Page, attempt_due, end_of_day, recipient
from ..domain.followups import (
    SAFETY_ORDER,
    FollowUp,
    Next,
    decide,
    expire_follow_up,
    instruments_due,
    open_follow_up,
)
from ..domain.instruments import CSSRS, PCL5, Risk
from ..domain.links import Link, LinkKind, digest, new_token
from ..domain.patients import Patient
from ..domain.surveys import Safety
from ..domain.workflow import Step, progress, utc
from ..service import ATTEMPTS, ClinicService, retry_on_stale


class Messages(Protocol):
    """Raises TemporarilyUnavailable (retry) or Undeliverable (staff must act)."""

    def to_patient(self, patient: Patient, subject: str, text: str) -> str: ...
    def to_clinicians(self, subject: str, text: str) -> None: ...
    def to_pager(self, phone: str, text: str) -> None: ...


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
                reason = "the post-dose blood pressure check is due: take it"
                self.service.needs_attention(appointment_id, AttentionKind.BLOOD_PRESSURE_CHECK, reason)
        remaining = (discharge_overdue_at(dose, care) - now).total_seconds()
        output: dict[str, Any] = {"overdueInSeconds": max(1, math.ceil(remaining))}
        if self.service.rules.session_types[appointment.session_type].requires_rems:
            # Known from the session's date: the workflow waits until then once the follow-ups are done.
            zone = self.service.clinic(appointment.clinic_id).profile.zone
            overdue_at = rems_form_overdue_at(date.fromisoformat(appointment.local_date), care, zone)
            output["remsFormOverdueAt"] = utc(overdue_at)
        return output

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
    def await_follow_up(
        self, appointment_id: str, run: int, number: int, hours_after: int, instruments: list[str], token: str
    ) -> dict[str, Any]:
        """Opens the follow-up on first arrival (its link goes to the patient) and waits for
        answers with `token`; resumes at once when something is already due."""
        appointment = self.service.workflow_appointment(appointment_id, run)
        for _ in range(ATTEMPTS):
            now = self.service.clock()
            follow_up = self.repository.get_follow_up(appointment_id, number)
            if follow_up is None:
                patient = self.service.patient(appointment.patient_id)
                last_ptsd_check = self.repository.latest_score(patient.patient_id, PCL5.code) if patient.treating_ptsd else None
                follow_up = open_follow_up(
                    appointment_id=appointment_id,
                    run=run,
                    number=number,
                    clinic_id=appointment.clinic_id,
                    patient_id=appointment.patient_id,
                    hours_after=hours_after,
                    instruments=instruments_due(
                        instruments,
                        treating_ptsd=patient.treating_ptsd,
                        last_ptsd_check=last_ptsd_check and last_ptsd_check.effective,
                        now=now,
                        care=self.service.rules.care,
                    ),
                    now=now,
                    care=self.service.rules.care,
                )
                try:
                    self.repository.save_follow_up(None, follow_up)
                except StaleRecord:
                    continue  # a re-run of this step opened it meanwhile
            follow_up = self._send_survey_link(
                follow_up, "survey", "Your clinic asks how you have been since your visit. A few questions, a few minutes"
            )
            decision = decide(follow_up, now)
            if decision.next is not Next.WAIT:
                self.service.workflow.resume(token, decision.output(now))
                return {"parked": False}
            if follow_up.task_token == token:
                return {"parked": True}  # a re-run: nothing to write
            try:
                self.repository.save_follow_up(
                    follow_up, follow_up.model_copy(update={"task_token": token, "version": follow_up.version + 1})
                )
                return {"parked": True}
            except StaleRecord:
                continue  # answered meanwhile: decide again
        raise Conflict("the follow-up keeps changing")

    def follow_up_check(self, appointment_id: str, run: int, number: int) -> dict[str, Any]:
        """A follow-up's wait ran out: sends the reminder or closes it as missed when due,
        and says what comes next."""
        self.service.workflow_appointment(appointment_id, run)
        for _ in range(2 * ATTEMPTS):  # a reminder, an expiry and a lost race or two
            follow_up = self._follow_up(appointment_id, number)
            now = self.service.clock()
            decision = decide(follow_up, now)
            if decision.next is Next.REMIND:
                follow_up = self._send_survey_link(
                    follow_up, "survey-reminder", "A reminder from your clinic: please answer a few questions"
                )
                after = follow_up.model_copy(update={"reminded_at": now, "version": follow_up.version + 1})
            elif decision.next is Next.EXPIRE:
                after = expire_follow_up(follow_up, now)
            else:
                return decision.output(now)
            try:
                self.repository.save_follow_up(follow_up, after)
            except StaleRecord:
                continue  # answered meanwhile: decide again
        raise Conflict("the follow-up keeps changing")

    def escalate(self, appointment_id: str, run: int, number: int, token: str) -> dict[str, Any]:
        """Pages the clinic's chain for a high-risk answer, one more person every
        `escalationAcknowledgeMinutes`, until a clinician acknowledges; waits with `token`."""
        self.service.workflow_appointment(appointment_id, run)
        follow_up = self._follow_up(appointment_id, number)
        for _ in range(ATTEMPTS):
            now = self.service.clock()
            before = self.repository.get_escalation(follow_up.follow_up_id)
            escalation = before or Escalation(
                escalation_id=follow_up.follow_up_id, reason=_safety_reason(follow_up), started_at=now, **follow_up.concerning
            )
            if escalation.acknowledged is not None:
                self.service.workflow.resume(token, {"acknowledged": True})
                return {"parked": False}
            attempt = attempt_due(escalation, now, self.service.rules.care.escalation_acknowledge_minutes)
            if not any(page.attempt == attempt for page in escalation.pages):
                escalation = escalation.model_copy(update={"pages": (*escalation.pages, self._page_chain(escalation, attempt, now))})
            elif escalation.task_token == token:
                return {"parked": True, "attempt": attempt}  # a re-run: nothing to write
            try:
                version = escalation.version + 1 if before else escalation.version
                self.repository.save_escalation(before, escalation.model_copy(update={"task_token": token, "version": version}))
            except StaleRecord:
                continue  # acknowledged meanwhile
            self._change_follow_up(appointment_id, number, lambda f: _handled(f, Safety.PAGE))
            return {"parked": True, "attempt": attempt}
        raise Conflict("the escalation keeps changing")

    def hand_off_escalation(self, appointment_id: str, run: int, number: int) -> dict[str, Any]:
        """The chain was paged `escalationRounds` times without an acknowledgment: paging stops.
        The escalation stays open on the clinic's alerts (acknowledging it still works) and every
        clinician is paged once to look there."""
        appointment = self.service.workflow_appointment(appointment_id, run)
        follow_up = self._follow_up(appointment_id, number)
        escalation = self.repository.get_escalation(follow_up.follow_up_id)
        if escalation is None or escalation.acknowledged is not None:
            return {"handedOff": False}  # acknowledged as the last page timed out
        self._page_once(
            appointment,
            f"handoff-{escalation.escalation_id}",
            "URGENT safety alert unacknowledged",
            f"Nobody on the on-call chain acknowledged a patient's safety alert; it stays on the clinic's alerts: "
            f"{self.patient_link_base_url}/escalations/{escalation.escalation_id}.",
        )
        return {"handedOff": True}

    def follow_up_task(self, appointment_id: str, run: int, number: int) -> dict[str, Any]:
        """A lower-risk positive: a task for a clinician, due by the end of the clinic's day."""
        appointment = self.service.workflow_appointment(appointment_id, run)
        follow_up = self._follow_up(appointment_id, number)
        now = self.service.clock()
        if self.repository.get_task(follow_up.follow_up_id) is None:
            task = ClinicianTask(
                task_id=follow_up.follow_up_id,
                **follow_up.concerning,
                reason=_safety_reason(follow_up),
                created_at=now,
                due_at=end_of_day(now, self.service.clinic(appointment.clinic_id).profile.zone),
            )
            try:
                self.repository.save_task(None, task)
            except StaleRecord:
                pass  # a re-run of this step created it
        self._page_once(
            appointment,
            f"task-{follow_up.follow_up_id}",
            "Same-day follow-up task",
            f"A patient's follow-up answers need a clinician's call today: {self.patient_link_base_url}/tasks/{follow_up.follow_up_id}.",
        )
        after = self._change_follow_up(appointment_id, number, lambda f: _handled(f, Safety.FOLLOW_UP))
        return decide(after, self.service.clock()).output(self.service.clock())

    def _page_chain(self, escalation: Escalation, attempt: int, now: datetime) -> Page:
        """Sends page `attempt` to the chain's person for it (or every clinician when the clinic
        names nobody with a pager there) and returns its record. Sent before it is recorded:
        a retry may page twice, never zero times."""
        clinic = self.service.clinic(escalation.clinic_id)
        level, provider_id = recipient(clinic.profile.escalation_chain, attempt)
        provider = clinic.providers.get(provider_id) if provider_id else None
        text = (
            f"URGENT safety alert ({level}): a patient needs a clinician now. "
            f"Open and acknowledge: {self.patient_link_base_url}/escalations/{escalation.escalation_id}"
        )
        why = f"no pager is set for the {level}"
        if provider is not None and provider.pager:
            try:
                self.messages.to_pager(provider.pager, text)
                return Page(attempt=attempt, level=level, provider_id=provider.provider_id, at=now)
            except Undeliverable:  # a refused pager must not stop the safety path: everyone gets it
                why = f"the {level}'s pager refused the page"
        self.messages.to_clinicians("URGENT safety alert", f"{text} ({why}: whoever reads this, act)")
        return Page(attempt=attempt, level=level, provider_id=None, at=now)

    def _send_survey_link(self, follow_up: FollowUp, purpose: str, intro: str) -> FollowUp:
        """Sends a fresh survey link once per purpose (only its hash is stored). A refusal puts
        the follow-up on the front desk's call list."""
        key = f"{purpose}-{follow_up.run}-{follow_up.number}"
        if self.repository.message_sent(follow_up.appointment_id, key):
            return follow_up
        token = new_token()
        self.repository.save_link(
            Link(
                digest=digest(token),
                kind=LinkKind.SURVEY,
                appointment_id=follow_up.appointment_id,
                run=follow_up.run,
                follow_up=follow_up.number,
                valid_until=follow_up.valid_until,
            )
        )
        text = f"{intro}: {self.patient_link_base_url}/survey#{token}"
        try:
            channel = self.messages.to_patient(self.service.patient(follow_up.patient_id), "Your clinic's follow-up", text)
        except Undeliverable:
            return self._change_follow_up(
                follow_up.appointment_id, follow_up.number, lambda f: f.model_copy(update={"undeliverable": True})
            )
        self.repository.record_message(follow_up.appointment_id, key, channel, self.service.clock())
        return follow_up

    def _follow_up(self, appointment_id: str, number: int) -> FollowUp:
        follow_up = self.repository.get_follow_up(appointment_id, number)
        if follow_up is None:
            raise ValueError(f"follow-up {number} was never opened")  # the await step opens it first
        return follow_up

    def _change_follow_up(self, appointment_id: str, number: int, change: Callable[[FollowUp], FollowUp]) -> FollowUp:
        def attempt() -> FollowUp:
            before = self._follow_up(appointment_id, number)
            after = change(before)
            if after == before:
                return before
            after = after.model_copy(update={"version": before.version + 1})
            self.repository.save_follow_up(before, after)
            return after

        return retry_on_stale(attempt, "the follow-up")


    # --- REMS ------------------------------------------------------------------------
    def rems_form_check(self, appointment_id: str, run: int) -> dict[str, Any]:
        """At the REMS Patient Monitoring Form's deadline: a form still not marked filed is
        overdue. It stays on the clinic's alerts (forms due or overdue), the clinicians are
        paged once, and the handler counts it for the operator's alarm."""
        appointment = self.service.workflow_appointment(appointment_id, run)
        # The clinic's forms still due (one Query); a form marked filed has left that list.
        due = [f for f in self.repository.rems_forms_due(appointment.clinic_id) if f.appointment_id == appointment_id]
        today = self.service.clock().astimezone(self.service.clinic(appointment.clinic_id).profile.zone).date()
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
            appointment = self.service.needs_attention(appointment_id, AttentionKind.WORKFLOW, reason)
        except TemporarilyUnavailable:
            raise  # retried by the state machine: the page goes out with the flag
        except Exception:
            # The flag cannot be written: the page must still go out (unrecorded, so a retry
            # may page again), then the failure ends the run for the operator's alarm.
            self.messages.to_clinicians(
                "Appointment needs attention", f"{reason} (the flag could not be recorded). Appointment {appointment_id}."
            )
            raise
        if appointment is not None:
            self._page_once(appointment, f"attention-{run}-{failed_step}", "Appointment needs attention", reason)
        return {"flagged": appointment is not None}

    def _page_once(self, appointment: Appointment, key: str, subject: str, text: str) -> None:
        if self.repository.message_sent(appointment.appointment_id, key):
            return
        self.messages.to_clinicians(subject, f"{text} Appointment {appointment.appointment_id}.")
        self.repository.record_message(appointment.appointment_id, key, "page", self.service.clock())

def _handled(follow_up: FollowUp, step: Safety) -> FollowUp:
    if SAFETY_ORDER.index(step) <= SAFETY_ORDER.index(follow_up.safety_handled):
        return follow_up
    return follow_up.model_copy(update={"safety_handled": step})


def _safety_reason(follow_up: FollowUp) -> str:
    """Why the safety path runs, for staff (the API, never a message body)."""
    screened = [s for s in follow_up.session.scores if s.instrument == CSSRS.code]
    if not screened:
        return "PHQ-9 item 9 above 0 and the C-SSRS screener not answered in time"
    risk = screened[-1].risk or Risk.NONE
    return f"PHQ-9 item 9 above 0; C-SSRS screener risk {risk.value}"
