"""Courses of treatment: plan a series from a template, book it all or nothing, add a make-up
session, cancel what is left.

A course can hold far more chair time than one DynamoDB transaction allows (100 items), so
its sessions are written one transaction each under a course record marked "booking"; any
failure deletes what was written before the error is returned, and the workflows start
only once every session is in."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from ..domain.appointments import RELEASING, SCHEDULED, Appointment, Status
from ..domain.courses import (
    Course,
    CourseStatus,
    PreferredTime,
    nearest_first,
    occurrences,
    spacing_problem,
    span_problem,
)
from ..domain.errors import Conflict, InvalidRequest, NotFound
from ..domain.patients import check_rems_enrollment
from ..domain.rules import CourseTemplate, SessionType
from ..domain.scheduling import AvailableSlot, Claim, Scheduler
from .appointments import AppointmentStore, WorkflowRuns, claims_of, scheduled_starts
from .booking import NewBooking, new_booking, write_booking
from .kernel import Actor, ClinicUseCase, known_patient, new_id, retry_on_stale
from .ports import AppointmentRecords, CourseRecords, PatientRecords


@dataclass(frozen=True)
class Placement:
    """A start with a chair and a provider free for the whole block."""

    start: datetime
    end: datetime
    chair_id: str
    provider_id: str


@dataclass(frozen=True)
class PlannedSession:
    number: int
    phase: int
    wanted: datetime
    placement: Placement | None  # the wanted time, or else the nearest alternative
    problem: str | None  # why the wanted time must move
    alternatives: tuple[Placement, ...]


@dataclass(frozen=True)
class CoursePlan:
    template_code: str
    template: CourseTemplate
    sessions: list[PlannedSession]


@dataclass(frozen=True)
class SessionChoice:
    start: datetime
    chair_id: str
    provider_id: str


@dataclass(eq=False)
class _Slots:
    """Free starts per day for one session type (one Query a day), and placements from them."""

    records: AppointmentRecords
    scheduler: Scheduler
    kind: SessionType
    chair_id: str | None
    provider_id: str | None
    now: datetime

    _days: dict[date, list[AvailableSlot]] = field(default_factory=dict, init=False)

    def on(self, day: date) -> list[AvailableSlot]:
        if day not in self._days:
            occupancy = self.records.occupancy(self.scheduler.clinic.profile.clinic_id, day)
            self._days[day] = self.scheduler.availability(day, self.kind, occupancy, self.now)
        return self._days[day]

    def place(self, wanted: datetime) -> tuple[Placement | None, str | None]:
        try:
            self.scheduler.check_start(wanted, self.kind, self.now)
        except InvalidRequest as refused:
            return None, refused.message
        slot = next((s for s in self.on(self.scheduler.local_date(wanted)) if s.start == wanted), None)
        if slot is None:
            return None, "no chair and provider are free for the whole session"
        return self._placement(slot), None

    def alternatives(self, wanted: datetime, acceptable: Callable[[datetime], bool]) -> tuple[Placement, ...]:
        day, days = self.scheduler.local_date(wanted), self.scheduler.rules.course_alternative_days
        slots = {s.start: s for offset in range(-days, days + 1) for s in self.on(day + timedelta(days=offset))}
        found: list[Placement] = []
        for start in nearest_first(slots, wanted, self.scheduler.clinic.profile.zone):
            if acceptable(start):
                found.append(self._placement(slots[start]))
                if len(found) == self.scheduler.rules.course_alternatives:
                    break
        return tuple(found)

    def _placement(self, slot: AvailableSlot) -> Placement:
        chair = self.chair_id if self.chair_id in slot.chair_ids else slot.chair_ids[0]
        provider = self.provider_id if self.provider_id in slot.provider_ids else slot.provider_ids[0]
        return Placement(slot.start, slot.end, chair, provider)


def _wanted_or_nearest(
    slots: _Slots,
    wanted: datetime,
    problem_at: Callable[[datetime], str | None],
    next_wanted: datetime | None,
    spacing: timedelta,
) -> tuple[Placement | None, str | None, tuple[Placement, ...]]:
    """The wanted time if it can be had; else why not, with the nearest alternatives that keep
    the spacing (and leave room before the next session's wanted time), the first as placement."""
    problem = problem_at(wanted)
    if problem is None:
        placement, problem = slots.place(wanted)
        if problem is None:
            return placement, None, ()
    alternatives = slots.alternatives(
        wanted, lambda start: problem_at(start) is None and (next_wanted is None or start + spacing <= next_wanted)
    )
    return (alternatives[0] if alternatives else None), problem, alternatives


def _session_id(course_id: str, index: int) -> str:
    """The id of a course's session, from the course's: an attempt cut short can be found."""
    return hashlib.sha256(f"{course_id}:{index}".encode()).hexdigest()[:32]


@dataclass(eq=False)
class Courses(ClinicUseCase):
    records: CourseRecords
    patients: PatientRecords
    store: AppointmentStore
    runs: WorkflowRuns
    cancel_session: Callable[[Actor, str, str], Appointment]  # a cancellation as the front desk makes it (Bookings.cancel)

    def template(self, code: str) -> CourseTemplate:
        templates = self.rules.course_templates
        if code not in templates:
            raise InvalidRequest("template", f"not a course template of this service; known: {', '.join(sorted(templates))}")
        return templates[code]

    def course(self, course_id: str) -> tuple[Course, list[Appointment]]:
        """The course and its sessions in time order (one Query: they are the patient's appointments)."""
        course = self.records.get_course(course_id)
        if course is None or course.status is CourseStatus.BOOKING:
            raise NotFound("no such course: check the course id")
        sessions = [a for a in self.store.records.patient_appointments(course.patient_id) if a.course_id == course_id]
        return course, sessions

    # --- planning ---------------------------------------------------------------------
    def plan(
        self,
        clinic_id: str,
        patient_id: str,
        template_code: str,
        first_day: date,
        preferred: Sequence[PreferredTime],
        chair_id: str | None = None,
        provider_id: str | None = None,
    ) -> CoursePlan:
        """Concrete sessions for the course: each at its wanted time when a chair and a provider
        are free, else flagged with the nearest alternatives that keep the course's spacing."""
        template = self.template(template_code)
        scheduler, kind = self._scheduler(clinic_id, template, patient_id)
        if chair_id is not None:
            scheduler.chair(chair_id)
        if provider_id is not None:
            scheduler.provider(provider_id)
        slots = _Slots(self.store.records, scheduler, kind, chair_id, provider_id, self.clock())
        if first_day < scheduler.local_date(slots.now):
            raise InvalidRequest("startDate", "is in the past")
        zone = scheduler.clinic.profile.zone
        wanted_times = occurrences(template, first_day, preferred, zone)
        spacing = self.rules.spacing(template.session_type, template)
        others = scheduled_starts(self.store.records, patient_id)
        chosen: list[datetime] = []
        sessions: list[PlannedSession] = []
        for index, occurrence in enumerate(wanted_times):
            following = wanted_times[index + 1].start if index + 1 < len(wanted_times) else None

            def problem_at(start: datetime, chosen: list[datetime] = chosen) -> str | None:
                return spacing_problem(start, [*chosen, *others], spacing, zone) or span_problem(template, [*chosen, start])

            wanted = occurrence.start.astimezone(UTC)
            placement, problem, alternatives = _wanted_or_nearest(slots, wanted, problem_at, following, spacing)
            if placement is not None:
                chosen.append(placement.start)
            sessions.append(PlannedSession(occurrence.number, occurrence.phase, wanted, placement, problem, alternatives))
        return CoursePlan(template_code, template, sessions)

    def make_up(self, course_id: str) -> PlannedSession:
        """One more session after the course's last, at its last phase's cadence: what shifting
        every remaining session one place later comes to, without moving a booked time."""
        course, sessions = self.course(course_id)
        if course.status is not CourseStatus.ACTIVE:
            raise Conflict(f"the course is {course.status.value}")
        template = self.template(course.template)
        scheduler, kind = self._scheduler(course.clinic_id, template, None)
        live = [s for s in sessions if s.status in SCHEDULED | {Status.FULFILLED}]
        if not live:
            raise Conflict("the course has no session left to follow")
        last = max(live, key=lambda s: s.start)
        zone = scheduler.clinic.profile.zone
        local = last.start.astimezone(zone)
        wall = datetime.combine(local.date() + timedelta(weeks=template.phases[-1].every_weeks), local.time(), tzinfo=zone)
        wanted = wall.astimezone(UTC)
        slots = _Slots(self.store.records, scheduler, kind, last.chair_id, last.provider_id, self.clock())
        spacing = self.rules.spacing(template.session_type, template)
        starts = [s.start for s in live]
        others = scheduled_starts(self.store.records, course.patient_id)

        def problem_at(start: datetime) -> str | None:
            return spacing_problem(start, others, spacing, zone) or span_problem(template, [*starts, start])

        placement, problem, alternatives = _wanted_or_nearest(slots, wanted, problem_at, None, spacing)
        number = len([s for s in sessions if s.status not in RELEASING]) + 1
        return PlannedSession(number, len(template.phases), wanted, placement, problem, alternatives)

    # --- booking ----------------------------------------------------------------------
    def book(
        self,
        actor: Actor,
        *,
        clinic_id: str,
        patient_id: str,
        template_code: str,
        sessions: Sequence[SessionChoice],
        course_id: str | None = None,
    ) -> tuple[Course, list[Appointment]]:
        """Books every session of the course or none of them. `course_id`, when given, makes a
        repeated request find its course, or undo what an attempt cut short had written."""
        template = self.template(template_code)
        scheduler, _ = self._scheduler(clinic_id, template, None)
        if len(sessions) != template.total_sessions:
            raise InvalidRequest("sessions", f"{template.label} has {template.total_sessions} sessions; got {len(sessions)}")
        course_id = course_id or new_id()
        earlier_attempt = self.records.get_course(course_id)
        if earlier_attempt is not None and earlier_attempt.status is CourseStatus.ACTIVE:
            return self.course(course_id)
        if earlier_attempt is not None and earlier_attempt.status is CourseStatus.BOOKING:
            self._abandon(scheduler, earlier_attempt, len(sessions))
        elif earlier_attempt is not None:
            raise Conflict(f"this course is {earlier_attempt.status.value}")
        now = self.clock()
        bookings = [
            new_booking(
                scheduler, actor, template.session_type, patient_id, choice.chair_id, choice.provider_id, choice.start, now,
                course_id=course_id, field_prefix=f"sessions[{index}].", appointment_id=_session_id(course_id, index),
            )
            for index, choice in enumerate(sessions)
        ]
        spacing = self.rules.spacing(template.session_type, template)
        seen = self.store.records.patient_schedule_version(patient_id)  # see Bookings.book
        others = scheduled_starts(self.store.records, patient_id)
        zone = scheduler.clinic.profile.zone
        # In time order, so the later of two sessions too close together is the one named.
        by_time = sorted(range(len(bookings)), key=lambda i: bookings[i].appointment.start)
        for position, index in enumerate(by_time):
            earlier = [bookings[i].appointment.start for i in by_time[:position]]
            problem = spacing_problem(bookings[index].appointment.start, [*earlier, *others], spacing, zone)
            if problem:
                raise InvalidRequest(f"sessions[{index}].start", problem)
        problem = span_problem(template, [b.appointment.start for b in bookings])
        if problem:
            raise InvalidRequest("sessions", problem)
        bookings.sort(key=lambda b: b.appointment.start)
        course = Course(
            course_id=course_id,
            clinic_id=clinic_id,
            patient_id=patient_id,
            template=template_code,
            session_type=template.session_type,
            status=CourseStatus.BOOKING,
            version=1,
            created_at=now,
            updated_at=now,
        )
        self.records.save_course(None, course)
        written: list[tuple[Appointment, list[Claim]]] = []
        try:
            for number, booking in enumerate(bookings, start=1):
                self._write(scheduler, booking, f"session {number}: ", seen + number - 1)
                written.append((booking.appointment, booking.claims))
            active = course.model_copy(update={"status": CourseStatus.ACTIVE, "version": 2, "updated_at": now})
            self.records.save_course(course, active)
        except Exception:
            self._roll_back(course, written)
            raise
        return active, [self.runs.start(b.appointment, now) for b in bookings]

    def add_session(self, actor: Actor, course_id: str, choice: SessionChoice) -> Appointment:
        """A make-up session: one more appointment of the course, at the course's spacing."""
        course, sessions = self.course(course_id)
        if course.status is not CourseStatus.ACTIVE:
            raise Conflict(f"the course is {course.status.value}")
        template = self.template(course.template)
        scheduler, _ = self._scheduler(course.clinic_id, template, None)
        now = self.clock()
        booking = new_booking(
            scheduler, actor, template.session_type, course.patient_id, choice.chair_id, choice.provider_id, choice.start, now,
            course_id=course_id,
        )
        start = booking.appointment.start
        spacing = self.rules.spacing(template.session_type, template)
        seen = self.store.records.patient_schedule_version(course.patient_id)  # see Bookings.book
        problem = spacing_problem(start, scheduled_starts(self.store.records, course.patient_id), spacing, scheduler.clinic.profile.zone)
        live = [s.start for s in sessions if s.status in SCHEDULED | {Status.FULFILLED}]
        problem = problem or span_problem(template, [*live, start])
        if problem:
            raise InvalidRequest("start", problem)
        self._write(scheduler, booking, "", seen)
        return self.runs.start(booking.appointment, now)

    def cancel(self, actor: Actor, course_id: str, reason: str) -> tuple[Course, list[Appointment]]:
        """Cancels every session not yet begun (their runs stop), then the course. A failure
        part-way leaves the course active: repeating the request finishes the job."""
        _, sessions = self.course(course_id)
        updated = [
            self.cancel_session(actor, s.appointment_id, reason) if s.status is Status.BOOKED else s for s in sessions
        ]

        def close() -> Course:
            current = self.records.get_course(course_id)
            assert current is not None
            if current.status is CourseStatus.CANCELLED:
                return current
            after = current.model_copy(
                update={
                    "status": CourseStatus.CANCELLED,
                    "cancellation_reason": reason,
                    "version": current.version + 1,
                    "updated_at": self.clock(),
                }
            )
            self.records.save_course(current, after)
            return after

        return retry_on_stale(close, "course"), updated

    # --- internals --------------------------------------------------------------------
    def _scheduler(self, clinic_id: str, template: CourseTemplate, patient_id: str | None) -> tuple[Scheduler, SessionType]:
        scheduler = Scheduler(self.rules, self.clinic(clinic_id))
        kind = scheduler.bookable(template.session_type, "template")
        if patient_id is not None:
            check_rems_enrollment(known_patient(self.patients, patient_id), kind.requires_rems)
        return scheduler, kind

    def _write(self, scheduler: Scheduler, booking: NewBooking, prefix: str, schedule_version: int) -> None:
        try:
            write_booking(self.store.records, scheduler, booking, schedule_version=schedule_version)
        except Conflict as conflict:
            raise Conflict(f"{prefix}{conflict.message}") from conflict

    def _abandon(self, scheduler: Scheduler, course: Course, count: int) -> None:
        """Undoes an attempt that stopped part-way (its Lambda timed out or died): whichever
        of its sessions were written, then its record."""
        found = (self.store.records.get_appointment(_session_id(course.course_id, i)) for i in range(count))
        self._roll_back(course, [(a, claims_of(scheduler, a)) for a in found if a is not None])

    def _roll_back(self, course: Course, written: list[tuple[Appointment, list[Claim]]]) -> None:
        for appointment, claims in reversed(written):
            self.store.records.discard_appointment(appointment, claims)
        self.records.delete_course(course)
