"""REST API entry point: parse, authorize, call ClinicService, shape the reply."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from pydantic import BaseModel

from ..adapters.dynamodb import DynamoRepository
from ..adapters.notifications import Notifier
from ..adapters.stepfunctions import StepFunctionsEngine
from ..courses import CoursePlan, CourseService, Placement, PlannedSession, SessionChoice
from ..domain.appointments import Appointment
from ..domain.care import Measurements
from ..domain.courses import Course, PreferredTime
from ..domain.followups import FollowUp
from ..domain.instruments import INSTRUMENTS
from ..domain.patients import PatientDetails
from ..domain.resources import Chair, ClinicProfile, Provider
from ..environments import Environments
from ..follow_ups import FollowUpService
from ..service import ClinicService
from ..settings import settings
from ..waitlist import WaitlistService
from . import errors
from .auth import ADMIN, CLINICIAN, FRONT_DESK, PUBLIC, STAFF, AccessDenied, RoutePolicy, actor_of, authorize
from .errors import from_request
from .idempotency import CONFIG as IDEMPOTENCY_CONFIG
from .idempotency import HEADER, run_once, valid_key
from .models import (
    AcknowledgeRequest,
    BookingRequest,
    CancelRequest,
    ChairRequest,
    ClinicProfileRequest,
    ConfirmationRequest,
    CourseBookingRequest,
    CoursePlanRequest,
    CourseSessionRequest,
    DischargeRequest,
    DoseRequest,
    OfferRequest,
    ProviderRequest,
    RescheduleRequest,
    SurveyAnswersRequest,
    SurveyRequest,
    VitalsRequest,
    WaitlistRequest,
)
from .responses import AppointmentView, AvailabilityView, BoardView, CoursePlanView, CourseView, documented

logger = Logger(service="clinic-api")

ROUTES: list[tuple[RoutePolicy, Callable[..., Any]]] = []
FRONT_OFFICE = frozenset({FRONT_DESK, ADMIN})
CLINICAL = frozenset({CLINICIAN})


RESPONSES: dict[RoutePolicy, dict[int, Any]] = {}


def route(
    method: str, path: str, groups: frozenset[str], *, returns: type[BaseModel] | None = None, status: int = 200
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers a handler for the roles in `groups`; `returns` documents its success body."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        policy = RoutePolicy(method, path, groups)
        ROUTES.append((policy, handler))
        RESPONSES[policy] = documented(returns, status)
        return handler

    return register


class PerThreadRestResolver(APIGatewayRestResolver):
    """Powertools keeps the request being resolved on a class attribute that every resolver
    in the process shares. A Lambda process serves one request at a time, but the local
    server and the concurrency tests serve many on threads: there a handler would read
    another request's headers and body. Keeping the request per thread costs Lambda nothing."""

    _request = threading.local()

    @property
    def current_event(self) -> Any:  # type: ignore[override]
        return self._request.event

    @property
    def lambda_context(self) -> Any:  # type: ignore[override]
        return self._request.context

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._request.event = self._to_proxy_event(event)
        self._request.context = context
        return super().resolve(event, context)


class Container:
    """What one Lambda execution environment holds between invocations."""

    def __init__(self) -> None:
        config = settings()
        # A session of its own: boto3's default session is not safe to share while threads create clients.
        session = boto3.session.Session()
        table = session.resource("dynamodb").Table(config.table_name)
        engine = StepFunctionsEngine(session.client("stepfunctions"), config.state_machine_arn)
        repository = DynamoRepository(table)
        self.service = ClinicService(config.clinic_rules, repository, engine, config_cache_seconds=config.config_cache_seconds)
        self.follow_ups = FollowUpService(self.service, repository)
        self.courses = CourseService(self.service, repository)
        self.waitlist = WaitlistService(
            self.service,
            repository,
            lambda: Notifier(session.client("sns"), session.client("ses"), config.clinician_topic_arn, config.email_sender),
            config.patient_link_base_url,
        )
        self.persistence = DynamoDBPersistenceLayer(table_name=config.idempotency_table_name, boto3_session=session)
        cors = CORSConfig(allow_origin=config.allowed_origin, allow_headers=[HEADER], max_age=600)
        # Metrics of its own (Powertools' Metrics is shared process-wide), flushed per invocation.
        self.metrics = EphemeralMetrics(namespace="KetamineClinic", service="clinic-api")
        self.resolver = PerThreadRestResolver(enable_validation=True, cors=cors)
        errors.register(self.resolver)
        for policy, handler in ROUTES:
            self.resolver.route(policy.path, policy.method, responses=RESPONSES[policy])(handler)


ENVIRONMENTS = Environments(Container)


def container() -> Container:
    return ENVIRONMENTS.current()


def _service() -> ClinicService:
    return container().service


def _event() -> Any:
    return container().resolver.current_event


def _dump(model: BaseModel, **options: Any) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True, **options)


def _appointment(appointment: Appointment) -> dict[str, Any]:
    # The task token lets its holder drive the workflow: it stays between the table and Step Functions.
    body = appointment.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"workflow": {"task_token"}})
    body["phase"] = _service().phase(appointment).model_dump(mode="json", by_alias=True, exclude_none=True)
    return body


def _created(operation: str, payload: Any, action: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], int]:
    event = _event()
    actor = actor_of(event.raw_event)
    body = run_once(
        container().persistence,
        operation=operation,
        caller=actor.user_id,
        key=valid_key(event.headers.get(HEADER)),  # Powertools headers are case-insensitive
        payload=json.loads(payload.model_dump_json()),
        action=action,
    )
    return body, 201


def _record_id(operation: str) -> str:
    """The id a create names its record with, from the caller and the Idempotency-Key: if the
    idempotency record could not be saved after the create landed, the repeated request finds
    the same record instead of creating a second one."""
    event = _event()
    seed = f"{operation}|{actor_of(event.raw_event).user_id}|{valid_key(event.headers.get(HEADER))}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


