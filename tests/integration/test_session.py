"""The session through the API: executions started and stopped, dose, vitals, discharge,
the REMS form and the board's phases. (The workflow's own execution is in tests/workflow.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from clinic.usecases import kernel
from clinic.adapters.stepfunctions import StepFunctionsEngine
from clinic.domain.errors import TemporarilyUnavailable

from tests.support.world import CHECKLIST, CLINIC, ORGANIZATION, World, at, clinic_day, dose_body, org_key

DAY = clinic_day()
START = at(DAY, 9)
FIRST_DEVICE = at(DAY, 9, 10)


def utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dose(**changes: object) -> dict:
    return dose_body(FIRST_DEVICE, **changes)


class Session:
    def __init__(self, world: World, monkeypatch: pytest.MonkeyPatch):
        self.world = world
        self.monkeypatch = monkeypatch
        self.patient = world.register_patient()
        reply = world.book(self.patient["patientId"], START, key="session-booking")
        assert reply.status == 201, reply.body
        self.appointment = reply.body
        self.path = f"/appointments/{self.appointment['appointmentId']}"

    def at(self, instant: datetime) -> None:
        self.monkeypatch.setattr(kernel, "utc_now", lambda: instant)

    def post(self, action: str, body: object = None, role: str = "clinician", **kwargs: object):
        return self.world.call("POST", f"{self.path}/{action}", body, role=role, **kwargs)

    def checked_in(self) -> Session:
        self.at(at(DAY, 8, 50))
        assert self.post("check-in", role="front-desk").status == 200
        return self

    def dosed(self) -> Session:
        self.checked_in().at(FIRST_DEVICE)
        reply = self.post("dose", dose())
        assert reply.status == 200, reply.body
        return self

    def executions(self) -> list[dict]:
        sfn = boto3.client("stepfunctions")
        found = sfn.list_executions(stateMachineArn=self.world.deployment.state_machine_arn)["executions"]
        return sorted(found, key=lambda e: e["name"])


@pytest.fixture
def session(clinic: World, monkeypatch: pytest.MonkeyPatch) -> Session:
    return Session(clinic, monkeypatch)


# --- one execution per appointment run ------------------------------------------------------
def test_booking_starts_one_execution_named_from_the_appointment_with_ids_only(session: Session) -> None:
    (execution,) = session.executions()
    assert execution["name"] == f"{session.appointment['appointmentId']}-1"
    described = boto3.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    payload = json.loads(described["input"])
    assert set(payload) == {"organizationId", "appointmentId", "run", "start", "reminders"}
    assert payload["organizationId"] == "practice-a"
    for value in (session.patient["givenName"], session.patient["familyName"], session.patient["phone"]):
        assert value not in described["input"]


def test_a_retried_booking_starts_no_second_execution(session: Session) -> None:
    body = {
        "clinicId": CLINIC,
        "patientId": session.patient["patientId"],
        "sessionType": "spravato",
        "chairId": "chair-1",
        "providerId": "nurse-a",
        "start": START.isoformat(),
    }
    again = session.world.call("POST", "/appointments", body, headers={"Idempotency-Key": "session-booking"})
    assert again.status == 201 and again.body["appointmentId"] == session.appointment["appointmentId"]
    assert len(session.executions()) == 1


def test_reschedule_stops_the_run_and_starts_the_next(session: Session) -> None:
    reply = session.post("reschedule", {"start": at(DAY, 13).isoformat()}, role="front-desk")
    assert reply.status == 200, reply.body
    assert reply.body["workflow"] == {"run": 2}
    first, second = session.executions()
    assert (first["name"][-2:], first["status"]) == ("-1", "ABORTED")
    assert (second["name"][-2:], second["status"]) == ("-2", "RUNNING")


def test_cancel_stops_the_execution(session: Session) -> None:
    assert session.post("cancel", {"reason": "feeling unwell"}, role="front-desk").status == 200
    (execution,) = session.executions()
    assert execution["status"] == "ABORTED"


def test_a_booking_whose_workflow_cannot_start_stands_and_needs_attention(clinic: World, monkeypatch) -> None:
    def unavailable(self, name: str, payload: dict) -> None:
        raise TemporarilyUnavailable("the care workflow could not be started")

    monkeypatch.setattr(StepFunctionsEngine, "start", unavailable)
    patient = clinic.register_patient()
    reply = clinic.book(patient["patientId"], START, key="no-workflow")
    assert reply.status == 201
    assert reply.body["status"] == "booked"
    assert "could not be started" in reply.body["attention"]["reason"]
    assert reply.body["phase"]["attention"] == reply.body["attention"]
    # Only a reschedule starts a new run: staff cannot wave the flag away.
    path = f"/appointments/{reply.body['appointmentId']}/attention/resolve"
    refused = clinic.call("POST", path, {"note": "seen"})
    assert refused.status == 409 and "reschedule" in refused.body["message"]
    (flagged,) = clinic.call("GET", f"/clinics/{CLINIC}/alerts").body["appointments"]
    assert flagged["attention"]["kind"] == "workflow"


# --- dosing ---------------------------------------------------------------------------------
def test_only_clinicians_record_a_dose(session: Session) -> None:
    session.checked_in().at(FIRST_DEVICE)
    before = session.world.items()
    for role in ("front-desk", "admin"):
        assert session.post("dose", dose(), role=role).status == 403
    assert session.world.items() == before


def test_a_dose_needs_the_patient_checked_in(session: Session) -> None:
    session.at(at(DAY, 8, 50))
    reply = session.post("dose", dose())
    assert reply.status == 409
    assert reply.body["message"] == "cannot record a dose for an appointment that is booked"


def test_high_pre_dose_pressure_needs_a_prescriber_override_recorded_with_who_and_why(session: Session) -> None:
    session.checked_in().at(FIRST_DEVICE)
    high = {"systolic": 152, "diastolic": 94}
    refused = session.post("dose", dose(preDoseBloodPressure=high))
    assert refused.status == 422
    assert [f["field"] for f in refused.body["fields"]] == ["override"]
    assert "152" not in refused.body["message"]  # errors never echo the values sent
    by_nurse = session.post("dose", dose(preDoseBloodPressure=high, override={"prescriberId": "nurse-a", "reason": "reviewed"}))
    assert [f["field"] for f in by_nurse.body["fields"]] == ["override.prescriberId"]

    override = {"prescriberId": "dr-b", "reason": "baseline hypertension, reviewed"}
    reply = session.post("dose", dose(preDoseBloodPressure=high, override=override), user="nurse-lee")
    assert reply.status == 200, reply.body
    recorded = reply.body["dose"]["override"]
    assert (recorded["prescriberId"], recorded["reason"], recorded["recordedBy"]) == ("dr-b", override["reason"], "sub-nurse-lee")
    entry = session.world.call("GET", f"{session.path}/audit").body["entries"][-1]
    assert (entry["action"], entry["actorName"], entry["reason"]) == ("record-dose", "nurse-lee", override["reason"])


def test_a_repeated_dose_click_writes_nothing_and_a_different_dose_is_refused(session: Session) -> None:
    session.dosed()
    before = session.world.items()
    again = session.post("dose", dose())
    assert again.status == 200 and again.body["version"] == 3
    assert session.world.items() == before
    other = session.post("dose", dose(doseMg=84, deviceCount=3))
    assert other.status == 409 and other.body["message"] == "a dose is already recorded for this appointment"


def test_spravato_dose_needs_a_lot_number_and_a_time_with_offset(session: Session) -> None:
    session.checked_in().at(FIRST_DEVICE)
    reply = session.post("dose", dose(lotNumber=None))
    assert reply.status == 422 and reply.body["fields"][0]["field"] == "lotNumber"
    naive = session.post("dose", dose(startedAt="2026-12-07T09:10:00"))
    assert naive.status == 422 and naive.body["fields"][0]["field"] == "startedAt"


# --- vitals ---------------------------------------------------------------------------------
def test_vitals_are_recorded_once_per_key_and_listed(session: Session) -> None:
    session.dosed().at(FIRST_DEVICE + timedelta(minutes=40))
    body = {"bloodPressure": {"systolic": 148, "diastolic": 92}, "heartRate": 88, "spo2": 97, "moaas": 4, "dissociation": 10}
    first = session.post("vitals", body, headers={"Idempotency-Key": "vitals-40min"})
    assert first.status == 201, first.body
    replay = session.post("vitals", body, headers={"Idempotency-Key": "vitals-40min"})
    assert replay.body == first.body
    listed = session.world.call("GET", f"{session.path}/vitals").body["vitals"]
    assert len(listed) == 1 and listed[0]["bloodPressure"] == body["bloodPressure"]
    assert listed[0]["takenAt"] == utc(FIRST_DEVICE + timedelta(minutes=40))  # stored in UTC


def test_a_pressure_above_the_limit_after_the_dose_flags_the_appointment_until_one_within_it(session: Session) -> None:
    session.dosed().at(FIRST_DEVICE + timedelta(minutes=40))

    def attention() -> dict | None:
        board = session.world.call("GET", f"/clinics/{CLINIC}/board", query={"date": DAY.isoformat()}).body
        (entry,) = board["appointments"]
        return entry["phase"].get("attention")

    at_limit = {"bloodPressure": {"systolic": 140, "diastolic": 90}}
    assert session.post("vitals", at_limit, headers={"Idempotency-Key": "vitals-at-limit"}).status == 201
    assert attention() is None  # the limit itself is not above it
    high = {"bloodPressure": {"systolic": 150, "diastolic": 94}}
    assert session.post("vitals", high, headers={"Idempotency-Key": "vitals-high-1"}).status == 201
    assert attention() == {
        "kind": "vitals",
        "reason": "blood pressure after the dose above 140/90: recheck and tell the prescriber",
        "since": utc(FIRST_DEVICE + timedelta(minutes=40)),
    }
    entries = session.world.call("GET", f"{session.path}/audit").body["entries"]
    assert [(e["action"], e["actorId"]) for e in entries][-1] == ("needs-attention", "sub-clinician-user")
    (flagged,) = session.world.call("GET", f"/clinics/{CLINIC}/alerts").body["appointments"]
    assert (flagged["appointmentId"], flagged["attention"]["kind"]) == (session.appointment["appointmentId"], "vitals")

    session.at(FIRST_DEVICE + timedelta(minutes=55))
    normal = {"bloodPressure": {"systolic": 132, "diastolic": 84}}
    assert session.post("vitals", normal, headers={"Idempotency-Key": "vitals-normal-2"}).status == 201
    assert attention() is None
    assert session.world.call("GET", f"/clinics/{CLINIC}/alerts").body["appointments"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"spo2": 101}, "spo2"),
        ({"moaas": 6}, "moaas"),
        ({"bloodPressure": {"systolic": 80, "diastolic": 90}}, "bloodPressure"),
        ({"heartRate": "fast"}, "heartRate"),
        ({"spo2": 97, "takenAt": "2030-01-01T00:00:00Z"}, "takenAt"),
    ],
)
def test_bad_vitals_name_the_field_and_store_nothing(session: Session, body: dict, field: str) -> None:
    session.dosed()
    before = session.world.items()
    reply = session.post("vitals", body, headers={"Idempotency-Key": f"bad-{field}"})
    assert reply.status == 422, reply.body
    assert reply.body["fields"][0]["field"].startswith(field)
    assert session.world.items() == before


# --- discharge ------------------------------------------------------------------------------
def test_spravato_discharge_refused_at_119_minutes_accepted_at_120(session: Session) -> None:
    session.dosed().at(FIRST_DEVICE + timedelta(minutes=119))
    early = session.post("discharge", {"checklist": CHECKLIST})
    assert early.status == 409
    assert early.body["message"].startswith("discharge is allowed from 11:10 (America/New_York)")
    session.at(FIRST_DEVICE + timedelta(minutes=120))
    reply = session.post("discharge", {"checklist": CHECKLIST})
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "fulfilled" and reply.body["phase"]["name"] == "discharged"


def test_an_incomplete_checklist_is_refused_naming_each_item(session: Session) -> None:
    session.dosed().at(FIRST_DEVICE + timedelta(hours=3))
    before = session.world.items()
    reply = session.post("discharge", {"checklist": {**CHECKLIST, "ridePresent": False, "vitalsAcceptable": False}})
    assert reply.status == 422
    assert [f["field"] for f in reply.body["fields"]] == ["checklist.vitalsAcceptable", "checklist.ridePresent"]
    assert session.world.items() == before


def test_a_checklist_item_answered_with_a_word_is_refused_not_taken_as_true(session: Session) -> None:
    session.dosed().at(FIRST_DEVICE + timedelta(minutes=125))
    reply = session.post("discharge", {"checklist": {**CHECKLIST, "ridePresent": "yes"}})
    assert reply.status == 422
    assert reply.body["fields"] == [{"field": "checklist.ridePresent", "problem": "must be true or false"}]


def test_discharge_frees_the_rest_of_the_chair_s_block_after_turnover(session: Session) -> None:
    session.checked_in().at(START)
    assert session.post("dose", dose(startedAt=START.isoformat())).status == 200
    # The 09:00 block holds chair-1 until 11:30; discharged at 11:00 plus 15 min turnover, it is free from 11:15.
    assert chair_held(session, at(DAY, 11)) and chair_held(session, at(DAY, 11, 15))
    session.at(START + timedelta(minutes=120))
    assert session.post("discharge", {"checklist": CHECKLIST}).status == 200
    assert chair_held(session, at(DAY, 11)) and not chair_held(session, at(DAY, 11, 15))


def chair_held(session: Session, grain: datetime) -> bool:
    key = {"pk": {"S": org_key(f"HOLD#{CLINIC}#{DAY.isoformat()}")}, "sk": {"S": f"chair#chair-1#{utc(grain)}"}}
    item = session.world.dynamodb.get_item(TableName=session.world.table_name, Key=key).get("Item", {})
    return session.appointment["appointmentId"] in item.get("holders", {}).get("SS", [])


def test_discharge_files_the_rems_form_from_the_session_records(session: Session) -> None:
    session.dosed().at(FIRST_DEVICE + timedelta(minutes=40))
    first = session.post("vitals", {"bloodPressure": {"systolic": 146, "diastolic": 90}}, headers={"Idempotency-Key": "vitals-one"})
    session.at(FIRST_DEVICE + timedelta(minutes=115))
    body = {"bloodPressure": {"systolic": 124, "diastolic": 80}, "moaas": 5}
    second = session.post("vitals", body, headers={"Idempotency-Key": "vitals-two"})
    assert (first.status, second.status) == (201, 201), (first.body, second.body)
    session.at(FIRST_DEVICE + timedelta(minutes=120))
    too_early = (FIRST_DEVICE - timedelta(minutes=5)).isoformat()
    refused = session.post("discharge", {"checklist": CHECKLIST, "readyAt": too_early})
    assert refused.status == 422 and refused.body["fields"][0]["field"] == "readyAt"
    ready = (FIRST_DEVICE + timedelta(minutes=95)).isoformat()
    assert session.post("discharge", {"checklist": CHECKLIST, "readyAt": ready}).status == 200
    forms = session.world.call("GET", f"/clinics/{CLINIC}/rems-forms").body["forms"]
    (form,) = forms
    assert form["appointmentId"] == session.appointment["appointmentId"]
    assert form["dueDate"] == (DAY + timedelta(days=7)).isoformat()
    assert (form["lotNumber"], form["minutesMonitored"], form["minutesUntilReady"]) == ("LOT-42", 120, 95)
    assert form["postDoseBloodPressure"] == {"systolic": 146, "diastolic": 90}
    assert form["preDischargeBloodPressure"] == {"systolic": 124, "diastolic": 80}


def test_a_repeated_discharge_click_changes_nothing(session: Session) -> None:
    session.dosed().at(FIRST_DEVICE + timedelta(minutes=125))
    first = session.post("discharge", {"checklist": CHECKLIST})
    before = session.world.items()
    again = session.post("discharge", {"checklist": CHECKLIST})
    assert again.status == 200 and again.body["version"] == first.body["version"]
    assert session.world.items() == before


def test_front_desk_cannot_discharge_nor_record_vitals(session: Session) -> None:
    session.dosed().at(FIRST_DEVICE + timedelta(minutes=125))
    assert session.post("discharge", {"checklist": CHECKLIST}, role="front-desk").status == 403
    assert session.post("vitals", {"spo2": 98}, role="front-desk", headers={"Idempotency-Key": "k"}).status == 403


# --- the board ------------------------------------------------------------------------------
def test_the_board_shows_each_appointment_s_phase(session: Session) -> None:
    session.dosed().at(FIRST_DEVICE + timedelta(minutes=30))
    board = session.world.call("GET", f"/clinics/{CLINIC}/board", query={"date": DAY.isoformat()}).body
    (entry,) = board["appointments"]
    assert entry["phase"] == {
        "name": "observing",
        "since": utc(FIRST_DEVICE),
        "dischargeAllowedAt": utc(FIRST_DEVICE + timedelta(minutes=120)),
        "bloodPressureDueAt": utc(FIRST_DEVICE + timedelta(minutes=40)),
    }
    assert "taskToken" not in json.dumps(board)


def test_a_check_in_landing_as_the_grace_ends_is_not_turned_into_a_no_show(session: Session) -> None:
    # The workflow read the appointment as booked; the front desk checks in before its no-show write.
    from clinic.api.app import ENVIRONMENTS
    from clinic.api.routing import use_cases_for
    from clinic.domain.tenancy import Reach

    session.at(START + timedelta(minutes=30))
    with ENVIRONMENTS.use():
        uses = use_cases_for(Reach(ORGANIZATION))  # what the front desk's request is given
        records = uses.appointments.records
        stale = records.get_appointment(session.appointment["appointmentId"])
        reads = iter([stale])
        real_get = records.get_appointment
        session.monkeypatch.setattr(records, "get_appointment", lambda i: next(reads, None) or real_get(i))
        assert session.post("check-in", role="front-desk").status == 200
        missed = uses.care_workflow.missed_check_in(session.appointment["appointmentId"], run=1)
        assert missed == {"arrived": True}
    assert session.world.call("GET", session.path).body["status"] == "arrived"


def discharged(session: Session) -> Session:
    session.dosed().at(FIRST_DEVICE + timedelta(minutes=120))
    assert session.post("discharge", {"checklist": CHECKLIST}).status == 200
    return session


def test_a_rems_form_due_tomorrow_is_on_the_alerts_until_someone_marks_it_submitted(session: Session) -> None:
    world = discharged(session).world
    alerts = lambda: world.call("GET", f"/clinics/{CLINIC}/alerts").body["remsFormsDueSoon"]
    session.at(at(DAY + timedelta(days=5), 12))
    assert alerts() == []  # due in 2 days
    session.at(at(DAY + timedelta(days=6), 9))
    assert alerts() == [{"appointmentId": session.appointment["appointmentId"], "patientId": session.patient["patientId"], "dueDate": (DAY + timedelta(days=7)).isoformat()}]

    assert session.post("rems-form/submit", role="front-desk").status == 403
    marked = session.post("rems-form/submit", role="clinician")
    assert marked.status == 200
    assert (marked.body["status"], marked.body["submittedBy"]) == ("submitted", "clinician-user")
    assert marked.body["submittedAt"].startswith((DAY + timedelta(days=6)).isoformat())
    assert alerts() == [] and world.call("GET", f"/clinics/{CLINIC}/rems-forms").body["forms"] == []
    again = session.post("rems-form/submit", role="admin")
    assert again.status == 409 and "already marked submitted by clinician-user" in again.body["message"]


def test_an_overdue_rems_form_stays_on_the_alerts(session: Session) -> None:
    world = discharged(session).world
    session.at(at(DAY + timedelta(days=9), 9))
    (overdue,) = world.call("GET", f"/clinics/{CLINIC}/alerts").body["remsFormsDueSoon"]
    assert overdue["dueDate"] == (DAY + timedelta(days=7)).isoformat()


def test_marking_a_form_that_does_not_exist_is_404(session: Session) -> None:
    assert session.post("rems-form/submit").status == 404  # booked, never discharged: no form
