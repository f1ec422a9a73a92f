"""Courses through the API on moto: planning across a DST change, around a holiday closure and
a full week day, all-or-nothing booking, make-up sessions and cancelling the rest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import boto3
import pytest
from clinic.adapters.dynamodb import DynamoRepository
from clinic.domain.errors import TemporarilyUnavailable

from tests.integration.conftest import clinic_world
from tests.support.world import CLINIC, CLINIC_PROFILE, World, at, org_key

# The course below starts Monday 2027-03-01 (the clock is conftest's FIXED_NOW, five days before)
# and crosses the start of daylight saving time (Sunday 2027-03-14).
FIRST_DAY = date(2027, 3, 1)
MON_THU_9 = [{"weekday": "mon", "at": "09:00"}, {"weekday": "thu", "at": "09:00"}]
HOLIDAY = date(2027, 3, 11)  # a Thursday: session 4


class CourseWorld(World):
    def plan(self, patient_id: str, template: str = "spravato-induction", **changes: Any) -> Any:
        body = {
            "clinicId": CLINIC,
            "patientId": patient_id,
            "template": template,
            "startDate": FIRST_DAY.isoformat(),
            "preferredTimes": MON_THU_9,
            **changes,
        }
        return self.call("POST", "/courses/plan", body)

    def book_course(self, patient_id: str, sessions: list[dict[str, Any]], key: str, template: str = "spravato-induction") -> Any:
        body = {"clinicId": CLINIC, "patientId": patient_id, "template": template, "sessions": sessions}
        return self.call("POST", "/courses", body, headers={"Idempotency-Key": key})

    def executions(self) -> list[dict[str, Any]]:
        sfn = boto3.client("stepfunctions")
        return sfn.list_executions(stateMachineArn=self.deployment.environment["STATE_MACHINE_ARN"])["executions"]

    def patient_sessions(self, patient_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/patients/{patient_id}/appointments").body["appointments"]

    def state(self) -> list[dict[str, Any]]:
        """Every item that means something: a held-time record whose last holder left holds nothing
        (DynamoDB drops the emptied set; TTL removes the record), and a patient's schedule count
        is only a token for concurrent bookings (a rolled-back session leaves it raised)."""
        return [
            i for i in self.items()
            if not (i["pk"]["S"].startswith(org_key("HOLD#")) and "holders" not in i) and i["sk"]["S"] != "SCHEDULE"
        ]

    def holds_of(self, appointment_ids: set[str]) -> list[str]:
        return [
            item["sk"]["S"]
            for item in self.items()
            if item["pk"]["S"].startswith(org_key("HOLD#")) and appointment_ids & set(item.get("holders", {}).get("SS", []))
        ]


def placements(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: s["placement"][k] for k in ("start", "chairId", "providerId")} for s in plan["sessions"]]


@pytest.fixture
def courses(template, monkeypatch: pytest.MonkeyPatch, fixed_clock: datetime) -> Iterator[CourseWorld]:
    yield from clinic_world(CourseWorld, template, monkeypatch)


@pytest.fixture
def patient(courses: CourseWorld) -> str:
    return courses.register_patient(key="course-patient")["patientId"]


def test_the_plan_keeps_09_00_local_across_the_dst_change(courses: CourseWorld, patient: str) -> None:
    reply = courses.plan(patient)

    assert reply.status == 200, reply.body
    plan = reply.body
    assert plan["bookable"] and plan["timeZone"] == "America/New_York"
    assert [s["number"] for s in plan["sessions"]] == list(range(1, 13))
    assert not any(s["mustMove"] for s in plan["sessions"])
    local = [s["placement"]["startLocal"] for s in plan["sessions"]]
    assert local[3] == "2027-03-11T09:00:00-05:00" and local[4] == "2027-03-15T09:00:00-04:00"
    assert all("T09:00:00-0" in start for start in local)
    utc = [s["placement"]["start"] for s in plan["sessions"]]
    assert utc[3] == "2027-03-11T14:00:00Z" and utc[4] == "2027-03-15T13:00:00Z"
    assert local[8:] == [f"2027-{d}T09:00:00-04:00" for d in ("03-29", "04-05", "04-12", "04-19")]


def test_a_holiday_closure_moves_its_session_to_the_nearest_day_within_the_spacing(courses: CourseWorld, patient: str) -> None:
    profile = {**CLINIC_PROFILE, "closures": [HOLIDAY.isoformat()]}
    assert courses.call("PUT", f"/clinics/{CLINIC}", profile, role="admin").status == 200

    sessions = courses.plan(patient).body["sessions"]

    closed = sessions[3]
    assert closed["mustMove"] and closed["problem"] == "the clinic is closed on that day"
    alternatives = closed["alternatives"]
    assert alternatives and closed["placement"] == alternatives[0]
    before = datetime.fromisoformat(sessions[2]["placement"]["start"])
    after = datetime.fromisoformat(sessions[4]["placement"]["start"])
    for alternative in alternatives:
        start = datetime.fromisoformat(alternative["start"])
        assert not alternative["startLocal"].startswith(HOLIDAY.isoformat())
        assert start - before >= timedelta(hours=48) and after - start >= timedelta(hours=48)
    # Wednesday and Friday are both a day away at the preferred 09:00 and keep 48 h from their neighbours:
    # the earlier wins.
    assert alternatives[0]["startLocal"] == "2027-03-10T09:00:00-05:00"
    assert {s["number"] for s in sessions if s["mustMove"]} == {4}


def test_a_full_morning_moves_only_that_session_to_the_first_free_time(courses: CourseWorld, patient: str) -> None:
    thursday = date(2027, 3, 4)  # session 2
    for n, (chair, provider) in enumerate([("chair-1", "nurse-a"), ("chair-2", "nurse-a"), ("chair-3", "dr-b")]):
        other = courses.register_patient(key=f"other-patient-{n}")["patientId"]
        assert courses.book(other, at(thursday, 9), key=f"other-booking-{n}", chair=chair, provider=provider).status == 201

    sessions = courses.plan(patient).body["sessions"]

    assert [s["number"] for s in sessions if s["mustMove"]] == [2]
    assert sessions[1]["problem"] == "no chair and provider are free for the whole session"
    # Every chair is held 09:00-11:30 (dosing, 2 h observation, turnover): 11:30 is the nearest free start.
    assert sessions[1]["placement"]["startLocal"] == "2027-03-04T11:30:00-05:00"


def test_booking_the_plan_books_every_session_with_its_own_workflow(courses: CourseWorld, patient: str) -> None:
    plan = courses.plan(patient).body

    reply = courses.book_course(patient, placements(plan), key="course-1")

    assert reply.status == 201, reply.body
    course = reply.body
    assert course["status"] == "active" and course["template"] == "spravato-induction"
    assert len(course["sessions"]) == 12 and all(s["courseId"] == course["courseId"] for s in course["sessions"])
    assert [s["start"] for s in course["sessions"]] == [p["start"] for p in placements(plan)]
    assert len(courses.executions()) == 12
    again = courses.call("GET", f"/courses/{course['courseId']}")
    assert again.status == 200 and [s["appointmentId"] for s in again.body["sessions"]] == [s["appointmentId"] for s in course["sessions"]]


def test_a_conflict_on_session_7_books_nothing_at_all(courses: CourseWorld, patient: str) -> None:
    plan = courses.plan(patient).body
    seventh = plan["sessions"][6]["placement"]
    rival = courses.register_patient(key="rival-patient")["patientId"]
    taken = courses.book(rival, datetime.fromisoformat(seventh["start"]), key="rival-booking", chair=seventh["chairId"], provider=seventh["providerId"])
    assert taken.status == 201
    before = courses.state()

    reply = courses.book_course(patient, placements(plan), key="course-conflict")

    assert reply.status == 409 and reply.body["message"].startswith("session 7: the chair is already booked")
    assert courses.state() == before  # no orphan appointment, audit entry, held time or course record
    assert courses.patient_sessions(patient) == []
    assert [e["name"] for e in courses.executions()] == [f"{taken.body['appointmentId']}-1"]


def test_a_database_failure_mid_way_rolls_the_course_back(courses: CourseWorld, patient: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = courses.plan(patient).body
    before = courses.state()
    create = DynamoRepository.create_appointment
    calls = {"n": 0}

    def fifth_fails(self: DynamoRepository, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise TemporarilyUnavailable("the database is busy; retry shortly")
        create(self, *args, **kwargs)

    monkeypatch.setattr(DynamoRepository, "create_appointment", fifth_fails)
    reply = courses.book_course(patient, placements(plan), key="course-failure")

    assert reply.status == 503 and reply.headers.get("Retry-After")
    assert calls["n"] == 5
    assert courses.state() == before
    assert courses.executions() == []
    monkeypatch.setattr(DynamoRepository, "create_appointment", create)
    retried = courses.book_course(patient, placements(plan), key="course-failure-retry")
    assert retried.status == 201 and len(retried.body["sessions"]) == 12


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda s: s[:11], "sessions", "has 12 sessions; got 11"),
        (lambda s: [s[0], {**s[1], "start": (datetime.fromisoformat(s[0]["start"]) + timedelta(hours=24)).isoformat()}, *s[2:]],
         "sessions[1].start", "less than 48 h"),
        (lambda s: [{**s[0], "chairId": "chair-9"}, *s[1:]], "sessions[0].chairId", "no active chair"),
    ],
    ids=["wrong count", "too close", "unknown chair"],
)
def test_a_course_that_breaks_a_rule_is_refused_naming_the_field(courses: CourseWorld, patient: str, change, field: str, message: str) -> None:
    sessions = placements(courses.plan(patient).body)
    before = courses.state()

    reply = courses.book_course(patient, change(sessions), key="bad-course-booking")

    assert reply.status == 422
    assert any(d["field"] == field and message in d["problem"] for d in reply.body["fields"]), reply.body
    assert courses.state() == before


def test_rems_gates_courses_for_patient_and_clinic(courses: CourseWorld) -> None:
    unenrolled = courses.register_patient(key="unenrolled", remsEnrolled=False)["patientId"]
    refused = courses.plan(unenrolled)
    assert refused.status == 422 and refused.body["fields"][0]["field"] == "patientId"

    enrolled = courses.register_patient(key="enrolled")["patientId"]
    sessions = placements(courses.plan(enrolled).body)
    not_enrolled_booking = courses.book_course(unenrolled, sessions, key="unenrolled-course")
    assert not_enrolled_booking.status == 422 and not_enrolled_booking.body["fields"][0]["field"] == "patientId"

    uncertified = {**CLINIC_PROFILE, "remsCertified": False}
    assert courses.call("PUT", f"/clinics/{CLINIC}", uncertified, role="admin").status == 200
    for reply in (courses.plan(enrolled), courses.book_course(enrolled, sessions, key="uncertified-course")):
        assert reply.status == 422 and reply.body["fields"][0]["field"] == "clinicId"
    assert courses.patient_sessions(enrolled) == [] and courses.patient_sessions(unenrolled) == []


def test_cancelling_one_session_offers_a_make_up_after_the_last(courses: CourseWorld, patient: str) -> None:
    course = courses.book_course(patient, placements(courses.plan(patient).body), key="course-make-up").body
    third = course["sessions"][2]

    cancelled = courses.call("POST", f"/appointments/{third['appointmentId']}/cancel", {"reason": "patient unwell"})

    assert cancelled.status == 200 and cancelled.body["status"] == "cancelled"
    offer = cancelled.body["courseMakeUp"]
    # One week after the last session (Monday 19 April), at its time: the rest keep their times.
    assert offer["wantedLocal"] == "2027-04-26T09:00:00-04:00" and not offer["mustMove"]
    made_up = courses.call(
        "POST", f"/courses/{course['courseId']}/sessions",
        {k: offer["placement"][k] for k in ("start", "chairId", "providerId")}, headers={"Idempotency-Key": "make-up-1"},
    )
    assert made_up.status == 201 and made_up.body["courseId"] == course["courseId"]
    sessions = courses.call("GET", f"/courses/{course['courseId']}").body["sessions"]
    assert len(sessions) == 13 and [s["status"] for s in sessions].count("booked") == 12


def test_a_make_up_too_close_to_another_session_is_refused(courses: CourseWorld, patient: str) -> None:
    course = courses.book_course(patient, placements(courses.plan(patient).body), key="course-close").body
    last = course["sessions"][-1]
    too_close = {"start": (datetime.fromisoformat(last["start"]) + timedelta(hours=24)).isoformat(), "chairId": "chair-2", "providerId": "nurse-a"}

    reply = courses.call("POST", f"/courses/{course['courseId']}/sessions", too_close, headers={"Idempotency-Key": "close-make-up"})

    assert reply.status == 422 and reply.body["fields"][0]["field"] == "start"
    assert len(courses.call("GET", f"/courses/{course['courseId']}").body["sessions"]) == 12


def test_cancelling_the_course_cancels_what_is_left_and_stops_their_workflows(courses: CourseWorld, patient: str) -> None:
    course = courses.book_course(patient, placements(courses.plan(patient).body), key="course-cancel").body

    reply = courses.call("POST", f"/courses/{course['courseId']}/cancel", {"reason": "patient moved away"})

    assert reply.status == 200, reply.body
    assert reply.body["status"] == "cancelled" and reply.body["cancellationReason"] == "patient moved away"
    assert {s["status"] for s in reply.body["sessions"]} == {"cancelled"}
    assert {e["status"] for e in courses.executions()} == {"ABORTED"}
    assert courses.holds_of({s["appointmentId"] for s in course["sessions"]}) == []
    again = courses.call("POST", f"/courses/{course['courseId']}/cancel", {"reason": "patient moved away"})
    assert again.status == 200 and again.body["status"] == "cancelled"
    assert courses.call("GET", f"/courses/{course['courseId']}/make-up").status == 409


def test_an_unknown_course_is_404_and_an_unknown_template_422(courses: CourseWorld, patient: str) -> None:
    assert courses.call("GET", "/courses/nope").status == 404
    reply = courses.plan(patient, template="nope")
    assert reply.status == 422 and reply.body["fields"][0]["field"] == "template"


class LambdaDied(BaseException):
    """A timeout or crash: nothing in the function gets to clean up."""


def test_a_booking_cut_short_is_undone_by_its_retry_which_books_the_course_once(
    courses: CourseWorld, patient: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = courses.plan(patient).body
    create = DynamoRepository.create_appointment
    calls = {"n": 0}

    def dies_on_the_fifth(self: DynamoRepository, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise LambdaDied
        create(self, *args, **kwargs)

    monkeypatch.setattr(DynamoRepository, "create_appointment", dies_on_the_fifth)
    with pytest.raises(LambdaDied):
        courses.book_course(patient, placements(plan), key="course-cut-short")
    assert len(courses.patient_sessions(patient)) == 4  # four sessions written, no workflow for them
    monkeypatch.setattr(DynamoRepository, "create_appointment", create)
    name = courses.deployment.environment["IDEMPOTENCY_TABLE_NAME"]
    for item in courses.dynamodb.scan(TableName=name)["Items"]:  # the in-progress record expires
        courses.dynamodb.delete_item(TableName=name, Key={"id": item["id"]})

    retried = courses.book_course(patient, placements(plan), key="course-cut-short")

    assert retried.status == 201, retried.body
    sessions = courses.patient_sessions(patient)
    assert len(sessions) == 12 and {s["courseId"] for s in sessions} == {retried.body["courseId"]}
    assert len(courses.executions()) == 12
    held = courses.holds_of({s["appointmentId"] for s in sessions})
    assert len(held) == len(set(held)) and len([i for i in courses.state() if i["pk"]["S"].startswith(org_key("HOLD#"))]) == len(held)
