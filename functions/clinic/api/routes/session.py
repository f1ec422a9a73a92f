"""The clinician's session: dose, vitals, discharge, the REMS Patient Monitoring Form."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body

from ...domain.care import Measurements
from ..auth import ADMIN, CLINICAL, CLINICIAN, STAFF
from ..models import DischargeRequest, DoseRequest, VitalsRequest
from ..responses import AppointmentView
from ..routing import Routes, account_reads, appointment_reply, caller, created, use_cases
from ..views import dump

routes = Routes()


@routes("POST", "/appointments/<appointment_id>/dose", CLINICAL, returns=AppointmentView)
def post_dose(appointment_id: str, body: Annotated[DoseRequest, Body()]) -> dict[str, Any]:
    override = body.override
    appointment = use_cases().session.record_dose(
        caller(),
        appointment_id,
        pre_dose_blood_pressure=body.pre_dose_blood_pressure,
        started_at=body.started_at,
        dose_mg=body.dose_mg,
        device_count=body.device_count,
        lot_number=body.lot_number,
        override_prescriber_id=override.prescriber_id if override else None,
        override_reason=override.reason if override else None,
    )
    return appointment_reply(appointment)


@routes("POST", "/appointments/<appointment_id>/vitals", CLINICAL, status=201)
def post_vitals(appointment_id: str, body: Annotated[VitalsRequest, Body()]) -> tuple[dict[str, Any], int]:
    def record() -> dict[str, Any]:
        measurements = Measurements(**body.model_dump(exclude={"taken_at"}))
        return dump(use_cases().session.record_vitals(caller(), appointment_id, measurements, body.taken_at))

    return created(f"record-vitals-{appointment_id}", body, record)


@routes("GET", "/appointments/<appointment_id>/vitals", STAFF)
def get_vitals(appointment_id: str) -> dict[str, Any]:
    appointment, vitals = use_cases().session.vitals(appointment_id)
    account_reads([appointment.patient_id], "GET /appointments/{appointmentId}/vitals")  # a part of the chart
    return {"appointmentId": appointment_id, "vitals": [dump(v) for v in vitals]}


@routes("POST", "/appointments/<appointment_id>/discharge", CLINICAL, returns=AppointmentView)
def post_discharge(appointment_id: str, body: Annotated[DischargeRequest, Body()]) -> dict[str, Any]:
    appointment = use_cases().session.discharge(caller(), appointment_id, body.checklist, body.adverse_events, body.ready_at)
    return appointment_reply(appointment)


@routes("GET", "/clinics/<clinic_id>/rems-forms", STAFF)
def get_rems_forms(clinic_id: str) -> dict[str, Any]:
    return {"clinicId": clinic_id, "forms": [dump(f) for f in use_cases().session.rems_forms_due(clinic_id)]}


@routes("POST", "/appointments/<appointment_id>/rems-form/submit", frozenset({CLINICIAN, ADMIN}))
def post_rems_form_submitted(appointment_id: str) -> dict[str, Any]:
    """Marks the REMS Patient Monitoring Form as filed with the REMS: who and when."""
    return dump(use_cases().session.submit_rems_form(caller(), appointment_id))
