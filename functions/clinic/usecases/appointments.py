"""What every use case does to an appointment: change it (one read-change-write helper),
move it through its statuses, and start, stop or resume its care workflow run."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.appointments import (
    RELEASING,
    SCHEDULED,
    Action,
    Appointment,
    Cancellation,
    attention_after,
    is_late_cancellation,
    next_status,
    raise_attention,
)
from ..domain.care import Attention, AttentionKind, RemsForm
from ..domain.courses import spacing_problem
from ..domain.errors import Conflict, NotFound, StaleRecord, TemporarilyUnavailable
from ..domain.resources import Clinic
from ..domain.rules import ClinicRules
from ..domain.scheduling import Block, Claim, Grain, Scheduler
from ..domain.workflow import Step, callback_output, execution_input, open_for_run
from .kernel import ATTEMPTS, WORKFLOW_ACTOR, Actor, Clock, audit_entry
from .ports import AppointmentRecords, WorkflowEngine


@dataclass(frozen=True)
class Change:
    """A new version of an appointment, and what the same transaction writes with it."""

    update: Mapping[str, Any]  # the fields that change (the version is bumped for you)
    # The audit entry's action; None for the workflow's own bookkeeping (where its run
    # waits), which writes no audit entry and leaves `updated_at` alone.
    action: Action | None = None
    actor: Actor = WORKFLOW_ACTOR
    reason: str | None = None
    claims: Sequence[Claim] = ()
    releases: Sequence[Grain] = ()
    form: RemsForm | None = None
    consumed_link: str | None = None  # the digest of the patient link this change uses up
    schedule_version: int | None = None  # the patient's schedule count read before a spacing check


Decide = Callable[[Appointment, datetime], Change | None]


@dataclass(eq=False)
class AppointmentStore:
    """The appointment records with the one way to change an appointment."""

    records: AppointmentRecords
    clock: Clock

    def get(self, appointment_id: str) -> Appointment:
        appointment = self.records.get_appointment(appointment_id)
        if appointment is None:
            raise NotFound("no such appointment: check the appointment id")
        return appointment

    def for_run(self, appointment_id: str, run: int) -> Appointment:
        """The appointment a step of workflow run `run` acts on; raises AppointmentClosed or
        Superseded when that run must end."""
        return open_for_run(self.records.get_appointment(appointment_id), appointment_id, run)

    def change(
        self, appointment_id: str, decide: Decide, *, load: Callable[[str], Appointment] | None = None
    ) -> tuple[Appointment, Appointment | None]:
        """Loads the appointment, asks `decide` what changes (None: nothing to write), bumps
        the version, stamps the time and writes it with its audit entry in one conditional
        transaction. A write that lost a race is re-read and decided again, ATTEMPTS times,
        then a 409 says why. Returns the appointment as read and as written (None: unchanged)."""
        load = load or self.get
        for _ in range(ATTEMPTS):
            before = load(appointment_id)
            now = self.clock()
            change = decide(before, now)
            if change is None:
                return before, None
            update = {**change.update, "version": before.version + 1}
            if change.action is not None:
                update["updated_at"] = now
            after = before.model_copy(update=update)
            audit = None
            if change.action is not None:
                audit = audit_entry(after, change.action, change.actor, before.status, now, change.reason)
            consumed_link = (change.consumed_link, now) if change.consumed_link else None
            try:
                self.records.change_appointment(
                    before, after, list(change.claims), list(change.releases), audit, form=change.form, consumed_link=consumed_link,
                    schedule_version=change.schedule_version,
                )
            except StaleRecord:
                continue  # someone else wrote first: read it again, the change may differ now
            return before, after
        raise Conflict("the appointment keeps changing; reload it and try again")


    def change_attention(
        self,
        appointment_id: str,
        actor: Actor,
        attention_of: Callable[[Appointment, datetime], Attention | None],
        action: Action = Action.ATTENTION,
        reason: str | None = None,
    ) -> Appointment | None:
        """Sets the appointment's flag to `attention_of(appointment, now)`, audited as `actor`'s
        `action` with `reason` (else the flag's); writes nothing when the flag (kind and
        reason) stays as it is. None when the appointment is gone."""

        def decide(before: Appointment, now: datetime) -> Change | None:
            attention = attention_of(before, now)
            if _shown(attention) == _shown(before.attention):
                return None
            why = reason or (attention.reason if attention else "settled")
            return Change({"attention": attention}, action, actor, why)

        try:
            before, after = self.change(appointment_id, decide)
        except NotFound:
            return None
        return after or before


def _shown(attention: Attention | None) -> tuple[AttentionKind, str] | None:
    """What staff see of a flag: a new `since` alone is no change."""
    return (attention.kind, attention.reason) if attention else None


def scheduled_starts(records: AppointmentRecords, patient_id: str, ignoring: str | None = None) -> list[datetime]:
    """Starts of the patient's sessions still to come or under way: what spacing is kept from.
    `ignoring` is the session being moved."""
    return [a.start for a in records.patient_appointments(patient_id) if a.status in SCHEDULED and a.appointment_id != ignoring]


def too_close(
    records: AppointmentRecords, scheduler: Scheduler, patient_id: str, session_type: str, start: datetime, ignoring: str | None = None
) -> str | None:
    """Why a session at `start` is too close to another of the patient's scheduled sessions
    (the session type's minimum spacing), or None: every path that places a single session
    (booking, reschedule, a waitlist offer) asks this."""
    others = scheduled_starts(records, patient_id, ignoring)
    return spacing_problem(start, others, scheduler.rules.spacing(session_type), scheduler.clinic.profile.zone)


def claims_of(scheduler: Scheduler, appointment: Appointment) -> list[Claim]:
    """Every grain the appointment holds, with its resource's capacity."""
    return scheduler.claims(Block(appointment.start, appointment.end), appointment.chair_id, appointment.provider_id)


@dataclass(eq=False)
class WorkflowRuns:
    """An appointment's care workflow run, seen from the use cases: starting, stopping and
    resuming it never undoes the change that asked for it."""

    engine: WorkflowEngine
    store: AppointmentStore
    rules: ClinicRules

    def start(self, appointment: Appointment, now: datetime) -> Appointment:
        try:
            self.engine.start(appointment.execution_name, execution_input(appointment, self.rules, now))
            return appointment
        except TemporarilyUnavailable:
            # The booking stands; staff see why its reminders and callbacks will not run.
            flagged = self.flag(
                appointment.appointment_id,
                AttentionKind.WORKFLOW,
                "the care workflow could not be started: reschedule to start it again",
            )
            return flagged or appointment

    def stop(self, appointment: Appointment) -> None:
        try:
            self.engine.stop(appointment.execution_name)
        except TemporarilyUnavailable:
            pass  # its next step finds the appointment closed or superseded and ends the run

    def resume(self, appointment: Appointment, step: Step) -> None:
        """Resumes the run if it waits at `step` and the step is done."""
        token = appointment.workflow.task_token
        if appointment.workflow.waiting_for != step.value or token is None:
            return  # not waiting there yet: it resumes itself when it arrives
        output = callback_output(appointment, step, self.rules)
        if output is None:
            return
        try:
            self.engine.resume(token, output)
        except TemporarilyUnavailable:
            pass  # the step's timeout looks at the appointment again and moves on

    def flag(self, appointment_id: str, kind: AttentionKind, reason: str) -> Appointment | None:
        """Flags the appointment for staff (the same flag is written once); None when it is gone."""
        return self.store.change_attention(
            appointment_id,
            WORKFLOW_ACTOR,
            lambda before, now: raise_attention(before.attention, Attention(kind=kind, reason=reason, since=now)),
        )


@dataclass(eq=False)
class StatusChanges:
    """Check-in, no-show and cancellation: one action moves the appointment to its next
    status, releases its time when it closes, and tells its workflow run."""

    store: AppointmentStore
    runs: WorkflowRuns
    clinic: Callable[[str], Clinic]
    rules: ClinicRules

    def apply(self, actor: Actor, appointment_id: str, action: Action, reason: str | None = None) -> Appointment:
        """The appointment after `action`; unchanged when it was already done (a repeated click)."""

        def decide(before: Appointment, now: datetime) -> Change | None:
            scheduler = Scheduler(self.rules, self.clinic(before.clinic_id))
            target = next_status(before, action, now, scheduler.local_date(now).isoformat())
            if target is None:
                return None
            update: dict[str, object] = {"status": target, "attention": attention_after(before, action)}
            if action is Action.CHECK_IN:
                update["checked_in_at"] = now
            if action is Action.CANCEL:
                late = is_late_cancellation(before, now, self.rules.late_cancellation_hours)
                update["cancellation"] = Cancellation(reason=reason or "", late=late, at=now)
            releases = [grain for grain, _ in claims_of(scheduler, before)] if target in RELEASING else []
            return Change(update, action, actor, reason, releases=releases)

        before, after = self.store.change(appointment_id, decide)
        if after is None:
            if action is Action.CHECK_IN:
                self.runs.resume(before, Step.CHECK_IN)
            return before
        if after.status in RELEASING and actor is not WORKFLOW_ACTOR:  # the workflow ends its own run
            self.runs.stop(after)
        else:
            self.runs.resume(after, Step.CHECK_IN)
        return after
