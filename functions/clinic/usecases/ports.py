"""Every port the use cases call, in one file, cut by what each use case needs. The
DynamoDB adapter (adapters/dynamodb.py) is all the record ports at once; the tests'
in-memory fakes (tests/support/fakes.py) are another implementation of the same ports.

Each write that can lose a race raises StaleRecord; a dependency that is throttling or
down raises TemporarilyUnavailable."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from ..domain.access import AccessEntry
from ..domain.appointments import Appointment, AuditEntry, FlaggedAppointment
from ..domain.care import RemsForm, Vitals
from ..domain.courses import Course
from ..domain.escalations import ClinicianTask, Escalation
from ..domain.followups import FollowUp, QuestionnaireAnswers, ScoreRecord
from ..domain.links import Link
from ..domain.patient_search import SearchTerm
from ..domain.patients import Patient
from ..domain.resources import Chair, Clinic, ClinicProfile, Provider
from ..domain.scheduling import Claim, Grain
from ..domain.staff import Organization, StaffAuditEntry, StaffMember
from ..domain.waitlist import WaitlistEntry, WaitlistOffer


class ClinicRecords(Protocol):
    """A clinic's configuration: profile, chairs, providers."""

    def load_clinic(self, clinic_id: str) -> Clinic | None: ...
    def save_clinic_profile(self, profile: ClinicProfile) -> None: ...
    def save_chair(self, clinic_id: str, chair: Chair) -> None: ...
    def save_provider(self, clinic_id: str, provider: Provider) -> None: ...


class PatientRecords(Protocol):
    """Patients, and the index that finds them (written with the patient, in one transaction)."""

    def create_patient(self, patient: Patient) -> None: ...  # AlreadyExists when the id is taken
    def get_patient(self, patient_id: str) -> Patient | None: ...
    def patient_ids(self, term: SearchTerm) -> list[str]: ...  # whose index entries start with `term`, in key order, each once


class AppointmentRecords(Protocol):
    """Appointments with their audit trail and the chair and provider time they hold."""

    def occupancy(self, clinic_id: str, day: date) -> dict[Grain, int]: ...
    # How many times the patient's sessions were placed: a booking written with the count it read
    # before checking the spacing fails (Conflict) if another was placed meanwhile.
    def patient_schedule_version(self, patient_id: str) -> int: ...
    def create_appointment(
        self, appointment: Appointment, claims: list[Claim], audit: AuditEntry, *, requires_rems: bool = False,
        schedule_version: int | None = None
    ) -> None: ...
    def get_appointment(self, appointment_id: str) -> Appointment | None: ...
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
        schedule_version: int | None = None,  # as create_appointment's (a failure is StaleRecord)
    ) -> None: ...
    def discard_appointment(self, appointment: Appointment, claims: list[Claim]) -> None: ...
    def board(self, clinic_id: str, day: date) -> list[Appointment]: ...
    def patient_appointments(self, patient_id: str) -> list[Appointment]: ...
    def audit_trail(self, appointment_id: str) -> list[AuditEntry]: ...


class SessionRecords(Protocol):
    """What a treatment session records beside its appointment: vitals, the REMS form."""

    def add_vitals(self, appointment: Appointment, vitals: Vitals) -> None: ...
    def vitals(self, appointment_id: str) -> list[Vitals]: ...
    def rems_forms_due(self, clinic_id: str) -> list[RemsForm]: ...
    def submit_rems_form(self, appointment_id: str, by: str, at: datetime) -> RemsForm: ...


class LinkRecords(Protocol):
    """Patient links, stored by the hash of their token."""

    def save_link(self, link: Link) -> None: ...
    def get_link(self, link_digest: str) -> Link | None: ...


class MessageLog(Protocol):
    """Which message went out (never its text), so a re-run does not send it twice."""

    def message_sent(self, appointment_id: str, key: str) -> bool: ...
    def record_message(self, appointment_id: str, key: str, channel: str, at: datetime) -> None: ...


class CourseRecords(Protocol):
    def get_course(self, course_id: str) -> Course | None: ...
    def save_course(self, before: Course | None, after: Course) -> None: ...
    def delete_course(self, course: Course) -> None: ...


