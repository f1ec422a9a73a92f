"""After discharge: the follow-up surveys the care workflow opens, reminds and closes; the
patient's answers through their link; the safety path (escalations paged up the chain,
same-day tasks); scores and their history, the clinic's alerts and the FHIR export.

Every write is conditional on the record's version and re-read on a lost race; the
workflow is resumed only after the write it depends on has landed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.appointments import FlaggedAppointment
from ..domain.errors import LinkGone, LinkInvalid, NotFound, StaleRecord, TemporarilyUnavailable, Undeliverable
from ..domain.escalations import (
    ClinicianTask, Escalation, Page, acknowledge, attempt_due, chain_pagers, complete, end_of_day, recipient,
)
from ..domain.fhir import patient_bundle
from ..domain.followups import (
    SAFETY_ORDER,
    Decision,
    FollowUp,
    FollowUpStatus,
    Next,
    ScoreRecord,
    answer_follow_up,
    decide,
    expire_follow_up,
    instruments_due,
    open_follow_up,
)
from ..domain.instruments import CSSRS, INSTRUMENTS, PCL5, Progress, Risk, progress
from ..domain.links import Link, LinkKind, digest, new_token
from ..domain.surveys import Safety
from .appointments import AppointmentStore
from .kernel import Actor, ClinicUseCase, known_patient, page_each, page_once, retry_exhausted, retry_on_stale
from .ports import FollowUpRecords, LinkRecords, MessageLog, Messages, PatientRecords, SessionRecords, WorkflowEngine


@dataclass(eq=False)
class FollowUps(ClinicUseCase):
    records: FollowUpRecords
    patients: PatientRecords
    store: AppointmentStore
    session_records: SessionRecords
    links: LinkRecords
    log: MessageLog
    engine: WorkflowEngine
    messages: Callable[[], Messages]  # made on first use: most requests never send one
    patient_link_base_url: str  # without a trailing slash
    organization_id: str  # the practice whose links these are (a link's token names it)

    # --- the care workflow's follow-up steps -------------------------------------------
    def open_and_wait(
        self, appointment_id: str, run: int, number: int, hours_after: int, instruments: list[str], token: str
    ) -> dict[str, Any]:
        """Opens the follow-up on first arrival (its link goes to the patient) and waits for
        answers with `token`; resumes at once when something is already due."""
        appointment = self.store.for_run(appointment_id, run)
        changed_meanwhile = False

        def attempt() -> dict[str, Any]:
            nonlocal changed_meanwhile
            now = self.clock()
            follow_up = self.records.get_follow_up(appointment_id, number)
            if follow_up is None:
                patient = known_patient(self.patients, appointment.patient_id)
                last_ptsd_check = self.records.latest_score(patient.patient_id, PCL5.code) if patient.treating_ptsd else None
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
                        care=self.rules.care,
                    ),
                    now=now,
                    care=self.rules.care,
                )
                self.records.save_follow_up(None, follow_up)  # StaleRecord: a re-run of this step opened it meanwhile
            follow_up = self._send_survey_link(
                follow_up, "survey", "Your clinic asks how you have been since your visit. A few questions, a few minutes"
            )
            decision = decide(follow_up, now)
            # Answers that landed after the link went out and before the token was stored
            # may need a shorter wait (a screener's 30 minutes) than the one this step was
            # given: the check decides again and comes back with the right one.
            if decision.next is not Next.WAIT or changed_meanwhile:
                self.engine.resume(token, decision.output(now))
                return {"parked": False}
            if follow_up.task_token == token:
                return {"parked": True}  # a re-run: nothing to write
            try:
                self.records.save_follow_up(follow_up, follow_up.model_copy(update={"task_token": token, "version": follow_up.version + 1}))
            except StaleRecord:
                changed_meanwhile = True
                raise
            return {"parked": True}

        return retry_on_stale(attempt, "the follow-up")

    def check(self, appointment_id: str, run: int, number: int) -> dict[str, Any]:
        """A follow-up's wait ran out: sends the reminder or closes it as missed when due,
        and says what comes next."""
        self.store.for_run(appointment_id, run)

        def remind_or_expire() -> dict[str, Any] | None:
            follow_up = self._follow_up(appointment_id, number)
            now = self.clock()
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
            self.records.save_follow_up(follow_up, after)  # StaleRecord: answered meanwhile, decide again
            return None

        # At most a reminder, then an expiry, then what comes next: each pass writes one and decides again.
        for _ in range(3):
            output = retry_on_stale(remind_or_expire, "the follow-up")
            if output is not None:
                return output
        raise retry_exhausted("the follow-up")

    def escalate(self, appointment_id: str, run: int, number: int, token: str) -> dict[str, Any]:
        """Pages the clinic's chain for a high-risk answer, one more person every
        `escalationAcknowledgeMinutes`, until a clinician acknowledges; waits with `token`."""
        self.store.for_run(appointment_id, run)
        follow_up = self._follow_up(appointment_id, number)

        def page_or_wait() -> dict[str, Any]:
            now = self.clock()
            before = self.records.get_escalation(follow_up.follow_up_id)
            escalation = before or Escalation(
                escalation_id=follow_up.follow_up_id, reason=_safety_reason(follow_up), started_at=now, **follow_up.concerning
            )
            if escalation.acknowledged is not None:
                self.engine.resume(token, {"acknowledged": True})
                return {"parked": False}
            attempt = attempt_due(escalation, now, self.rules.care.escalation_acknowledge_minutes)
            if not any(page.attempt == attempt for page in escalation.pages):
                escalation = escalation.model_copy(update={"pages": (*escalation.pages, self._page_chain(escalation, attempt, now))})
            elif escalation.task_token == token:
                return {"parked": True, "attempt": attempt}  # a re-run: nothing to write
            version = escalation.version + 1 if before else escalation.version
            # StaleRecord: acknowledged meanwhile, look again.
            self.records.save_escalation(before, escalation.model_copy(update={"task_token": token, "version": version}))
            return {"parked": True, "attempt": attempt}

        output = retry_on_stale(page_or_wait, "the escalation")
        if output["parked"]:  # paged (a re-run finds the follow-up marked already)
            self._change_follow_up(appointment_id, number, lambda f: _handled(f, Safety.PAGE))
        return output

    def hand_off(self, appointment_id: str, run: int, number: int) -> dict[str, Any]:
        """The chain was paged `escalationRounds` times without an acknowledgment: paging stops.
        The escalation stays open on the clinic's alerts (acknowledging it still works) and every
        clinician is paged once to look there."""
        appointment = self.store.for_run(appointment_id, run)
        follow_up = self._follow_up(appointment_id, number)
        escalation = self.records.get_escalation(follow_up.follow_up_id)
        if escalation is None or escalation.acknowledged is not None:
            return {"handedOff": False}  # acknowledged as the last page timed out
        page_once(
            self.messages(),
            self.log,
            self.clock,
            self.clinic(appointment.clinic_id),
            appointment.appointment_id,
            f"handoff-{escalation.escalation_id}",
            "URGENT safety alert unacknowledged",
            f"Nobody on the on-call chain acknowledged a patient's safety alert; it stays on the clinic's alerts: "
            f"{self.patient_link_base_url}/escalations/{escalation.escalation_id}.",
        )
        return {"handedOff": True}

    def create_task(self, appointment_id: str, run: int, number: int) -> dict[str, Any]:
        """A lower-risk positive: a task for a clinician, due by the end of the clinic's day."""
        appointment = self.store.for_run(appointment_id, run)
        follow_up = self._follow_up(appointment_id, number)
        now = self.clock()
        if self.records.get_task(follow_up.follow_up_id) is None:
            task = ClinicianTask(
                task_id=follow_up.follow_up_id,
                **follow_up.concerning,
                reason=_safety_reason(follow_up),
                created_at=now,
                due_at=end_of_day(now, self.clinic(appointment.clinic_id).profile.zone),
            )
            try:
                self.records.save_task(None, task)
            except StaleRecord:
                pass  # a re-run of this step created it
        page_once(
            self.messages(),
            self.log,
            self.clock,
            self.clinic(appointment.clinic_id),
            appointment.appointment_id,
            f"task-{follow_up.follow_up_id}",
            "Same-day follow-up task",
            f"A patient's follow-up answers need a clinician's call today: {self.patient_link_base_url}/tasks/{follow_up.follow_up_id}.",
        )
        after = self._change_follow_up(appointment_id, number, lambda f: _handled(f, Safety.FOLLOW_UP))
        return decide(after, self.clock()).output(self.clock())

    # --- the patient's link -----------------------------------------------------------
    def survey(self, token: str) -> FollowUp:
        """The open follow-up a survey link belongs to (401 unknown, 410 used up or expired)."""
        link = self.links.get_link(digest(token))
        if link is None or link.kind is not LinkKind.SURVEY or link.follow_up is None:
            raise LinkInvalid("this link is not valid; please use the latest link the clinic sent you")
        follow_up = self.records.get_follow_up(link.appointment_id, link.follow_up)
        if follow_up is None:
            raise LinkInvalid("this link is not valid; please use the latest link the clinic sent you")
        if follow_up.status is FollowUpStatus.COMPLETED:
            raise LinkGone("this survey is already answered; thank you")
        if follow_up.status is not FollowUpStatus.OPEN or self.clock() >= min(link.valid_until, follow_up.valid_until):
            raise LinkGone("this survey has closed; if you need to talk to someone, call the clinic")
        return follow_up

    def submit(self, token: str, instrument: str, answers: dict[str, object]) -> FollowUp:
        """Stores one questionnaire's answers and score with the follow-up's new state, then
        tells a waiting workflow what is due now (the screener's deadline, a page, the end)."""

        def attempt() -> tuple[FollowUp, str | None, Decision, datetime]:
            before = self.survey(token)
            now = self.clock()
            answered = answer_follow_up(before, instrument, answers, now, self.rules.care)
            after = answered.follow_up
            decision = decide(after, now)
            token_to_resume = before.task_token if _changes_the_wait(before, after, decision) else None
            if token_to_resume:
                after = after.model_copy(update={"task_token": None})
            # StaleRecord: the workflow parked or reminded meanwhile, apply the answers again.
            self.records.record_answers(before, after, answered.response, answered.score)
            return after, token_to_resume, decision, now

        after, token_to_resume, decision, now = retry_on_stale(attempt, "the survey")
        if token_to_resume:
            self._resume_with_answers(after, token_to_resume, decision, now)
        return after

    def _resume_with_answers(self, follow_up: FollowUp, token: str, decision: Decision, now: datetime) -> None:
        try:
            self.engine.resume(token, decision.output(now))
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
            after = acknowledge(before, actor.name, self.clock(), note)
            self.records.save_escalation(before, after)  # StaleRecord: paged the next clinician meanwhile
            return before, after

        before, after = retry_on_stale(attempt, "the escalation")
        if before.task_token:
            try:
                self.engine.resume(before.task_token, {"acknowledged": True})
            except TemporarilyUnavailable:
                pass  # acknowledged is stored: the next page time finds it and pages no one
        return after

    def complete_task(self, actor: Actor, task_id: str, note: str | None) -> ClinicianTask:
        def attempt() -> ClinicianTask:
            before = self.records.get_task(task_id)
            if before is None:
                raise NotFound("no such task: check the task id")
            after = complete(before, actor.name, self.clock(), note)
            self.records.save_task(before, after)
            return after

        return retry_on_stale(attempt, "the task")

    def escalation(self, escalation_id: str) -> Escalation:
        found = self.records.get_escalation(escalation_id)
        if found is None:
            raise NotFound("no such escalation: check the escalation id")
        return found

    def alerts(
        self, clinic_id: str
    ) -> tuple[list[Escalation], list[ClinicianTask], list[FollowUp], list[FlaggedAppointment]]:
        """Open escalations and tasks, the call list, and flagged appointments of any day."""
        self.clinic(clinic_id)
        return self.records.alerts(clinic_id)

    # --- measurement-based care -------------------------------------------------------
    def score_history(self, patient_id: str) -> list[tuple[str, list[ScoreRecord], Progress | None]]:
        """Per instrument: its scores in time order and, where it has a total, progress
        against the baseline (the patient's first score of it)."""
        known_patient(self.patients, patient_id)
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
        patient = known_patient(self.patients, patient_id)
        appointments = self.store.records.patient_appointments(patient_id)
        vitals = {a.appointment_id: self.session_records.vitals(a.appointment_id) for a in appointments if a.dose is not None}
        return patient_bundle(
            patient,
            appointments,
            vitals,
            self.records.scores(patient_id),
            self.records.questionnaire_responses(patient_id),
        )

    # --- internals --------------------------------------------------------------------
    def _page_chain(self, escalation: Escalation, attempt: int, now: datetime) -> Page:
        """Sends page `attempt` to the chain's person for it (or, when that pager cannot be
        reached, to everyone else on the clinic's chain) and returns its record. Sent before it
        is recorded: a retry may page twice, never zero times."""
        clinic = self.clinic(escalation.clinic_id)
        level, provider_id = recipient(clinic.profile.escalation_chain, attempt)
        text = (
            f"URGENT safety alert ({level}): a patient needs a clinician now. "
            f"Open and acknowledge: {self.patient_link_base_url}/escalations/{escalation.escalation_id}"
        )
        pagers = dict(chain_pagers(clinic))
        why = f"no pager is set for the {level}"
        if provider_id in pagers:
            try:
                self.messages().to_pager(pagers[provider_id], text)
                return Page(attempt=attempt, level=level, provider_id=provider_id, at=now)
            except Undeliverable:  # a refused pager must not stop the safety path: the rest of the chain gets it
                why = f"the {level}'s pager refused the page"
        page_each(self.messages(), [p for member, p in pagers.items() if member != provider_id], f"{text} ({why}: whoever reads this, act)")
        return Page(attempt=attempt, level=level, provider_id=None, at=now)

    def _send_survey_link(self, follow_up: FollowUp, purpose: str, intro: str) -> FollowUp:
        """Sends a fresh survey link once per purpose (only its hash is stored). A refusal puts
        the follow-up on the front desk's call list."""
        key = f"{purpose}-{follow_up.run}-{follow_up.number}"
        if self.log.message_sent(follow_up.appointment_id, key):
            return follow_up
        token = new_token(self.organization_id)
        self.links.save_link(
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
            channel = self.messages().to_patient(known_patient(self.patients, follow_up.patient_id), "Your clinic's follow-up", text)
        except Undeliverable:
            return self._change_follow_up(
                follow_up.appointment_id, follow_up.number, lambda f: f.model_copy(update={"undeliverable": True})
            )
        self.log.record_message(follow_up.appointment_id, key, channel, self.clock())
        return follow_up

    def _follow_up(self, appointment_id: str, number: int) -> FollowUp:
        follow_up = self.records.get_follow_up(appointment_id, number)
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
            self.records.save_follow_up(before, after)
            return after

        return retry_on_stale(attempt, "the follow-up")


def _changes_the_wait(before: FollowUp, after: FollowUp, decision: Decision) -> bool:
    """A waiting workflow must hear of answers that end the wait or set a nearer deadline."""
    return decision.next is not Next.WAIT or after.screener_due_at != before.screener_due_at


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