# --- clinic configuration -----------------------------------------------------------------
@route("GET", "/clinics/<clinic_id>", STAFF)
def get_clinic(clinic_id: str) -> dict[str, Any]:
    service = _service()
    clinic = service.clinic(clinic_id)
    return {
        **clinic.profile.model_dump(mode="json", by_alias=True),
        "chairs": [c.model_dump(mode="json", by_alias=True) for c in clinic.chairs.values()],
        "providers": [p.model_dump(mode="json", by_alias=True) for p in clinic.providers.values()],
        "sessionTypes": {
            code: {**kind.model_dump(mode="json", by_alias=True), "blockMinutes": int(kind.block.total_seconds() // 60)}
            for code, kind in service.rules.session_types.items()
        },
        "courseTemplates": {
            code: {"label": t.label, "sessionType": t.session_type, "sessions": t.total_sessions, "weekdaysNeeded": t.weekdays_needed}
            for code, t in service.rules.course_templates.items()
        },
    }


@route("PUT", "/clinics/<clinic_id>", frozenset({ADMIN}))
def put_clinic(clinic_id: str, body: Annotated[ClinicProfileRequest, Body()]) -> dict[str, Any]:
    service = _service()
    profile = from_request(
        ClinicProfile,
        clinic_id=clinic_id,
        name=body.name,
        time_zone=body.time_zone or service.rules.default_time_zone,
        opening_hours=body.opening_hours,
        rems_certified=body.rems_certified,
        escalation_chain=body.escalation_chain,
        closures=body.closures,
    )
    return service.save_clinic_profile(profile).model_dump(mode="json", by_alias=True)


@route("PUT", "/clinics/<clinic_id>/chairs/<chair_id>", frozenset({ADMIN}))
def put_chair(clinic_id: str, chair_id: str, body: Annotated[ChairRequest, Body()]) -> dict[str, Any]:
    chair = from_request(Chair, chair_id=chair_id, **body.model_dump())
    return _service().save_chair(clinic_id, chair).model_dump(mode="json", by_alias=True)


@route("PUT", "/clinics/<clinic_id>/providers/<provider_id>", frozenset({ADMIN}))
def put_provider(clinic_id: str, provider_id: str, body: Annotated[ProviderRequest, Body()]) -> dict[str, Any]:
    provider = from_request(Provider, provider_id=provider_id, **body.model_dump())
    return _service().save_provider(clinic_id, provider).model_dump(mode="json", by_alias=True)


# --- the day ------------------------------------------------------------------------------
@route("GET", "/clinics/<clinic_id>/availability", STAFF, returns=AvailabilityView)
def get_availability(
    clinic_id: str,
    day: Annotated[date, Query(alias="date")],
    session_type: Annotated[str, Query(alias="sessionType", min_length=1, max_length=40)],
) -> dict[str, Any]:
    clinic, slots = _service().availability(clinic_id, day, session_type)
    zone = clinic.profile.zone
    return {
        "clinicId": clinic_id,
        "date": day.isoformat(),
        "sessionType": session_type,
        "timeZone": zone.key,
        "slots": [
            {
                "start": slot.start.isoformat().replace("+00:00", "Z"),
                "end": slot.end.isoformat().replace("+00:00", "Z"),
                "startLocal": slot.start.astimezone(zone).isoformat(),
                "chairIds": list(slot.chair_ids),
                "providerIds": list(slot.provider_ids),
            }
            for slot in slots
        ],
    }


@route("GET", "/clinics/<clinic_id>/board", STAFF, returns=BoardView)
def get_board(clinic_id: str, day: Annotated[date, Query(alias="date")]) -> dict[str, Any]:
    clinic, appointments = _service().board(clinic_id, day)
    return {
        "clinicId": clinic_id,
        "date": day.isoformat(),
        "timeZone": clinic.profile.zone.key,  # times are UTC; the board shows them in the clinic's zone
        "appointments": [_appointment(a) for a in appointments],
    }


# --- patients -----------------------------------------------------------------------------
@route("POST", "/patients", FRONT_OFFICE, status=201)
def post_patient(body: Annotated[PatientDetails, Body()]) -> tuple[dict[str, Any], int]:
    def register() -> dict[str, Any]:
        container().metrics.add_metric(name="PatientRegistered", unit=MetricUnit.Count, value=1)
        patient = _service().register_patient(body, patient_id=_record_id("register-patient"))
        return patient.model_dump(mode="json", by_alias=True)

    return _created("register-patient", body, register)


@route("GET", "/patients/<patient_id>", STAFF)
def get_patient(patient_id: str) -> dict[str, Any]:
    return _service().patient(patient_id).model_dump(mode="json", by_alias=True, exclude_none=True)


@route("GET", "/patients/<patient_id>/appointments", STAFF)
def get_patient_appointments(patient_id: str) -> dict[str, Any]:
    return {"patientId": patient_id, "appointments": [_appointment(a) for a in _service().patient_appointments(patient_id)]}


# --- appointments -------------------------------------------------------------------------
@route("POST", "/appointments", FRONT_OFFICE, returns=AppointmentView, status=201)
def post_appointment(body: Annotated[BookingRequest, Body()]) -> tuple[dict[str, Any], int]:
    def book() -> dict[str, Any]:
        actor = actor_of(_event().raw_event)
        appointment = _service().book(actor, **body.model_dump(), appointment_id=_record_id("book-appointment"))
        container().metrics.add_metric(name="AppointmentBooked", unit=MetricUnit.Count, value=1)
        return _appointment(appointment)

    return _created("book-appointment", body, book)


@route("GET", "/appointments/<appointment_id>", STAFF, returns=AppointmentView)
def get_appointment(appointment_id: str) -> dict[str, Any]:
    return _appointment(_service().appointment(appointment_id))


@route("GET", "/appointments/<appointment_id>/audit", STAFF)
def get_audit(appointment_id: str) -> dict[str, Any]:
    entries = _service().audit_trail(appointment_id)
    return {
        "appointmentId": appointment_id,
        "entries": [e.model_dump(mode="json", by_alias=True, exclude_none=True) for e in entries],
    }


@route("POST", "/appointments/<appointment_id>/reschedule", FRONT_OFFICE, returns=AppointmentView)
def post_reschedule(appointment_id: str, body: Annotated[RescheduleRequest, Body()]) -> dict[str, Any]:
    actor = actor_of(_event().raw_event)
    return _appointment(_service().reschedule(actor, appointment_id, **body.model_dump()))


@route("POST", "/appointments/<appointment_id>/cancel", FRONT_OFFICE, returns=AppointmentView)
def post_cancel(appointment_id: str, body: Annotated[CancelRequest, Body()]) -> dict[str, Any]:
    """A course's session also gets the course's make-up offer (`courseMakeUp`)."""
    actor = actor_of(_event().raw_event)
    appointment = _service().cancel(actor, appointment_id, body.reason)
    reply = _appointment(appointment)
    if appointment.course_id is not None:
        course, _ = container().courses.course(appointment.course_id)
        if course.status.value == "active":
            reply["courseMakeUp"] = _planned(container().courses.make_up(course.course_id), _zone(course.clinic_id))
    return reply


@route("POST", "/appointments/<appointment_id>/check-in", frozenset({FRONT_DESK, CLINICIAN, ADMIN}), returns=AppointmentView)
def post_check_in(appointment_id: str) -> dict[str, Any]:
    return _appointment(_service().check_in(actor_of(_event().raw_event), appointment_id))


@route("POST", "/appointments/<appointment_id>/no-show", FRONT_OFFICE, returns=AppointmentView)
def post_no_show(appointment_id: str) -> dict[str, Any]:
    return _appointment(_service().no_show(actor_of(_event().raw_event), appointment_id))


@route("POST", "/appointments/<appointment_id>/attention/resolve", STAFF, returns=AppointmentView)
def post_resolve_attention(appointment_id: str, body: Annotated[AcknowledgeRequest, Body()]) -> dict[str, Any]:
    """Staff dealt with the appointment's flag (who, when and the note go to its audit)."""
    return _appointment(_service().resolve_attention(actor_of(_event().raw_event), appointment_id, body.note))


# --- courses ------------------------------------------------------------------------------
def _zone(clinic_id: str) -> Any:
    return _service().clinic(clinic_id).profile.zone


def _placement(placement: Placement, zone: Any) -> dict[str, Any]:
    return {
        "start": placement.start.isoformat().replace("+00:00", "Z"),
        "startLocal": placement.start.astimezone(zone).isoformat(),
        "chairId": placement.chair_id,
        "providerId": placement.provider_id,
    }


def _planned(session: PlannedSession, zone: Any) -> dict[str, Any]:
    return {
        "number": session.number,
        "phase": session.phase,
        "wantedLocal": session.wanted.astimezone(zone).isoformat(),
        "mustMove": session.problem is not None,
        **({"problem": session.problem} if session.problem else {}),
        "placement": _placement(session.placement, zone) if session.placement else None,
        "alternatives": [_placement(p, zone) for p in session.alternatives],
    }


def _plan(plan: CoursePlan, zone: Any) -> dict[str, Any]:
    return {
        "template": plan.template_code,
        "label": plan.template.label,
        "sessionType": plan.template.session_type,
        "timeZone": zone.key,
        "bookable": all(s.placement is not None for s in plan.sessions),
        "sessions": [_planned(s, zone) for s in plan.sessions],
    }


def _course(course: Course, sessions: list[Appointment]) -> dict[str, Any]:
    return {**_dump(course), "sessions": [_appointment(a) for a in sessions]}


@route("POST", "/courses/plan", FRONT_OFFICE, returns=CoursePlanView)
def post_course_plan(body: Annotated[CoursePlanRequest, Body()]) -> dict[str, Any]:
    """Proposes the course's concrete sessions (nothing is booked): each session's placement is
    its wanted time or, when that must move, the nearest alternative; `sessions[].placement`
    can be sent to POST /courses as it is."""
    preferred = [PreferredTime(weekday=p.weekday, at=p.at) for p in body.preferred_times]
    plan = container().courses.plan(
        body.clinic_id, body.patient_id, body.template, body.start_date, preferred, body.chair_id, body.provider_id
    )
    return _plan(plan, _zone(body.clinic_id))


@route("POST", "/courses", FRONT_OFFICE, returns=CourseView, status=201)
def post_course(body: Annotated[CourseBookingRequest, Body()]) -> tuple[dict[str, Any], int]:
    """Books every session of the course, or none: a conflict on any session is a 409 naming it."""

    def book() -> dict[str, Any]:
        choices = [SessionChoice(s.start, s.chair_id, s.provider_id) for s in body.sessions]
        course, sessions = container().courses.book(
            actor_of(_event().raw_event),
            clinic_id=body.clinic_id,
            patient_id=body.patient_id,
            template_code=body.template,
            sessions=choices,
            course_id=_record_id("book-course"),
        )
        container().metrics.add_metric(name="CourseBooked", unit=MetricUnit.Count, value=1)
        return _course(course, sessions)

    return _created("book-course", body, book)


@route("GET", "/courses/<course_id>", STAFF, returns=CourseView)
def get_course(course_id: str) -> dict[str, Any]:
    return _course(*container().courses.course(course_id))


@route("GET", "/courses/<course_id>/make-up", FRONT_OFFICE)
def get_course_make_up(course_id: str) -> dict[str, Any]:
    """Where one more session would go after the course's last, at the course's cadence."""
    course, _ = container().courses.course(course_id)
    return _planned(container().courses.make_up(course_id), _zone(course.clinic_id))


@route("POST", "/courses/<course_id>/sessions", FRONT_OFFICE, returns=AppointmentView, status=201)
def post_course_session(course_id: str, body: Annotated[CourseSessionRequest, Body()]) -> tuple[dict[str, Any], int]:
    def add() -> dict[str, Any]:
        choice = SessionChoice(body.start, body.chair_id, body.provider_id)
        return _appointment(container().courses.add_session(actor_of(_event().raw_event), course_id, choice))

    return _created(f"add-course-session-{course_id}", body, add)


@route("POST", "/courses/<course_id>/cancel", FRONT_OFFICE, returns=CourseView)
def post_course_cancel(course_id: str, body: Annotated[CancelRequest, Body()]) -> dict[str, Any]:
    """Cancels every session not yet begun and stops their workflows, then the course."""
    return _course(*container().courses.cancel(actor_of(_event().raw_event), course_id, body.reason))


# --- the waitlist -------------------------------------------------------------------------
@route("POST", "/clinics/<clinic_id>/waitlist", FRONT_OFFICE, status=201)
def post_waitlist(clinic_id: str, body: Annotated[WaitlistRequest, Body()]) -> tuple[dict[str, Any], int]:
    def join() -> dict[str, Any]:
        entry = container().waitlist.join(
            clinic_id, body.patient_id, body.session_type, list(body.weekdays), body.earliest, body.latest
        )
        return _dump(entry)

    return _created(f"join-waitlist-{clinic_id}", body, join)


@route("GET", "/clinics/<clinic_id>/waitlist", STAFF)
def get_waitlist(clinic_id: str) -> dict[str, Any]:
    """Waiting patients in the order they joined (the order offers follow)."""
    return {"clinicId": clinic_id, "entries": [_dump(e) for e in container().waitlist.entries(clinic_id)]}


@route("POST", "/clinics/<clinic_id>/waitlist/<entry_id>/remove", FRONT_OFFICE)
def post_waitlist_remove(clinic_id: str, entry_id: str) -> dict[str, Any]:
    container().waitlist.remove(clinic_id, entry_id)
    return {"clinicId": clinic_id, "entryId": entry_id, "removed": True}


# --- the session (clinicians) ---------------------------------------------------------------
@route("POST", "/appointments/<appointment_id>/dose", CLINICAL, returns=AppointmentView)
def post_dose(appointment_id: str, body: Annotated[DoseRequest, Body()]) -> dict[str, Any]:
    override = body.override
    appointment = _service().record_dose(
        actor_of(_event().raw_event),
        appointment_id,
        pre_dose_blood_pressure=body.pre_dose_blood_pressure,
        started_at=body.started_at,
        dose_mg=body.dose_mg,
        device_count=body.device_count,
        lot_number=body.lot_number,
        override_prescriber_id=override.prescriber_id if override else None,
        override_reason=override.reason if override else None,
    )
    return _appointment(appointment)


@route("POST", "/appointments/<appointment_id>/vitals", CLINICAL, status=201)
def post_vitals(appointment_id: str, body: Annotated[VitalsRequest, Body()]) -> tuple[dict[str, Any], int]:
    def record() -> dict[str, Any]:
        measurements = Measurements(**body.model_dump(exclude={"taken_at"}))
        vitals = _service().record_vitals(actor_of(_event().raw_event), appointment_id, measurements, body.taken_at)
        return vitals.model_dump(mode="json", by_alias=True, exclude_none=True)

    return _created(f"record-vitals-{appointment_id}", body, record)


@route("GET", "/appointments/<appointment_id>/vitals", STAFF)
def get_vitals(appointment_id: str) -> dict[str, Any]:
    vitals = _service().vitals(appointment_id)
    return {"appointmentId": appointment_id, "vitals": [v.model_dump(mode="json", by_alias=True, exclude_none=True) for v in vitals]}


@route("POST", "/appointments/<appointment_id>/discharge", CLINICAL, returns=AppointmentView)
def post_discharge(appointment_id: str, body: Annotated[DischargeRequest, Body()]) -> dict[str, Any]:
    actor = actor_of(_event().raw_event)
    return _appointment(_service().discharge(actor, appointment_id, body.checklist, body.adverse_events, body.ready_at))


@route("GET", "/clinics/<clinic_id>/rems-forms", STAFF)
def get_rems_forms(clinic_id: str) -> dict[str, Any]:
    forms = _service().rems_forms_due(clinic_id)
    return {"clinicId": clinic_id, "forms": [f.model_dump(mode="json", by_alias=True, exclude_none=True) for f in forms]}


@route("POST", "/appointments/<appointment_id>/rems-form/submit", frozenset({CLINICIAN, ADMIN}))
def post_rems_form_submitted(appointment_id: str) -> dict[str, Any]:
    """Marks the REMS Patient Monitoring Form as filed with the REMS: who and when."""
    return _dump(_service().submit_rems_form(actor_of(_event().raw_event), appointment_id))


# --- after the session: alerts, the safety path, scores, export ------------------------------
@route("GET", "/clinics/<clinic_id>/alerts", STAFF)
def get_alerts(clinic_id: str) -> dict[str, Any]:
    """What staff must act on: escalations awaiting acknowledgment, same-day tasks, the call
    list, flagged appointments of any day, and REMS forms within `remsFormAlertDays` of their
    deadline or overdue."""
    escalations, tasks, call_list, flagged = container().follow_ups.alerts(clinic_id)
    return {
        "clinicId": clinic_id,
        "remsFormsDueSoon": [_dump(f, include={"appointment_id", "patient_id", "due_date"}) for f in _service().rems_forms_due_soon(clinic_id)],
        "escalations": [_dump(e, exclude={"task_token"}) for e in escalations],
        "tasks": [_dump(t) for t in tasks],
        "callList": [
            {
                "followUpId": f.follow_up_id,
                "appointmentId": f.appointment_id,
                "patientId": f.patient_id,
                "number": f.number,
                "reason": "the survey link could not be sent" if f.undeliverable else "the survey was not answered in time",
                "since": _dump(f)["closedAt" if f.closed_at else "openedAt"],
            }
            for f in call_list
        ],
        # Flagged appointments of any day, not only the board's (no ride home tomorrow, not
        # discharged yesterday): what staff must deal with, oldest first.
        "appointments": [_dump(a) for a in flagged],
    }


@route("GET", "/escalations/<escalation_id>", STAFF)
def get_escalation(escalation_id: str) -> dict[str, Any]:
    return _dump(container().follow_ups.escalation(escalation_id), exclude={"task_token"})


@route("POST", "/escalations/<escalation_id>/acknowledge", CLINICAL)
def post_acknowledge(escalation_id: str, body: Annotated[AcknowledgeRequest, Body()]) -> dict[str, Any]:
    escalation = container().follow_ups.acknowledge(actor_of(_event().raw_event), escalation_id, body.note)
    return _dump(escalation, exclude={"task_token"})


@route("POST", "/tasks/<task_id>/complete", CLINICAL)
def post_complete_task(task_id: str, body: Annotated[AcknowledgeRequest, Body()]) -> dict[str, Any]:
    return _dump(container().follow_ups.complete_task(actor_of(_event().raw_event), task_id, body.note))


@route("GET", "/patients/<patient_id>/scores", STAFF)
def get_scores(patient_id: str) -> dict[str, Any]:
    """Score history per instrument for charts, with the baseline, response and remission."""
    return {
        "patientId": patient_id,
        "instruments": [
            {
                "instrument": code,
                "history": [_dump(r, include={"effective", "total", "band", "flags", "risk", "appointment_id"}) for r in records],
                "progress": _dump(progress) if progress else None,
            }
            for code, records, progress in container().follow_ups.score_history(patient_id)
        ],
    }


@route("GET", "/patients/<patient_id>/fhir", CLINICAL)
def get_fhir_bundle(patient_id: str) -> dict[str, Any]:
    """The patient's record as a FHIR R4 Bundle (collection)."""
    return container().follow_ups.fhir_bundle(patient_id)


# --- patient links (no staff identity: the link's token is the credential) -------------------
CRISIS_RESOURCES = [
    {"name": "988 Suicide & Crisis Lifeline", "contact": "Call or text 988 (US), any time"},
    {"name": "Emergency services", "contact": "Call 911 if you are in danger now"},
]


def _survey_view(follow_up: FollowUp) -> dict[str, Any]:
    session = follow_up.session
    return {
        "finished": session.finished,
        "pending": list(session.pending),
        "questionnaires": [
            INSTRUMENTS[code].model_dump(mode="json", by_alias=True, exclude={"bands"}, exclude_none=True)
            for code in session.pending
        ],
        "crisisResources": CRISIS_RESOURCES if session.crisis_resources else [],
        "validUntil": _dump(follow_up)["validUntil"],
    }


@route("POST", "/public/surveys", PUBLIC)
def post_survey(body: Annotated[SurveyRequest, Body()]) -> dict[str, Any]:
    """The questionnaires the link still asks (POST: the token stays out of URLs and logs)."""
    return _survey_view(container().follow_ups.survey(body.token))


@route("POST", "/public/surveys/answers", PUBLIC)
def post_survey_answers(body: Annotated[SurveyAnswersRequest, Body()]) -> dict[str, Any]:
    follow_up = container().follow_ups.submit(body.token, body.instrument, dict(body.answers))
    view = _survey_view(follow_up)
    if view["crisisResources"]:
        view["message"] = "If you are thinking about harming yourself, please reach out now. A clinician will contact you."
    elif follow_up.session.finished:
        view["message"] = "Thank you. Your answers have reached your care team."
    return view



@route("POST", "/public/confirmations", PUBLIC)
def post_confirmation(body: Annotated[ConfirmationRequest, Body()]) -> dict[str, Any]:
    _service().confirm_attendance(body.token, body.attending, body.ride_arranged)
    if not body.attending:
        message = "Thank you for letting us know. The clinic will call you to find another time."
    elif not body.ride_arranged:
        message = "Please arrange for someone to drive you home: you must not drive until the next day. The clinic will call you."
    else:
        message = "Thank you, see you soon. Remember: no driving until the next day."
    return {"recorded": True, "message": message}


@route("POST", "/public/waitlist-offers", PUBLIC)
def post_waitlist_offer(body: Annotated[OfferRequest, Body()]) -> dict[str, Any]:
    """What a waitlist offer's link opens: the time, and whether it is still to be had."""
    offer, mine = container().waitlist.offer(body.token)
    clinic = _service().clinic(offer.clinic_id)
    return {
        "clinic": clinic.profile.name,
        "session": _service().rules.session_types[offer.session_type].label,
        "startLocal": offer.start.astimezone(clinic.profile.zone).isoformat(),
        "timeZone": clinic.profile.zone.key,
        "status": "yours" if mine else offer.status.value,
    }


@route("POST", "/public/waitlist-offers/accept", PUBLIC)
def post_waitlist_accept(body: Annotated[OfferRequest, Body()]) -> dict[str, Any]:
    """The first patient to accept books the time; the others get 410 and stay on the waitlist."""
    appointment = container().waitlist.accept(body.token)
    zone = _zone(appointment.clinic_id)
    return {
        "booked": True,
        "startLocal": appointment.start.astimezone(zone).isoformat(),
        "message": "The time is yours. The clinic will send you a reminder before it.",
    }


POLICIES = [policy for policy, _ in ROUTES]


def _denied(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Access-Control-Allow-Origin": settings().allowed_origin},
        "body": json.dumps(errors.error_body("unauthorized" if status == 401 else "forbidden", message)),
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        authorize(event, POLICIES)
    except AccessDenied as denied:
        return _denied(denied.status, denied.message)
    IDEMPOTENCY_CONFIG.register_lambda_context(context)
    with ENVIRONMENTS.use() as current:
        try:
            return current.resolver.resolve(event, context)
        finally:
            current.metrics.flush_metrics()
