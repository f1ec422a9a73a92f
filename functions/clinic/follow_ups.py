"""After discharge: the patient's survey through their link, scores and their history, the
safety path (escalations, tasks), the clinic's alerts and the FHIR export.

Every write is conditional on the record's version and re-read on a lost race; the
workflow is resumed only after the write it depends on has landed."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Protocol

from .domain.appointments import FlaggedAppointment
from .domain.errors import Conflict, LinkGone, LinkInvalid, NotFound, StaleRecord, TemporarilyUnavailable
from .domain.escalations import ClinicianTask, Escalation, acknowledge, complete
from .domain.fhir import patient_bundle
from .domain.followups import (
    Decision,
    FollowUp,
    FollowUpStatus,
    Next,
    QuestionnaireAnswers,
    ScoreRecord,
    answer_follow_up,
    decide,
)
from .domain.instruments import INSTRUMENTS, Progress, progress
from .domain.links import Link, LinkKind, digest
from .service import ATTEMPTS, Actor, ClinicService, retry_on_stale


class FollowUpRecords(Protocol):
    def get_link(self, link_digest: str) -> Link | None: ...
    def get_follow_up(self, appointment_id: str, number: int) -> FollowUp | None: ...
    def save_follow_up(self, before: FollowUp | None, after: FollowUp) -> None: ...
    def record_answers(self, before: FollowUp, after: FollowUp, response: QuestionnaireAnswers, score: ScoreRecord) -> None: ...
    def scores(self, patient_id: str) -> list[ScoreRecord]: ...
    def questionnaire_responses(self, patient_id: str) -> list[QuestionnaireAnswers]: ...
    def get_escalation(self, escalation_id: str) -> Escalation | None: ...
    def save_escalation(self, before: Escalation | None, after: Escalation) -> None: ...
    def get_task(self, task_id: str) -> ClinicianTask | None: ...
    def save_task(self, before: ClinicianTask | None, after: ClinicianTask) -> None: ...
    def alerts(
        self, clinic_id: str
    ) -> tuple[list[Escalation], list[ClinicianTask], list[FollowUp], list[FlaggedAppointment]]: ...


class FollowUpService:
    def __init__(self, service: ClinicService, records: FollowUpRecords):
        self.service = service
        self.records = records

    # --- the patient's link -----------------------------------------------------------
    def survey(self, token: str) -> FollowUp:
        """The open follow-up a survey link belongs to (401 unknown, 410 used up or expired)."""
        link = self.records.get_link(digest(token))
        if link is None or link.kind is not LinkKind.SURVEY or link.follow_up is None:
            raise LinkInvalid("this link is not valid; please use the latest link the clinic sent you")
        follow_up = self.records.get_follow_up(link.appointment_id, link.follow_up)
        if follow_up is None:
            raise LinkInvalid("this link is not valid; please use the latest link the clinic sent you")
        if follow_up.status is FollowUpStatus.COMPLETED:
            raise LinkGone("this survey is already answered; thank you")
        if follow_up.status is not FollowUpStatus.OPEN or self.service.clock() >= min(link.valid_until, follow_up.valid_until):
            raise LinkGone("this survey has closed; if you need to talk to someone, call the clinic")
        return follow_up

    def submit(self, token: str, instrument: str, answers: dict[str, object]) -> FollowUp:
        """Stores one questionnaire's answers and score with the follow-up's new state, then
        tells a waiting workflow what is due now (the screener's deadline, a page, the end)."""
        for _ in range(ATTEMPTS):
            before = self.survey(token)
            now = self.service.clock()
            answered = answer_follow_up(before, instrument, answers, now, self.service.rules.care)
            after = answered.follow_up
            decision = decide(after, now)
            token_to_resume = before.task_token if _changes_the_wait(before, after, decision) else None
            if token_to_resume:
                after = after.model_copy(update={"task_token": None})
            try:
                self.records.record_answers(before, after, answered.response, answered.score)
            except StaleRecord:
                continue  # the workflow parked or reminded meanwhile: apply the answers again
            if token_to_resume:
                self._resume(after, token_to_resume, decision, now)
            return after
        raise Conflict("the survey keeps changing; please try again")

    def _resume(self, follow_up: FollowUp, token: str, decision: Decision, now: datetime) -> None:
        try:
            self.service.workflow.resume(token, decision.output(now))
        except TemporarilyUnavailable:
            # The answers are stored and the workflow's own deadline looks again, which may be
            # hours away: a clinician reviews them now instead.
            task = ClinicianTask(
                task_id=f"{follow_up.follow_up_id}-review",
                **follow_up.concerning,
                reason="survey answers could not reach the care workflow: review them now",
                created_at=now,
                due_at=now,
            )
            try:
                self.records.save_task(None, task)
            except StaleRecord:
                pass  # already waiting for review

    # --- the safety path --------------------------------------------------------------
    def acknowledge(self, actor: Actor, escalation_id: str, note: str | None) -> Escalation:
        def attempt() -> tuple[Escalation, Escalation]:
            before = self.escalation(escalation_id)
            after = acknowledge(before, actor.name, self.service.clock(), note)
            self.records.save_escalation(before, after)  # StaleRecord: paged the next clinician meanwhile
            return before, after

        before, after = retry_on_stale(attempt, "the escalation")
        if before.task_token:
            try:
                self.service.workflow.resume(before.task_token, {"acknowledged": True})
            except TemporarilyUnavailable:
                pass  # acknowledged is stored: the next page time finds it and pages no one
        return after

    def complete_task(self, actor: Actor, task_id: str, note: str | None) -> ClinicianTask:
        def attempt() -> ClinicianTask:
            before = self.records.get_task(task_id)
            if before is None:
                raise NotFound(f"no task {task_id!r}")
            after = complete(before, actor.name, self.service.clock(), note)
            self.records.save_task(before, after)
            return after

        return retry_on_stale(attempt, "the task")

    def escalation(self, escalation_id: str) -> Escalation:
        found = self.records.get_escalation(escalation_id)
        if found is None:
            raise NotFound(f"no escalation {escalation_id!r}")
        return found

    def alerts(
        self, clinic_id: str
    ) -> tuple[list[Escalation], list[ClinicianTask], list[FollowUp], list[FlaggedAppointment]]:
        self.service.clinic(clinic_id)
        return self.records.alerts(clinic_id)

    # --- measurement-based care -------------------------------------------------------
    def score_history(self, patient_id: str) -> list[tuple[str, list[ScoreRecord], Progress | None]]:
        """Per instrument: its scores in time order and, where it has a total, progress
        against the baseline (the patient's first score of it)."""
        self.service.patient(patient_id)
        by_instrument: dict[str, list[ScoreRecord]] = defaultdict(list)
        for record in self.records.scores(patient_id):
            by_instrument[record.instrument].append(record)
        history = []
        for code, records in by_instrument.items():
            records.sort(key=lambda r: r.effective)
            totals = [r.total for r in records if r.total is not None]
            history.append((code, records, progress(INSTRUMENTS[code], totals) if totals else None))
        return history

    def fhir_bundle(self, patient_id: str) -> dict[str, Any]:
        patient = self.service.patient(patient_id)
        appointments = self.service.patient_appointments(patient_id)
        vitals = {a.appointment_id: self.service.vitals(a.appointment_id) for a in appointments if a.dose is not None}
        return patient_bundle(
            patient,
            appointments,
            vitals,
            self.records.scores(patient_id),
            self.records.questionnaire_responses(patient_id),
        )


def _changes_the_wait(before: FollowUp, after: FollowUp, decision: Decision) -> bool:
    """A waiting workflow must hear of answers that end the wait or set a nearer deadline."""
    return decision.next is not Next.WAIT or after.screener_due_at != before.screener_due_at
