"""A patient's record as a FHIR R4 Bundle (type collection): Patient, Appointments,
Observations for vitals (category vital-signs) and scores (category survey), and the
QuestionnaireResponses, coded with the LOINC codes of DOMAIN.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .appointments import Appointment
from .care import BloodPressure, Vitals
from .followups import QuestionnaireAnswers, ScoreRecord
from .instruments import INSTRUMENTS
from .patients import Patient

LOINC = "http://loinc.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
UCUM = "http://unitsofmeasure.org"
QUESTIONNAIRE_BASE = "urn:ketamine-clinic:questionnaire"


def _instant(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _coding(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def _category(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY, "code": code}]}]


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _patient(patient: Patient) -> dict[str, Any]:
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone, "use": "mobile"})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    return {
        "resourceType": "Patient",
        "id": patient.patient_id,
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "birthDate": patient.birth_date.isoformat(),
        "telecom": telecom,
    }


def _appointment(appointment: Appointment) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": appointment.appointment_id,
        "status": appointment.status.value,
        "serviceType": [{"text": appointment.session_type}],
        "start": _instant(appointment.start),
        "end": _instant(appointment.end),
        "participant": [
            {"actor": {"reference": f"Patient/{appointment.patient_id}"}, "status": "accepted"},
            {"actor": {"display": f"provider {appointment.provider_id}"}, "status": "accepted"},
            {"actor": {"display": f"chair {appointment.chair_id}"}, "status": "accepted"},
        ],
    }


def _blood_pressure(observation_id: str, patient_id: str, at: datetime, pressure: BloodPressure) -> dict[str, Any]:
    return {
        **_vital(observation_id, patient_id, at, "85354-9", "Blood pressure panel"),
        "component": [
            {"code": _coding("8480-6", "Systolic blood pressure"), "valueQuantity": _quantity(pressure.systolic, "mmHg", "mm[Hg]")},
            {"code": _coding("8462-4", "Diastolic blood pressure"), "valueQuantity": _quantity(pressure.diastolic, "mmHg", "mm[Hg]")},
        ],
    }


def _vital(observation_id: str, patient_id: str, at: datetime, code: str, display: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": observation_id,
        "status": "final",
        "category": _category("vital-signs"),
        "code": _coding(code, display),
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": _instant(at),
    }


def _vital_observations(patient_id: str, appointment: Appointment, readings: list[Vitals]) -> list[dict[str, Any]]:
    """The pre-dose pressure and every reading: blood pressure as the panel with its two
    components, SpO2 and respiratory rate alone."""
    found: list[dict[str, Any]] = []
    if appointment.dose is not None:
        pre_dose = _blood_pressure(f"{appointment.appointment_id}-pre-dose-bp", patient_id, appointment.dose.started_at, appointment.dose.pre_dose_blood_pressure)
        found.append({**pre_dose, "note": [{"text": "before the dose"}]})
    for vitals in readings:
        if vitals.blood_pressure is not None:
            found.append(_blood_pressure(f"{vitals.vitals_id}-bp", patient_id, vitals.taken_at, vitals.blood_pressure))
        singles = (
            (vitals.spo2, "spo2", "59408-5", "Oxygen saturation by pulse oximetry", "%", "%"),
            (vitals.respiratory_rate, "rr", "9279-1", "Respiratory rate", "breaths/min", "/min"),
        )
        for value, suffix, code, display, unit, ucum in singles:
            if value is not None:
                observation = _vital(f"{vitals.vitals_id}-{suffix}", patient_id, vitals.taken_at, code, display)
                found.append({**observation, "valueQuantity": _quantity(value, unit, ucum)})
    return found


def _score_observation(score: ScoreRecord) -> dict[str, Any]:
    instrument = INSTRUMENTS[score.instrument]
    code = (
        _coding(score.loinc, f"{instrument.title} {'risk level' if score.total is None else 'total score'}")
        if score.loinc
        else {"text": f"{instrument.title} total score"}
    )
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": score.observation_id,
        "status": "final",
        "category": _category("survey"),
        "code": code,
        "subject": {"reference": f"Patient/{score.patient_id}"},
        "effectiveDateTime": _instant(score.effective),
    }
    if score.total is not None:
        observation["valueInteger"] = score.total
        if score.band:
            observation["interpretation"] = [{"text": score.band}]
    else:
        observation["valueString"] = score.risk or "unknown"
    if score.flags:
        observation["note"] = [{"text": ", ".join(score.flags)}]
    return observation


def _questionnaire_response(response: QuestionnaireAnswers) -> dict[str, Any]:
    instrument = INSTRUMENTS[response.questionnaire]
    return {
        "resourceType": "QuestionnaireResponse",
        "id": response.response_id,
        "questionnaire": f"{QUESTIONNAIRE_BASE}:{instrument.code}|{response.version}",
        "status": "completed",
        "subject": {"reference": f"Patient/{response.patient_id}"},
        "authored": _instant(response.authored),
        "item": [
            {"linkId": link_id, "text": instrument.item(link_id).text, "answer": [{"valueInteger": value}]}
            for link_id, value in response.answers.items()
        ],
    }


def patient_bundle(
    patient: Patient,
    appointments: list[Appointment],
    vitals: dict[str, list[Vitals]],
    scores: list[ScoreRecord],
    responses: list[QuestionnaireAnswers],
) -> dict[str, Any]:
    resources: list[dict[str, Any]] = [_patient(patient)]
    resources += [_appointment(a) for a in appointments]
    for appointment in appointments:
        resources += _vital_observations(patient.patient_id, appointment, vitals.get(appointment.appointment_id, []))
    resources += [_score_observation(s) for s in scores]
    resources += [_questionnaire_response(r) for r in responses]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:ketamine-clinic:{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }
