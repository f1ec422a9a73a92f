"""HIPAA's accounting of access: every read of a patient's record, history, scores or FHIR
export leaves an entry (who, when, which route, which patient; ids only), which the
practice's admin reads per patient and per staff member."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
from clinic.adapters.dynamodb import DynamoRepository
from clinic.domain.escalations import Escalation
from clinic.domain.tenancy import Reach

from tests.support.world import CLINIC, ORGANIZATION, World, at, clinic_day, patient_details


def test_every_read_of_a_patient_is_accounted_for_per_patient_and_per_staff_member(clinic: World) -> None:
    patient = clinic.register_patient()["patientId"]
    other = clinic.register_patient("patient-key-2", givenName="Robin", phone="+15555550177")["patientId"]
    assert clinic.book(patient, at(clinic_day(3), 10), key="access-booking").status == 201
    reads = [
        ("front-desk", "desk-1", f"/patients/{patient}", "GET /patients/{patientId}"),
        ("front-desk", "desk-1", f"/patients/{patient}/appointments", "GET /patients/{patientId}/appointments"),
        ("clinician", "doc-1", f"/patients/{patient}/scores", "GET /patients/{patientId}/scores"),
        ("clinician", "doc-1", f"/patients/{patient}/fhir", "GET /patients/{patientId}/fhir"),
        ("clinician", "doc-1", f"/patients/{other}", "GET /patients/{patientId}"),
    ]
    for role, user, path, _ in reads:
        assert clinic.call("GET", path, role=role, user=user).status == 200
    assert clinic.call("GET", "/patients/no-such-patient", user="desk-1").status == 404  # nothing read: no entry

    log = clinic.call("GET", "/access-log", role="admin", query={"patientId": patient})
    assert log.status == 200, log.body
    entries = log.body["entries"]
    assert [(e["staffId"], e["staffName"], e["route"]) for e in entries] == [
        (f"sub-{user}", user, route) for _, user, path, route in reads if patient in path
    ]
    assert all(e["patientId"] == patient and e["at"].endswith("Z") and e["requestId"] for e in entries)
    assert "Alex" not in json.dumps(log.body) and "Rivera" not in json.dumps(log.body)  # ids and routes, never PHI

    by_doctor = clinic.call("GET", "/access-log", role="admin", query={"staffId": "sub-doc-1"}).body["entries"]
    assert [(e["patientId"], e["route"]) for e in by_doctor] == [
        (patient, "GET /patients/{patientId}/scores"), (patient, "GET /patients/{patientId}/fhir"), (other, "GET /patients/{patientId}"),
    ]


def test_a_session_s_vitals_and_an_escalation_s_details_are_reads_of_the_patient(clinic: World) -> None:
    patient = clinic.register_patient()["patientId"]
    appointment = clinic.book(patient, at(clinic_day(3), 10), key="vitals-booking").body["appointmentId"]
    records = DynamoRepository(boto3.resource("dynamodb").Table(clinic.table_name), Reach(ORGANIZATION))
    now = datetime.now(UTC)
    records.save_escalation(None, Escalation(
        escalation_id="escalation-1", appointment_id=appointment, follow_up=1, clinic_id=CLINIC, patient_id=patient,
        reason="PHQ-9 item 9 above 0", started_at=now,
    ))
    assert clinic.call("GET", f"/appointments/{appointment}/vitals", role="clinician", user="doc-2").status == 200
    assert clinic.call("GET", "/escalations/escalation-1", role="clinician", user="doc-2").status == 200
    entries = clinic.call("GET", "/access-log", role="admin", query={"staffId": "sub-doc-2"}).body["entries"]
    assert [(e["patientId"], e["route"]) for e in entries] == [
        (patient, "GET /appointments/{appointmentId}/vitals"), (patient, "GET /escalations/{escalationId}"),
    ]


def test_a_search_accounts_for_each_patient_it_shows(clinic: World) -> None:
    alex = clinic.register_patient()["patientId"]
    robin = clinic.register_patient("patient-key-2", givenName="Robin", familyName="Shaw", phone="+15555550177")["patientId"]
    assert len(clinic.call("POST", "/patients/search", {"text": "rivera"}, user="desk-1").body["patients"]) == 1
    assert clinic.call("POST", "/patients/search", {"text": "nobody"}, user="desk-1").body["patients"] == []

    by_desk = clinic.call("GET", "/access-log", role="admin", query={"staffId": "sub-desk-1"}).body["entries"]
    assert [(e["patientId"], e["route"]) for e in by_desk] == [(alex, "POST /patients/search")]
    assert clinic.call("GET", "/access-log", role="admin", query={"patientId": robin}).body["entries"] == []

    assert len(clinic.call("POST", "/patients/search", {"text": "1980-04-02"}, user="desk-2").body["patients"]) == 2
    by_other = clinic.call("GET", "/access-log", role="admin", query={"staffId": "sub-desk-2"}).body["entries"]
    assert sorted(e["patientId"] for e in by_other) == sorted([alex, robin])
    assert len({e["requestId"] for e in by_other}) == 1  # one search, an entry per patient it showed
    assert "rivera" not in json.dumps(by_desk).lower()  # what was searched for is not kept either


def test_a_duplicate_warning_accounts_for_each_patient_it_shows(clinic: World) -> None:
    alex = clinic.register_patient()["patientId"]
    someone = {"givenName": "Zed", "familyName": "Other", "birthDate": "1990-01-01", "phone": "+15555550100", "confirmedNew": None}
    warned = clinic.call("POST", "/patients", patient_details(**someone), headers={"Idempotency-Key": "same-phone"}, user="desk-9")
    assert (warned.status, [p["patientId"] for p in warned.body["duplicates"]]) == (409, [alex])
    by_desk = clinic.call("GET", "/access-log", role="admin", query={"staffId": "sub-desk-9"}).body["entries"]
    assert [(e["patientId"], e["route"]) for e in by_desk] == [(alex, "POST /patients")]


def test_the_log_is_asked_for_one_patient_or_one_staff_member(clinic: World) -> None:
    for query in ({}, {"patientId": "p", "staffId": "s"}):
        reply = clinic.call("GET", "/access-log", role="admin", query=query)
        assert (reply.status, reply.body["fields"][0]["field"]) == (422, "patientId"), reply.body
    assert clinic.call("GET", "/access-log", role="front-desk", query={"patientId": "p"}).status == 403


def test_only_an_admin_of_every_clinic_reads_the_log(clinic: World) -> None:
    patient = clinic.register_patient()["patientId"]
    assert clinic.call("GET", f"/patients/{patient}", user="desk-1").status == 200
    for query in ({"patientId": patient}, {"staffId": "sub-desk-1"}):
        refused = clinic.call("GET", "/access-log", role="admin", clinics="north", query=query)
        assert (refused.status, refused.body["fields"][0]["field"]) == (403, "clinics"), refused.body
        assert len(clinic.call("GET", "/access-log", role="admin", query=query).body["entries"]) == 1


def test_another_practice_s_admin_sees_none_of_it(clinic: World) -> None:
    patient = clinic.register_patient()["patientId"]
    assert clinic.call("GET", f"/patients/{patient}").status == 200
    elsewhere = clinic.call("GET", "/access-log", role="admin", query={"patientId": patient}, organization="practice-b")
    assert (elsewhere.status, elsewhere.body["entries"]) == (200, [])
