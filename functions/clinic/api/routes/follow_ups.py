"""After the session: the clinic's alerts, the safety path, scores and the FHIR export."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body

from ..auth import CLINICAL, STAFF
from ..models import AcknowledgeRequest
from ..routing import Routes, account_reads, caller, use_cases
from ..views import call_list_entry, dump

routes = Routes()


@routes("GET", "/clinics/<clinic_id>/alerts", STAFF)
def get_alerts(clinic_id: str) -> dict[str, Any]:
    """What staff must act on: escalations awaiting acknowledgment, same-day tasks, the call
    list, flagged appointments of any day, and REMS forms within `remsFormAlertDays` of their
    deadline or overdue."""
    escalations, tasks, call_list, flagged = use_cases().follow_ups.alerts(clinic_id)
    forms_due_soon = use_cases().session.rems_forms_due_soon(clinic_id)
    return {
        "clinicId": clinic_id,
        "remsFormsDueSoon": [dump(f, include={"appointment_id", "patient_id", "due_date"}) for f in forms_due_soon],
        "escalations": [dump(e, exclude={"task_token"}) for e in escalations],
        "tasks": [dump(t) for t in tasks],
        "callList": [call_list_entry(f) for f in call_list],
        # Flagged appointments of any day, not only the board's (no ride home tomorrow, not
        # discharged yesterday): what staff must deal with, oldest first.
        "appointments": [dump(a) for a in flagged],
    }


@routes("GET", "/escalations/<escalation_id>", STAFF)
def get_escalation(escalation_id: str) -> dict[str, Any]:
    escalation = use_cases().follow_ups.escalation(escalation_id)
    account_reads([escalation.patient_id], "GET /escalations/{escalationId}")  # what the patient's answers showed
    return dump(escalation, exclude={"task_token"})


@routes("POST", "/escalations/<escalation_id>/acknowledge", CLINICAL)
def post_acknowledge(escalation_id: str, body: Annotated[AcknowledgeRequest, Body()]) -> dict[str, Any]:
    escalation = use_cases().follow_ups.acknowledge(caller(), escalation_id, body.note)
    return dump(escalation, exclude={"task_token"})


@routes("POST", "/tasks/<task_id>/complete", CLINICAL)
def post_complete_task(task_id: str, body: Annotated[AcknowledgeRequest, Body()]) -> dict[str, Any]:
    return dump(use_cases().follow_ups.complete_task(caller(), task_id, body.note))


@routes("GET", "/patients/<patient_id>/scores", STAFF, reads_patient=True)
def get_scores(patient_id: str) -> dict[str, Any]:
    """Score history per instrument for charts, with the baseline, response and remission."""
    return {
        "patientId": patient_id,
        "instruments": [
            {
                "instrument": code,
                "history": [dump(r, include={"effective", "total", "band", "flags", "risk", "appointment_id"}) for r in records],
                "progress": dump(progress) if progress else None,
            }
            for code, records, progress in use_cases().follow_ups.score_history(patient_id)
        ],
    }


@routes("GET", "/patients/<patient_id>/fhir", CLINICAL, reads_patient=True)
def get_fhir_bundle(patient_id: str) -> dict[str, Any]:
    """The patient's record as a FHIR R4 Bundle (collection)."""
    return use_cases().follow_ups.fhir_bundle(patient_id)
