"""The front desk's patients and appointments: register (with the duplicate check), find,
book, reschedule, cancel, check in, no-show; an appointment's audit trail and a patient's
history."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body

from ...domain.courses import CourseStatus
from ...domain.errors import PossibleDuplicate
from ..auth import ADMIN, CLINICIAN, FRONT_DESK, FRONT_OFFICE, STAFF
from ..models import (
    AcknowledgeRequest,
    BookingRequest,
    CancelRequest,
    PatientRegistration,
    PatientSearchRequest,
    RescheduleRequest,
)
from ..responses import AppointmentView, PatientSearchView, PossibleDuplicateBody
from ..routing import Routes, account_reads, appointment_reply, caller, clinic_zone, count, created, record_id, use_cases
from ..views import dump, patient_match, planned_view

routes = Routes()


@routes("POST", "/patients", FRONT_OFFICE, status=201, conflict=PossibleDuplicateBody)
def post_patient(body: Annotated[PatientRegistration, Body()]) -> tuple[dict[str, Any], int]:
    """409 `possible_duplicate`, naming them, when someone with the same name and birth date or
    the same phone is registered, unless `confirmedNew` is true."""

    def register() -> dict[str, Any]:
        try:
            patient = use_cases().bookings.register_patient(
                body.details(), patient_id=record_id("register-patient"), confirmed_new=body.confirmed_new
            )
        except PossibleDuplicate as duplicate:  # the reply shows who they are: a read of their records
            account_reads([p.patient_id for p in duplicate.patients], "POST /patients")
            raise
        count("PatientRegistered")
        return dump(patient, keep_none=True)

    return created("register-patient", body, register)


@routes("POST", "/patients/search", STAFF, returns=PatientSearchView)
def search_patients(body: Annotated[PatientSearchRequest, Body()]) -> dict[str, Any]:
    """A POST, so that what is searched for (a name, a birth date, a phone) travels in the
    body, which no access or firewall log records, and never in the URL."""
    patients, more = use_cases().front_desk.find_patients(body.text)
    account_reads([p.patient_id for p in patients], "POST /patients/search")  # names, births, phones shown
    return {"patients": [patient_match(p) for p in patients], "more": more}


@routes("GET", "/patients/<patient_id>", STAFF, reads_patient=True)
def get_patient(patient_id: str) -> dict[str, Any]:
    return dump(use_cases().front_desk.patient(patient_id))


@routes("GET", "/patients/<patient_id>/appointments", STAFF, reads_patient=True)
def get_patient_appointments(patient_id: str) -> dict[str, Any]:
    appointments = use_cases().front_desk.patient_appointments(patient_id)
    return {"patientId": patient_id, "appointments": [appointment_reply(a) for a in appointments]}


@routes("POST", "/appointments", FRONT_OFFICE, returns=AppointmentView, status=201)
def post_appointment(body: Annotated[BookingRequest, Body()]) -> tuple[dict[str, Any], int]:
    def book() -> dict[str, Any]:
        appointment = use_cases().bookings.book(caller(), **body.model_dump(), appointment_id=record_id("book-appointment"))
        count("AppointmentBooked")
        return appointment_reply(appointment)

    return created("book-appointment", body, book)


@routes("GET", "/appointments/<appointment_id>", STAFF, returns=AppointmentView)
def get_appointment(appointment_id: str) -> dict[str, Any]:
    return appointment_reply(use_cases().front_desk.appointment(appointment_id))


@routes("GET", "/appointments/<appointment_id>/audit", STAFF)
def get_audit(appointment_id: str) -> dict[str, Any]:
    entries = use_cases().front_desk.audit_trail(appointment_id)
    return {"appointmentId": appointment_id, "entries": [dump(e) for e in entries]}


@routes("POST", "/appointments/<appointment_id>/reschedule", FRONT_OFFICE, returns=AppointmentView)
def post_reschedule(appointment_id: str, body: Annotated[RescheduleRequest, Body()]) -> dict[str, Any]:
    return appointment_reply(use_cases().bookings.reschedule(caller(), appointment_id, **body.model_dump()))


@routes("POST", "/appointments/<appointment_id>/cancel", FRONT_OFFICE, returns=AppointmentView)
def post_cancel(appointment_id: str, body: Annotated[CancelRequest, Body()]) -> dict[str, Any]:
    """A course's session also gets the course's make-up offer (`courseMakeUp`)."""
    appointment = use_cases().bookings.cancel(caller(), appointment_id, body.reason)
    reply = appointment_reply(appointment)
    if appointment.course_id is not None:
        courses = use_cases().courses
        course, _ = courses.course(appointment.course_id)
        if course.status is CourseStatus.ACTIVE:
            reply["courseMakeUp"] = planned_view(courses.make_up(course.course_id), clinic_zone(course.clinic_id))
    return reply


@routes("POST", "/appointments/<appointment_id>/check-in", frozenset({FRONT_DESK, CLINICIAN, ADMIN}), returns=AppointmentView)
def post_check_in(appointment_id: str) -> dict[str, Any]:
    return appointment_reply(use_cases().front_desk.check_in(caller(), appointment_id))


@routes("POST", "/appointments/<appointment_id>/no-show", FRONT_OFFICE, returns=AppointmentView)
def post_no_show(appointment_id: str) -> dict[str, Any]:
    return appointment_reply(use_cases().front_desk.no_show(caller(), appointment_id))


@routes("POST", "/appointments/<appointment_id>/attention/resolve", STAFF, returns=AppointmentView)
def post_resolve_attention(appointment_id: str, body: Annotated[AcknowledgeRequest, Body()]) -> dict[str, Any]:
    """Staff dealt with the appointment's flag (who, when and the note go to its audit)."""
    return appointment_reply(use_cases().front_desk.resolve_attention(caller(), appointment_id, body.note))
