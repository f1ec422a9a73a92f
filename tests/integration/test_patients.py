"""Finding a patient (POST /patients/search) and the duplicate check at registration, through
the real handler on moto. Search terms and replies carry PHI: none of it reaches a log, and
a refusal names the field, never the value."""

from __future__ import annotations

from tests.support.logs import captured_logs
from tests.support.world import World, ORGANIZATION, org_key, patient_details


def search(world: World, query: object, role: str = "clinician", organization: str = ORGANIZATION) -> dict:
    reply = world.call("POST", "/patients/search", {"text": query}, role=role, organization=organization)
    assert reply.status == 200, reply.body
    return reply.body


def test_a_patient_is_found_by_name_birth_date_or_phone_and_nothing_of_it_is_logged(world: World) -> None:
    zoe = world.register_patient(key="zoe-patient-key", givenName="Zoë", familyName="O'Brien", phone="+15555550142", confirmedNew=None)
    world.register_patient(key="zack-patient-key", givenName="Zack", familyName="Other", birthDate="1990-01-01",
                           phone="+15555550143", confirmedNew=None)
    match = {k: zoe[k] for k in ("patientId", "givenName", "familyName", "birthDate", "phone")}

    with captured_logs() as logs:
        for typed in ("zoe", "OBRIEN", "o'brien z", "1980-04-02", "555-0142", "+1 555 555 0142"):
            assert search(world, typed) == {"patients": [match], "more": False}, typed
    assert [p["givenName"] for p in search(world, "za")["patients"]] == ["Zack"]
    assert search(world, "Nobody")["patients"] == []
    for leaked in ("Zo", "O'Brien", "obrien", "1980-04-02", "0142"):
        assert leaked not in logs.text


def test_a_search_refused_names_the_field_and_never_the_value(world: World) -> None:
    for typed, problem in (("Q", "at least 2 letters"), ("12", "at least 4 digits"), ("1980-13-45", "not a real date"), ("", "")):
        reply = world.call("POST", "/patients/search", {"text": typed})
        assert reply.status == 422, typed
        assert reply.body["fields"][0]["field"] == "text"
        assert problem in reply.body["fields"][0]["problem"]
        assert not typed or typed not in reply.body["message"]


def test_registering_the_same_person_again_is_a_409_naming_them_unless_confirmed(world: World) -> None:
    first = world.register_patient(key="first-patient-key", confirmedNew=None)
    named = {k: first[k] for k in ("patientId", "givenName", "familyName", "birthDate", "phone")}

    same_name = world.call("POST", "/patients", patient_details(givenName="ALEX", phone="+15555550999", confirmedNew=None),
                           headers={"Idempotency-Key": "second-patient-key"})
    same_phone = world.call("POST", "/patients", patient_details(givenName="Kim", birthDate="1999-09-09", confirmedNew=None),
                            headers={"Idempotency-Key": "third-patient-key"})
    not_a_boolean = world.call("POST", "/patients", patient_details(confirmedNew="yes"), headers={"Idempotency-Key": "fourth-patient-key"})

    for refused in (same_name, same_phone):
        assert refused.status == 409, refused.body
        assert refused.body["code"] == "possible_duplicate"
        assert refused.body["duplicates"] == [named]
        assert "Rivera" not in refused.body["message"] and "Alex" not in refused.body["message"]
    assert not_a_boolean.status == 422 and not_a_boolean.body["fields"][0]["field"] == "confirmedNew"
    assert search(world, "rivera")["patients"] == [named]  # nothing else was registered

    confirmed = world.call("POST", "/patients", patient_details(givenName="ALEX", phone="+15555550999", confirmedNew=True),
                           headers={"Idempotency-Key": "second-patient-key"})
    assert confirmed.status == 201
    assert {p["patientId"] for p in search(world, "rivera")["patients"]} == {first["patientId"], confirmed.body["patientId"]}


def test_a_patient_and_its_index_entries_are_written_together_carrying_only_the_id(world: World) -> None:
    patient = world.register_patient(key="indexed-patient", confirmedNew=None)["patientId"]

    index = [item for item in world.items() if item["pk"]["S"] == org_key("PATIENT-INDEX")]

    assert sorted(item["sk"]["S"] for item in index) == sorted([
        f"NAME#alex rivera#{patient}", f"NAME#rivera alex#{patient}", f"BIRTH#1980-04-02#{patient}", f"PHONE#00105555551#{patient}",
    ])
    assert all(set(item) == {"pk", "sk", "type", "patientId"} and item["patientId"]["S"] == patient for item in index)


def test_another_practice_finds_none_of_this_practice_s_patients(world: World) -> None:
    patient = world.register_patient(key="practice-a-patient", confirmedNew=None)["patientId"]
    for text in ("rivera", "alex rivera", "1980-04-02", "555-0100"):
        assert [p["patientId"] for p in search(world, text)["patients"]] == [patient]
        assert search(world, text, organization="practice-b")["patients"] == []
    # The other practice registers the same person without a duplicate warning: its own chart.
    other = world.call(
        "POST", "/patients", patient_details(confirmedNew=None), headers={"Idempotency-Key": "practice-b-patient"}, organization="practice-b"
    )
    assert other.status == 201, other.body
    assert [p["patientId"] for p in search(world, "rivera", organization="practice-b")["patients"]] == [other.body["patientId"]]
    assert [p["patientId"] for p in search(world, "rivera")["patients"]] == [patient]


def test_a_name_that_normalizes_to_many_letters_registers_and_is_found(world: World) -> None:
    long_name = "\ufdfa" * 20  # each becomes 18 letters: the index key would pass DynamoDB's 1024 bytes
    reply = world.call(
        "POST", "/patients", patient_details(givenName=long_name, familyName=long_name, confirmedNew=None),
        headers={"Idempotency-Key": "long-name-patient"},
    )
    assert reply.status == 201, reply.body
    assert [p["patientId"] for p in search(world, f"{long_name} {long_name}")["patients"]] == [reply.body["patientId"]]
