"""Two practices, each with clinics and every role: nobody reaches another practice's records,
nor a clinic of their own practice they do not work at.

Every staff route (read from the resolver, so a new route joins by itself) is called by every
role it admits with the ids of another organization's records (expected 404: ids never reveal
what exists elsewhere) and, as a staff member limited to clinic `north`, with the ids of
clinic `south` of the same practice (403 for a clinic's own routes, 404 for a record of it).
After every refused call the whole table is byte-for-byte what it was.

Patients, their answers and scores belong to the practice, shared by its clinics like a
chart: the other-clinic cases leave out routes that address only a patient."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from clinic.adapters.dynamodb import DynamoRepository
from clinic.api.app import ROUTES
from clinic.domain.escalations import ClinicianTask, Escalation
from clinic.domain.tenancy import Reach
from moto import mock_aws

from tests.support.bodies import DAY, START, body_for
from tests.support.world import CLINIC, ORGANIZATION, World, at

OTHER_ORGANIZATION = "practice-b"
OTHER_ORG_CLINIC = "east"
OTHER_CLINIC = "south"  # of the same practice as CLINIC ("north")


class Victims:
    """One of each record a route can name, in one clinic, through the API as its own staff would."""

    def __init__(self, world: World, organization: str, clinic: str, *, patient: str | None = None):
        def call(method: str, path: str, body: Any, key: str) -> dict[str, Any]:
            reply = world.call(method, path, body, headers={"Idempotency-Key": key}, organization=organization)
            assert reply.status in (200, 201), reply.body
            return reply.body

        world.set_up_clinic(clinic=clinic, organization=organization)
        self.clinic = clinic
        self.patient = patient or world.register_patient(f"victim-{organization}", organization=organization)["patientId"]
        self.appointment = world.book(
            self.patient, START, key=f"victim-{clinic}", clinic=clinic, organization=organization
        ).body["appointmentId"]
        course = {
            "clinicId": clinic, "patientId": self.patient, "template": "iv-booster",
            "sessions": [{"start": at(DAY + timedelta(days=3), 9).isoformat(), "chairId": "chair-2", "providerId": "nurse-a"}],
        }
        self.course = call("POST", "/courses", course, f"course-{clinic}")["courseId"]
        wish = {"patientId": self.patient, "sessionType": "spravato", "weekdays": ["mon"], "earliest": "08:00", "latest": "12:00"}
        self.entry = call("POST", f"/clinics/{clinic}/waitlist", wish, f"wish-{clinic}")["entryId"]
        # A suicide-risk escalation and a clinician's task, as the follow-up workflow leaves them.
        records = DynamoRepository(boto3.resource("dynamodb").Table(world.table_name), Reach(organization))
        now = datetime.now(UTC)
        common = {"appointment_id": self.appointment, "follow_up": 1, "clinic_id": clinic, "patient_id": self.patient}
        self.escalation = f"escalation-{clinic}"
        records.save_escalation(None, Escalation(escalation_id=self.escalation, reason="item 9", started_at=now, **common))
        self.task = f"task-{clinic}"
        records.save_task(None, ClinicianTask(task_id=self.task, reason="call", created_at=now, due_at=now, **common))
        self.member = f"victim-desk-{clinic}"
        member = {
            "username": self.member, "email": f"{self.member}@example.com", "givenName": "Vic", "familyName": "Tim",
            "role": "front-desk", "clinics": [clinic],
        }
        reply = world.call("POST", "/staff", member, role="admin", headers={"Idempotency-Key": f"member-{clinic}"}, organization=organization)
        assert reply.status == 201, reply.body

    def ids(self) -> dict[str, str]:
        return {
            "clinic_id": self.clinic, "chair_id": "chair-1", "provider_id": "nurse-a", "patient_id": self.patient,
            "appointment_id": self.appointment, "course_id": self.course, "entry_id": self.entry,
            "escalation_id": self.escalation, "task_id": self.task, "username": self.member,
        }


class Practices:
    def __init__(self, world: World):
        self.world = world
        world.set_up_clinic()  # practice-a's north, where the callers work
        self.other_organization = Victims(world, OTHER_ORGANIZATION, OTHER_ORG_CLINIC)
        world.set_up_clinic(clinic="west", organization=OTHER_ORGANIZATION)  # each practice has two clinics
        self.other_clinic = Victims(world, ORGANIZATION, OTHER_CLINIC)


@pytest.fixture(scope="module")
def practices(template) -> Iterator[Practices]:
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        yield Practices(World(template, patch))


def names_a_record(path: str, body: dict[str, Any] | None) -> bool:
    return "<" in path or bool(body and {"clinicId", "patientId"} & set(body))


STAFF_ROUTES = [policy for policy, _ in ROUTES if policy.groups]
PATIENT_ONLY = re.compile(r"^/patients/<patient_id>(/[a-z]+)?$")
CASES = [
    pytest.param(policy, role, case, id=f"{policy.method} {policy.path} as {role} with {case} ids")
    for policy in STAFF_ROUTES
    for role in sorted(policy.groups)
    for case in ("other-organization", "other-clinic")
    if "<" in policy.path or policy.path in ("/appointments", "/courses", "/courses/plan")
    if not (case == "other-clinic" and PATIENT_ONLY.match(policy.path))
]


@pytest.mark.parametrize(("policy", "role", "case"), CASES)
def test_another_practice_s_or_clinic_s_ids_reach_nothing(practices: Practices, policy, role: str, case: str) -> None:
    world = practices.world
    victims = practices.other_organization if case == "other-organization" else practices.other_clinic
    ids = victims.ids()
    path = re.sub(r"<([^>]+)>", lambda m: ids[m.group(1)], policy.path)
    body = body_for(policy.method, policy.path, ids)
    query = {"date": DAY.isoformat(), "sessionType": "spravato"} if policy.method == "GET" else None
    before = world.items()
    reply = world.call(
        policy.method, path, body, role=role, query=query, headers={"Idempotency-Key": f"intruder-{abs(hash((policy.method, policy.path, role, case)))}"},
        clinics="*" if case == "other-organization" else CLINIC,
    )
    if case == "other-organization" and policy.path == "/clinics/<clinic_id>" and policy.method == "PUT":
        # An admin may create a clinic of that name in their own practice; the other's is untouched.
        assert reply.status == 200, reply.body
        assert [i for i in world.items() if OTHER_ORGANIZATION in i["pk"]["S"]] == [
            i for i in before if OTHER_ORGANIZATION in i["pk"]["S"]
        ]
        world.dynamodb.delete_item(TableName=world.table_name, Key={"pk": {"S": f"ORG#{ORGANIZATION}#CLINIC#{OTHER_ORG_CLINIC}"}, "sk": {"S": "PROFILE"}})
        return
    allowed = {404} if case == "other-organization" else {403, 404}
    if policy.path in ("/appointments", "/courses", "/courses/plan", "/clinics/<clinic_id>/waitlist") and case == "other-organization":
        allowed = {404, 422}  # a body naming another practice's patient: "no such patient", naming the field
    assert reply.status in allowed, (reply.status, reply.body)
    assert world.items() == before  # byte for byte: nothing written, not even an audit entry


def test_the_matrix_covers_every_staff_route_that_names_a_record() -> None:
    covered = {(p.values[0].method, p.values[0].path) for p in CASES}
    naming = {(p.method, p.path) for p in STAFF_ROUTES if names_a_record(p.path, body_for(p.method, p.path, {"clinic_id": "", "patient_id": ""}))}
    assert covered == naming
    assert len(CASES) > 150


def test_every_stored_key_starts_with_its_organization(practices: Practices) -> None:
    partitions = [
        item[key]["S"] for item in practices.world.items() for key in ("pk", "gsi1pk", "gsi2pk") if key in item
    ]
    assert partitions and all(
        p.startswith((f"ORG#{ORGANIZATION}#", f"ORG#{OTHER_ORGANIZATION}#")) for p in partitions
    ), [p for p in partitions if not p.startswith("ORG#")]
    assert any(p.startswith(f"ORG#{OTHER_ORGANIZATION}#APPT#") for p in partitions)


def test_the_same_id_in_two_practices_is_two_records(practices: Practices) -> None:
    world = practices.world
    mine = world.call("GET", f"/clinics/{CLINIC}").body
    assert world.call("GET", f"/clinics/{CLINIC}", organization=OTHER_ORGANIZATION).status == 404
    assert world.call("GET", f"/clinics/{OTHER_ORG_CLINIC}", organization=OTHER_ORGANIZATION).status == 200
    assert world.call("GET", f"/clinics/{CLINIC}").body == mine


def test_a_token_without_a_practice_reaches_nothing(practices: Practices) -> None:
    world = practices.world
    for organization in ("", "Not An Id"):
        reply = world.call("GET", f"/clinics/{CLINIC}", organization=organization)
        assert (reply.status, reply.body["code"]) == (403, "forbidden"), reply.body
    reply = world.call("GET", f"/clinics/{CLINIC}", clinics="")
    assert reply.status == 403
