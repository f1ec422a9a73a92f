"""In-memory fakes of the use cases' ports (functions/clinic/usecases/ports.py): the record
ports with the same conditions the DynamoDB adapter puts on its writes, a workflow engine
and messages that remember what they were asked. The use-case tier (tests/usecases/) runs
the rules on them without moto."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from clinic.domain.access import AccessEntry
from clinic.domain.appointments import Appointment, AuditEntry, FlaggedAppointment
from clinic.domain.care import RemsForm, Vitals
from clinic.domain.courses import Course
from clinic.domain.errors import (
    AlreadyExists,
    Conflict,
    InvalidRequest,
    LinkGone,
    NotFound,
    SlotTaken,
    StaleRecord,
    TemporarilyUnavailable,
    UsernameTaken,
)
from clinic.domain.escalations import ClinicianTask, Escalation
from clinic.domain.followups import FollowUp, QuestionnaireAnswers, ScoreRecord
from clinic.domain.links import Link
from clinic.domain.patient_search import SearchTerm, index_terms
from clinic.domain.patients import Patient, rems_enrollment_missing
from clinic.domain.resources import Chair, Clinic, ClinicProfile, Provider
from clinic.domain.scheduling import Claim, Grain
from clinic.domain.staff import Organization, StaffAuditEntry, StaffMember
from clinic.domain.waitlist import WaitlistEntry, WaitlistOffer


class InMemoryRecords:
    """Every record port at once, as the DynamoDB adapter is. `meanwhile` holds writes of
    "someone else" that land just before the next appointment change is checked (a lost
    race); a write may queue another for the change after."""

    def __init__(self) -> None:
        self.profiles: dict[str, ClinicProfile] = {}
        self.chairs: dict[str, dict[str, Chair]] = defaultdict(dict)
        self.providers: dict[str, dict[str, Provider]] = defaultdict(dict)
        self.patients: dict[str, Patient] = {}
        self.appointments: dict[str, Appointment] = {}
        self.audit: dict[str, dict[int, AuditEntry]] = defaultdict(dict)
        self.holds: dict[tuple[str, str, Grain], set[str]] = defaultdict(set)  # (clinic, local date, grain) -> holders
        self.vitals_by_appointment: dict[str, list[Vitals]] = defaultdict(list)
        self.forms: dict[str, RemsForm] = {}
        self.links: dict[str, Link] = {}
        self.messages: dict[tuple[str, str], tuple[str, datetime]] = {}
        self.courses: dict[str, Course] = {}
        self.entries: dict[str, dict[str, WaitlistEntry]] = defaultdict(dict)
        self.positions: dict[str, int] = defaultdict(int)
        self.offers: dict[str, WaitlistOffer] = {}
        self.follow_ups: dict[tuple[str, int], FollowUp] = {}
        self.responses: dict[str, list[QuestionnaireAnswers]] = defaultdict(list)
        self.score_records: dict[str, list[ScoreRecord]] = defaultdict(list)
        self.escalations: dict[str, Escalation] = {}
        self.tasks: dict[str, ClinicianTask] = {}
        self.accesses: list[AccessEntry] = []
        self.schedule_versions: dict[str, int] = {}
        self.organizations: list[Organization] = []
        self.members: dict[str, StaffMember] = {}
        self.staff_entries: dict[str, list[StaffAuditEntry]] = defaultdict(list)
        self.meanwhile: list[Callable[[], None]] = []
        self.changes_written = 0

    # --- clinic configuration ----------------------------------------------------------
    def load_clinic(self, clinic_id: str) -> Clinic | None:
        profile = self.profiles.get(clinic_id)
        if profile is None:
            return None
        return Clinic(profile=profile, chairs=dict(self.chairs[clinic_id]), providers=dict(self.providers[clinic_id]))

    def save_clinic_profile(self, profile: ClinicProfile) -> None:
        self.profiles[profile.clinic_id] = profile

    def save_chair(self, clinic_id: str, chair: Chair) -> None:
        self.chairs[clinic_id][chair.chair_id] = chair

    def save_provider(self, clinic_id: str, provider: Provider) -> None:
        self.providers[clinic_id][provider.provider_id] = provider

    # --- patients ----------------------------------------------------------------------
    def create_patient(self, patient: Patient) -> None:
        if patient.patient_id in self.patients:
            raise AlreadyExists(f"patient {patient.patient_id!r} already exists")
        self.patients[patient.patient_id] = patient

    def get_patient(self, patient_id: str) -> Patient | None:
        return self.patients.get(patient_id)

    def patient_ids(self, term: SearchTerm) -> list[str]:
        keys = sorted(f"{t.value}#{p.patient_id}" for p in self.patients.values() for t in index_terms(p) if t.by is term.by)
        return list(dict.fromkeys(key.rsplit("#", 1)[1] for key in keys if key.startswith(term.value)))

    # --- appointments and held time ----------------------------------------------------
    def occupancy(self, clinic_id: str, day: date) -> dict[Grain, int]:
        return {grain: len(holders) for (clinic, local, grain), holders in self.holds.items()
                if clinic == clinic_id and local == day.isoformat() and holders}

    def patient_schedule_version(self, patient_id: str) -> int:
        return self.schedule_versions.get(patient_id, 0)

    def create_appointment(
        self, appointment: Appointment, claims: list[Claim], audit: AuditEntry, *, requires_rems: bool = False,
        schedule_version: int | None = None,
    ) -> None:
        patient = self.patients.get(appointment.patient_id)
        if patient is None:
            raise InvalidRequest("patientId", f"no patient {appointment.patient_id!r}")
        if requires_rems and not patient.rems_enrolled:
            raise rems_enrollment_missing()
        if appointment.appointment_id in self.appointments:
            raise AlreadyExists(f"appointment {appointment.appointment_id!r} already exists")
        self._check_claims(appointment, claims)
        if schedule_version is not None:
            if self.patient_schedule_version(appointment.patient_id) != schedule_version:
                raise Conflict("another session was being booked for this patient at the same moment")
            self.schedule_versions[appointment.patient_id] = schedule_version + 1
        self.appointments[appointment.appointment_id] = appointment
        self.audit[appointment.appointment_id][appointment.version] = audit
        self._hold(appointment, claims)

    def get_appointment(self, appointment_id: str) -> Appointment | None:
        return self.appointments.get(appointment_id)

    def change_appointment(
        self,
        before: Appointment,
        after: Appointment,
        claims: list[Claim],
        releases: list[Grain],
        audit: AuditEntry | None,
        *,
        form: RemsForm | None = None,
        consumed_link: tuple[str, datetime] | None = None,
        schedule_version: int | None = None,
    ) -> None:
        landing, self.meanwhile = self.meanwhile, []
        for write in landing:
            write()
        stored = self.appointments.get(before.appointment_id)
        if stored is None or (stored.version, stored.status) != (before.version, before.status):
            raise StaleRecord("the appointment was changed by someone else meanwhile; reload it and try again")
        if consumed_link is not None and self.links[consumed_link[0]].used_at is not None:
            raise LinkGone("this link was already used; please call the clinic to change your answer")
        self._check_claims(after, claims)
        if schedule_version is not None:
            if self.patient_schedule_version(after.patient_id) != schedule_version:
                raise StaleRecord("another session of this patient was booked meanwhile")
            self.schedule_versions[after.patient_id] = schedule_version + 1
        self.appointments[after.appointment_id] = after
        self.changes_written += 1
        if audit is not None:
            self.audit[after.appointment_id][after.version] = audit
        if form is not None:
            self.forms[form.appointment_id] = form
        if consumed_link is not None:
            link_digest, used_at = consumed_link
            self.links[link_digest] = self.links[link_digest].model_copy(update={"used_at": used_at})
        self._hold(after, claims)
        for grain in releases:
            self.holds[(before.clinic_id, before.local_date, grain)].discard(before.appointment_id)

    def discard_appointment(self, appointment: Appointment, claims: list[Claim]) -> None:
        if self.appointments.get(appointment.appointment_id) != appointment:
            raise StaleRecord("the appointment changed after it was booked")
        del self.appointments[appointment.appointment_id]
        self.audit[appointment.appointment_id].pop(appointment.version, None)
        for grain, _ in claims:
            self.holds[(appointment.clinic_id, appointment.local_date, grain)].discard(appointment.appointment_id)

    def board(self, clinic_id: str, day: date) -> list[Appointment]:
        found = [a for a in self.appointments.values() if a.clinic_id == clinic_id and a.local_date == day.isoformat()]
        return sorted(found, key=lambda a: (a.start, a.appointment_id))

    def patient_appointments(self, patient_id: str) -> list[Appointment]:
        return sorted((a for a in self.appointments.values() if a.patient_id == patient_id), key=lambda a: (a.start, a.appointment_id))

    def audit_trail(self, appointment_id: str) -> list[AuditEntry]:
        return [entry for _, entry in sorted(self.audit[appointment_id].items())]

    def _check_claims(self, appointment: Appointment, claims: list[Claim]) -> None:
        for grain, capacity in claims:
            if len(self.holds[(appointment.clinic_id, appointment.local_date, grain)]) >= capacity:
                raise SlotTaken(grain.kind, grain.resource_id, grain.at)

    def _hold(self, appointment: Appointment, claims: list[Claim]) -> None:
        for grain, _ in claims:
            self.holds[(appointment.clinic_id, appointment.local_date, grain)].add(appointment.appointment_id)

    # --- the session -------------------------------------------------------------------
    def add_vitals(self, appointment: Appointment, vitals: Vitals) -> None:
        stored = self.appointments.get(appointment.appointment_id)
        if stored is None or stored.status is not appointment.status:
            raise StaleRecord("the appointment changed meanwhile; reload it and try again")
        self.vitals_by_appointment[appointment.appointment_id].append(vitals)

    def vitals(self, appointment_id: str) -> list[Vitals]:
        return sorted(self.vitals_by_appointment[appointment_id], key=lambda v: (v.taken_at, v.vitals_id))

    def rems_forms_due(self, clinic_id: str) -> list[RemsForm]:
        due = [f for f in self.forms.values() if f.clinic_id == clinic_id and f.status == "due"]
        return sorted(due, key=lambda f: (f.due_date, f.appointment_id))

    def submit_rems_form(self, appointment_id: str, by: str, at: datetime) -> RemsForm:
        form = self.forms.get(appointment_id)
        if form is None:
            raise NotFound(f"appointment {appointment_id!r} has no REMS form")
        if form.status != "due":
            raise Conflict(f"the REMS form was already marked submitted by {form.submitted_by}")
        self.forms[appointment_id] = form.model_copy(update={"status": "submitted", "submitted_by": by, "submitted_at": at})
        return self.forms[appointment_id]

    # --- links and the message log -----------------------------------------------------
    def save_link(self, link: Link) -> None:
        if link.digest in self.links:
            raise AlreadyExists("the link exists")
        self.links[link.digest] = link

    def get_link(self, link_digest: str) -> Link | None:
        return self.links.get(link_digest)

    def message_sent(self, appointment_id: str, key: str) -> bool:
        return (appointment_id, key) in self.messages

    def record_message(self, appointment_id: str, key: str, channel: str, at: datetime) -> None:
        self.messages[(appointment_id, key)] = (channel, at)

    # --- courses -----------------------------------------------------------------------
    def get_course(self, course_id: str) -> Course | None:
        return self.courses.get(course_id)

    def save_course(self, before: Course | None, after: Course) -> None:
        _versioned(self.courses, after.course_id, before and before.version)
        self.courses[after.course_id] = after

    def delete_course(self, course: Course) -> None:
        self.courses.pop(course.course_id, None)

    # --- the waitlist ------------------------------------------------------------------
    def add_waitlist_entry(self, entry: WaitlistEntry) -> WaitlistEntry:
        self.positions[entry.clinic_id] += 1
        placed = entry.model_copy(update={"position": self.positions[entry.clinic_id]})
        self.entries[entry.clinic_id][entry.entry_id] = placed
        return placed

    def waitlist(self, clinic_id: str) -> list[WaitlistEntry]:
        return sorted(self.entries[clinic_id].values(), key=lambda e: (e.position, e.created_at))

    def get_waitlist_entry(self, clinic_id: str, entry_id: str) -> WaitlistEntry | None:
        return self.entries[clinic_id].get(entry_id)

    def remove_waitlist_entry(self, clinic_id: str, entry_id: str) -> None:
        if self.entries[clinic_id].pop(entry_id, None) is None:
            raise NotFound(f"no waitlist entry {entry_id!r} at clinic {clinic_id!r}")

    def create_offer(self, offer: WaitlistOffer) -> bool:
        if offer.offer_id in self.offers:
            return False
        self.offers[offer.offer_id] = offer
        return True

    def get_offer(self, offer_id: str) -> WaitlistOffer | None:
        return self.offers.get(offer_id)

    # --- the access log ----------------------------------------------------------------
    def record_accesses(self, entries: list[AccessEntry]) -> None:
        self.accesses.extend(entries)

    def accesses_of_patient(self, patient_id: str) -> list[AccessEntry]:
        return [e for e in self.accesses if e.patient_id == patient_id]

    def accesses_by_staff(self, staff_id: str) -> list[AccessEntry]:
        return [e for e in self.accesses if e.staff_id == staff_id]

    def accept_offer(
        self,
        appointment: Appointment,
        claims: list[Claim],
        audit: AuditEntry,
        before: WaitlistOffer,
        after: WaitlistOffer,
        *,
        requires_rems: bool,
        schedule_version: int | None = None,
    ) -> None:
        if self.offers[before.offer_id].version != before.version:
            raise LinkGone("this time has just been taken by someone else; you stay on the waitlist")
        self.create_appointment(appointment, claims, audit, requires_rems=requires_rems, schedule_version=schedule_version)
        self.offers[after.offer_id] = after
        self.entries[after.clinic_id].pop(after.taken_by or "", None)

    # --- follow-ups and the safety path ------------------------------------------------
    def get_follow_up(self, appointment_id: str, number: int) -> FollowUp | None:
        return self.follow_ups.get((appointment_id, number))

    def save_follow_up(self, before: FollowUp | None, after: FollowUp) -> None:
        _versioned(self.follow_ups, (after.appointment_id, after.number), before and before.version)
        self.follow_ups[(after.appointment_id, after.number)] = after

    def record_answers(self, before: FollowUp, after: FollowUp, response: QuestionnaireAnswers, score: ScoreRecord) -> None:
        self.save_follow_up(before, after)
        self.responses[response.patient_id].append(response)
        self.score_records[score.patient_id].append(score)

    def scores(self, patient_id: str) -> list[ScoreRecord]:
        return sorted(self.score_records[patient_id], key=lambda s: (s.instrument, s.effective))

    def latest_score(self, patient_id: str, instrument: str) -> ScoreRecord | None:
        return next((s for s in reversed(self.scores(patient_id)) if s.instrument == instrument), None)

    def questionnaire_responses(self, patient_id: str) -> list[QuestionnaireAnswers]:
        return sorted(self.responses[patient_id], key=lambda r: r.authored)

    def get_escalation(self, escalation_id: str) -> Escalation | None:
        return self.escalations.get(escalation_id)

    def save_escalation(self, before: Escalation | None, after: Escalation) -> None:
        _versioned(self.escalations, after.escalation_id, before and before.version)
        self.escalations[after.escalation_id] = after

    def get_task(self, task_id: str) -> ClinicianTask | None:
        return self.tasks.get(task_id)

    def save_task(self, before: ClinicianTask | None, after: ClinicianTask) -> None:
        _versioned(self.tasks, after.task_id, before and before.version)
        self.tasks[after.task_id] = after

    def alerts(
        self, clinic_id: str
    ) -> tuple[list[Escalation], list[ClinicianTask], list[FollowUp], list[FlaggedAppointment]]:
        flagged = [a for a in self.appointments.values() if a.clinic_id == clinic_id and a.attention is not None]
        return (
            [e for e in self.escalations.values() if e.clinic_id == clinic_id and e.open],
            [t for t in self.tasks.values() if t.clinic_id == clinic_id and t.completed is None],
            [f for f in self.follow_ups.values() if f.clinic_id == clinic_id and f.on_call_list],
            [
                FlaggedAppointment(
                    appointment_id=a.appointment_id, clinic_id=a.clinic_id, patient_id=a.patient_id, start=a.start,
                    local_date=a.local_date, attention=a.attention,
                )
                for a in sorted(flagged, key=lambda a: (a.attention.since, a.appointment_id))  # type: ignore[union-attr]
            ],
        )

    # --- the organization and its staff ----------------------------------------------------
    def save_organization(self, organization: Organization) -> None:
        if not self.organizations:
            self.organizations.append(organization)

    def get_staff_member(self, username: str) -> StaffMember | None:
        return self.members.get(username)

    def staff_members(self) -> list[StaffMember]:
        return list(self.members.values())

    def save_staff_member(self, before: StaffMember | None, after: StaffMember, audit: StaffAuditEntry) -> None:
        if before is None and after.username in self.members:
            raise AlreadyExists("a member of your practice already has this username")
        _versioned(self.members, after.username, before and before.version)
        self.members[after.username] = after
        self.staff_entries[after.username].append(audit)

    def discard_staff_member(self, member: StaffMember) -> None:
        self.members.pop(member.username, None)
        self.staff_entries[member.username] = [e for e in self.staff_entries[member.username] if e.version != member.version]

    def staff_audit(self, username: str) -> list[StaffAuditEntry]:
        return list(self.staff_entries[username])


def _versioned(records: dict[Any, Any], key: Any, version: int | None) -> None:
    """The adapter's conditional put: over `version`, or (None) only where nothing is yet."""
    stored = records.get(key)
    if (stored is None) != (version is None) or (stored is not None and stored.version != version):
        raise StaleRecord("the record changed meanwhile")


@dataclass
class RecordingEngine:
    """A workflow engine that remembers its calls; `unavailable` makes the next calls fail."""

    started: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    resumed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    unavailable: bool = False

    def start(self, name: str, payload: dict[str, Any]) -> None:
        self._reachable()
        if name not in [n for n, _ in self.started]:  # starting twice is harmless, as in Step Functions
            self.started.append((name, payload))

    def stop(self, name: str) -> None:
        self._reachable()
        self.stopped.append(name)

    def resume(self, token: str, output: dict[str, Any]) -> None:
        self._reachable()
        self.resumed.append((token, output))

    def _reachable(self) -> None:
        if self.unavailable:
            raise TemporarilyUnavailable("the care workflow cannot be reached")


@dataclass
class RecordingMessages:
    """Messages that are kept, not sent: (to, subject, text)."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def to_patient(self, patient: Patient, subject: str, text: str) -> str:
        self.sent.append((patient.patient_id, subject, text))
        return "sms"

    def to_pager(self, phone: str, text: str) -> None:
        self.sent.append((phone, "page", text))


@dataclass
class Account:
    organization: str
    role: str
    clinics: list[str] | None
    enabled: bool = True
    sessions_ended: int = 0


@dataclass
class RecordingAccounts:
    """A Cognito user pool's accounts, one pool for every organization (as deployed); `failing`
    makes the next call of that name raise TemporarilyUnavailable once."""

    accounts: dict[str, Account] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)

    def create(self, member: StaffMember, organization_id: str) -> None:
        self._reachable("create")
        if member.username in self.accounts:
            raise UsernameTaken()
        self.accounts[member.username] = Account(organization_id, "", None)

    def organization_of(self, username: str) -> str | None:
        account = self.accounts.get(username)
        return account.organization if account else None

    def set_access(self, member: StaffMember) -> None:
        self._reachable("set_access")
        account = self.accounts[member.username]
        account.role, account.clinics = member.role, member.clinics

    def set_enabled(self, username: str, enabled: bool) -> None:
        self.accounts[username].enabled = enabled

    def sign_out(self, username: str) -> None:
        self._reachable("sign_out")
        self.accounts[username].sessions_ended += 1

    def _reachable(self, call: str) -> None:
        if call in self.failing:
            self.failing.discard(call)
            raise TemporarilyUnavailable("the sign-in service is busy; retry shortly")
