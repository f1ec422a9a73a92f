"""The FHIR export, validated by a FHIR model library rather than by eye."""

from __future__ import annotations

from datetime import UTC, date, datetime

from clinic.domain.appointments import Appointment, Status
from clinic.domain.care import BloodPressure, Vitals
from clinic.domain.fhir import patient_bundle
from clinic.domain.followups import QuestionnaireAnswers, ScoreRecord
from clinic.domain.patients import EmergencyContact, Patient
from fhir.resources.R4B.bundle import Bundle

AT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def _bundle() -> dict:
    patient = Patient(
        patient_id="p1", given_name="Alex", family_name="Rivera", birth_date=date(1980, 4, 2), phone="+15555550100",
        emergency_contact=EmergencyContact(name="Sam", phone="+15555550101"),
    )
    appointment = Appointment(
        appointment_id="a1", clinic_id="north", patient_id="p1", session_type="spravato", chair_id="chair-1",
        provider_id="nurse-a", start=AT, end=AT, local_date="2026-12-02", status=Status.FULFILLED, version=5,
        created_at=AT, updated_at=AT,
    )
    vitals = Vitals(vitals_id="v1", taken_at=AT, recorded_by="nurse", blood_pressure=BloodPressure(systolic=132, diastolic=84), spo2=97, respiratory_rate=14)
    phq9 = ScoreRecord(
        observation_id="o1", patient_id="p1", appointment_id="a1", instrument="phq-9", version="1", loinc="44261-6",
        effective=AT, total=12, band="moderate", flags=("suicidal-ideation",),
    )
    screener = ScoreRecord(
        observation_id="o2", patient_id="p1", appointment_id="a1", instrument="c-ssrs-screener", version="1",
        loinc="93374-7", effective=AT, total=None, band=None, flags=(), risk="low",
    )
    response = QuestionnaireAnswers(
        response_id="r1", patient_id="p1", appointment_id="a1", follow_up=1, questionnaire="phq-9", version="1",
        authored=AT, answers={f"phq9-{n}": 1 for n in range(1, 10)},
    )
    return patient_bundle(patient, [appointment], {"a1": [vitals]}, [phq9, screener], [response])


def test_the_export_is_a_valid_fhir_bundle_with_every_kind_of_resource() -> None:
    bundle = Bundle.model_validate(_bundle())
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds == ["Patient", "Appointment", *["Observation"] * 5, "QuestionnaireResponse"]
    assert bundle.type == "collection"


def test_observations_carry_the_loinc_codes_and_categories_of_the_domain() -> None:
    resources = [entry["resource"] for entry in _bundle()["entry"]]
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    codes = {o["code"]["coding"][0]["code"]: o["category"][0]["coding"][0]["code"] for o in observations}
    assert codes == {"85354-9": "vital-signs", "59408-5": "vital-signs", "9279-1": "vital-signs", "44261-6": "survey", "93374-7": "survey"}
    pressure = next(o for o in observations if o["code"]["coding"][0]["code"] == "85354-9")
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"]) for c in pressure["component"]] == [("8480-6", 132), ("8462-4", 84)]
    phq9 = next(o for o in observations if o["code"]["coding"][0]["code"] == "44261-6")
    assert phq9["valueInteger"] == 12 and phq9["subject"] == {"reference": "Patient/p1"}
    response = resources[-1]
    assert response["status"] == "completed" and len(response["item"]) == 9