class WaitlistRecords(Protocol):
    def add_waitlist_entry(self, entry: WaitlistEntry) -> WaitlistEntry: ...
    def waitlist(self, clinic_id: str) -> list[WaitlistEntry]: ...
    def get_waitlist_entry(self, clinic_id: str, entry_id: str) -> WaitlistEntry | None: ...
    def remove_waitlist_entry(self, clinic_id: str, entry_id: str) -> None: ...
    def create_offer(self, offer: WaitlistOffer) -> bool: ...
    def get_offer(self, offer_id: str) -> WaitlistOffer | None: ...
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
    ) -> None: ...


class FollowUpRecords(Protocol):
    """Follow-up surveys, their answers and scores, and the safety path (escalations, tasks)."""

    def get_follow_up(self, appointment_id: str, number: int) -> FollowUp | None: ...
    def save_follow_up(self, before: FollowUp | None, after: FollowUp) -> None: ...
    def record_answers(self, before: FollowUp, after: FollowUp, response: QuestionnaireAnswers, score: ScoreRecord) -> None: ...
    def scores(self, patient_id: str) -> list[ScoreRecord]: ...
    def latest_score(self, patient_id: str, instrument: str) -> ScoreRecord | None: ...
    def questionnaire_responses(self, patient_id: str) -> list[QuestionnaireAnswers]: ...
    def get_escalation(self, escalation_id: str) -> Escalation | None: ...
    def save_escalation(self, before: Escalation | None, after: Escalation) -> None: ...
    def get_task(self, task_id: str) -> ClinicianTask | None: ...
    def save_task(self, before: ClinicianTask | None, after: ClinicianTask) -> None: ...
    def alerts(
        self, clinic_id: str
    ) -> tuple[list[Escalation], list[ClinicianTask], list[FollowUp], list[FlaggedAppointment]]: ...


class AccessRecords(Protocol):
    """Who read which patient's records (HIPAA's accounting of access)."""

    def record_accesses(self, entries: list[AccessEntry]) -> None: ...  # all or none
    def accesses_of_patient(self, patient_id: str) -> list[AccessEntry]: ...
    def accesses_by_staff(self, staff_id: str) -> list[AccessEntry]: ...


class StaffRecords(Protocol):
    """The organization's record and its staff list with each member's audit trail."""

    def save_organization(self, organization: Organization) -> None: ...  # once: a repeat keeps the first
    def get_staff_member(self, username: str) -> StaffMember | None: ...
    def staff_members(self) -> list[StaffMember]: ...
    # With its audit entry, over `before` (None: only where no member has the username: AlreadyExists).
    def save_staff_member(self, before: StaffMember | None, after: StaffMember, audit: StaffAuditEntry) -> None: ...
    def discard_staff_member(self, member: StaffMember) -> None: ...  # an invite undone: the member and its entry
    def staff_audit(self, username: str) -> list[StaffAuditEntry]: ...


class Records(
    ClinicRecords,
    PatientRecords,
    AppointmentRecords,
    SessionRecords,
    LinkRecords,
    MessageLog,
    CourseRecords,
    WaitlistRecords,
    FollowUpRecords,
    AccessRecords,
    StaffRecords,
    Protocol,
):
    """Every record port at once: what the DynamoDB adapter and the in-memory fakes are."""


class WorkflowEngine(Protocol):
    """The appointment's execution. Each method raises TemporarilyUnavailable when the
    engine cannot be reached; starting or stopping twice is harmless."""

    def start(self, name: str, payload: dict[str, Any]) -> None: ...
    def stop(self, name: str) -> None: ...
    def resume(self, token: str, output: dict[str, Any]) -> None: ...


class StaffAccounts(Protocol):
    """Staff sign-in accounts (Cognito). Each method raises TemporarilyUnavailable when the
    directory throttles; setting what is already set is harmless."""

    def create(self, member: StaffMember, organization_id: str) -> None: ...  # UsernameTaken; emails a temporary password
    def organization_of(self, username: str) -> str | None: ...  # None: no such account
    def set_access(self, member: StaffMember) -> None: ...  # its role's group only, its clinics attribute
    def set_enabled(self, username: str, enabled: bool) -> None: ...
    def sign_out(self, username: str) -> None: ...  # every refresh token revoked


class PatientMessages(Protocol):
    """Raises TemporarilyUnavailable (retry) or Undeliverable (staff must act)."""

    def to_patient(self, patient: Patient, subject: str, text: str) -> str: ...


class Messages(PatientMessages, Protocol):
    def to_pager(self, phone: str, text: str) -> None: ...
