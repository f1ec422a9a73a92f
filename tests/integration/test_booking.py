"""Booking through the real handler on moto: conflicts, capacity, concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tests.support.world import CLINIC, CLINIC_PROFILE, World, at, clinic_day, org_key


def test_clinic_configuration_lists_chairs_providers_and_session_types(clinic: World) -> None:
    reply = clinic.call("GET", f"/clinics/{CLINIC}")
    assert reply.status == 200
    assert [c["chairId"] for c in reply.body["chairs"]] == ["chair-1", "chair-2", "chair-3"]
    assert {p["providerId"] for p in reply.body["providers"]} == {"nurse-a", "dr-b"}
    assert reply.body["sessionTypes"]["spravato"]["blockMinutes"] == 150
    assert reply.body["timeZone"] == "America/New_York"


def test_availability_removes_the_booked_chair_for_the_whole_block(clinic: World) -> None:
    day = clinic_day()
    patient = clinic.register_patient()
    assert clinic.book(patient["patientId"], at(day, 10), key="book-10am").status == 201

    reply = clinic.call("GET", f"/clinics/{CLINIC}/availability", query={"date": day.isoformat(), "sessionType": "spravato"})
    assert reply.status == 200, reply.body
    by_local = {slot["startLocal"][11:16]: slot for slot in reply.body["slots"]}
    assert "chair-1" not in by_local["08:00"]["chairIds"]  # 08:00-10:30 overlaps 10:00-12:30
    assert "chair-1" not in by_local["12:15"]["chairIds"]
    assert "chair-1" in by_local["12:30"]["chairIds"]
    assert by_local["10:00"]["chairIds"] == ["chair-2", "chair-3"]


def test_an_overlapping_booking_on_the_same_chair_is_refused_with_409(clinic: World) -> None:
    day = clinic_day()
    patient = clinic.register_patient()
    other = clinic.register_patient(key="other-patient")
    assert clinic.book(patient["patientId"], at(day, 9), key="first-booking").status == 201
    before = clinic.items()

    reply = clinic.book(other["patientId"], at(day, 11, 15), key="second-booking")
    assert reply.status == 409
    assert "the chair is already booked at 11:15" in reply.body["message"]
    assert clinic.items() == before


def test_back_to_back_blocks_do_not_conflict(clinic: World) -> None:
    day = clinic_day()
    patient = clinic.register_patient()
    other = clinic.register_patient(key="other-patient")
    assert clinic.book(patient["patientId"], at(day, 9), key="first-booking").status == 201
    assert clinic.book(other["patientId"], at(day, 11, 30), key="second-booking").status == 201


def test_provider_capacity_is_enforced_across_chairs(clinic: World) -> None:
    day = clinic_day()
    patients = [clinic.register_patient(key=f"patient-{n}-key")["patientId"] for n in (1, 2, 3)]
    statuses = [clinic.book(patients[n - 1], at(day, 9), key=f"chair-{n}-key", chair=f"chair-{n}").status for n in (1, 2, 3)]
    assert statuses == [201, 201, 409]  # nurse-a supervises two at a time
    third = clinic.book(patients[2], at(day, 9, 30), key="chair-3-later", chair="chair-3")
    assert third.status == 409 and "the provider is already booked" in third.body["message"]


def test_twenty_concurrent_conflicting_bookings_exactly_one_wins(clinic: World) -> None:
    day = clinic_day()
    patients = [clinic.register_patient(key=f"concurrent-patient-{n:02d}")["patientId"] for n in range(20)]
    # Ten start times 15 minutes apart, two requests each: every pair of 150-minute blocks overlaps.
    starts = [at(day, 9) + timedelta(minutes=15 * (n % 10)) for n in range(20)]

    def attempt(n: int):
        return clinic.book(patients[n], starts[n], key=f"concurrent-{n:02d}")

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(attempt, range(20)))
    statuses = [reply.status for reply in replies]

    assert statuses.count(201) == 1
    assert statuses.count(409) == 19, [(r.status, r.body) for r in replies if r.status not in (201, 409)]
    board = clinic.call("GET", f"/clinics/{CLINIC}/board", query={"date": day.isoformat()})
    assert len(board.body["appointments"]) == 1
    holds = [i for i in clinic.items() if i["pk"]["S"].startswith(org_key("HOLD#")) and i.get("holders")]
    winner = board.body["appointments"][0]["appointmentId"]
    assert {h for item in holds for h in item["holders"]["SS"]} == {winner}
    assert len(holds) == 20  # ten chair grains and ten provider grains


def test_one_patient_booked_on_three_chairs_at_once_gets_one_session(clinic: World) -> None:
    """The spacing rule holds under concurrency: without the patient's schedule count in the
    booking's transaction, two or three of these passed the check together."""
    for round_ in range(4):
        patient = clinic.register_patient(f"spacing-race-{round_}", givenName=f"Robin{round_}", phone=f"+1555555{round_:04d}")["patientId"]
        start = at(clinic_day(2 + round_), 9)

        def attempt(n: int, patient: str = patient, start=start, round_: int = round_):
            return clinic.book(patient, start, key=f"spacing-race-{round_}-{n}", chair=f"chair-{n + 1}", provider=("nurse-a", "dr-b", "nurse-a")[n])

        with ThreadPoolExecutor(max_workers=3) as pool:
            replies = list(pool.map(attempt, range(3)))
        assert sorted(r.status for r in replies) in ([201, 409, 409], [201, 409, 422], [201, 422, 422]), [(r.status, r.body) for r in replies]
        booked = clinic.call("GET", f"/patients/{patient}/appointments").body["appointments"]
        assert len(booked) == 1, booked


def test_two_of_one_patient_s_sessions_moved_to_the_same_hour_at_once_are_not_both_moved(clinic: World) -> None:
    for round_ in range(3):
        patient = clinic.register_patient(f"move-race-{round_}", givenName=f"Sam{round_}", phone=f"+1555556{round_:04d}")["patientId"]
        first = clinic.book(patient, at(clinic_day(2 + 10 * round_), 9), key=f"move-race-a-{round_}").body["appointmentId"]
        second = clinic.book(patient, at(clinic_day(6 + 10 * round_), 9), key=f"move-race-b-{round_}", chair="chair-2").body["appointmentId"]
        target = at(clinic_day(9 + 10 * round_), 9).isoformat()

        def move(pair: tuple[str, str], target: str = target, round_: int = round_):
            appointment, chair = pair
            return clinic.call("POST", f"/appointments/{appointment}/reschedule", {"start": target, "chairId": chair},
                               headers={"Idempotency-Key": f"move-race-{round_}-{chair}"})

        with ThreadPoolExecutor(max_workers=2) as pool:
            replies = list(pool.map(move, [(first, "chair-1"), (second, "chair-2")]))
        assert sorted(r.status for r in replies) in ([200, 409], [200, 422]), [(r.status, r.body) for r in replies]
        booked = clinic.call("GET", f"/patients/{patient}/appointments").body["appointments"]
        assert len({a["start"] for a in booked}) == 2, booked


def test_a_course_and_a_booking_of_one_patient_at_the_same_hour_at_once_are_not_both_placed(clinic: World) -> None:
    for round_ in range(3):
        patient = clinic.register_patient(f"course-race-{round_}", givenName=f"Kim{round_}", phone=f"+1555557{round_:04d}")["patientId"]
        start = at(clinic_day(3 + 7 * round_), 9)
        course = {
            "clinicId": CLINIC, "patientId": patient, "template": "iv-booster",
            "sessions": [{"start": start.isoformat(), "chairId": "chair-2", "providerId": "dr-b"}],
        }

        def place(kind: str, patient: str = patient, start=start, course=course, round_: int = round_):
            if kind == "course":
                return clinic.call("POST", "/courses", course, headers={"Idempotency-Key": f"course-race-{round_}"})
            return clinic.book(patient, start, key=f"course-race-single-{round_}", session_type="iv-ketamine")

        with ThreadPoolExecutor(max_workers=2) as pool:
            replies = list(pool.map(place, ["course", "single"]))
        assert sorted(r.status for r in replies) in ([201, 409], [201, 422]), [(r.status, r.body) for r in replies]
        booked = clinic.call("GET", f"/patients/{patient}/appointments").body["appointments"]
        assert len([a for a in booked if a["status"] == "booked"]) == 1, booked


def test_twenty_retries_with_one_key_create_one_appointment_and_the_same_body(clinic: World) -> None:
    day = clinic_day()
    patient = clinic.register_patient()
    replies = [clinic.book(patient["patientId"], at(day, 9), key="retried-key-0001") for _ in range(20)]
    assert {r.status for r in replies} == {201}
    assert all(r.body == replies[0].body for r in replies)
    board = clinic.call("GET", f"/clinics/{CLINIC}/board", query={"date": day.isoformat()})
    assert len(board.body["appointments"]) == 1


def test_concurrent_retries_with_one_key_still_create_one_appointment(clinic: World) -> None:
    day = clinic_day()
    patient = clinic.register_patient()
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda _: clinic.book(patient["patientId"], at(day, 9), key="racing-key-0001"), range(20)))
    assert {r.status for r in replies} <= {201, 409}
    created = {r.body["appointmentId"] for r in replies if r.status == 201}
    assert len(created) == 1
    in_progress = [r for r in replies if r.status == 409]
    assert all(r.body["code"] == "request_in_progress" and r.headers.get("Retry-After") for r in in_progress), [r.body for r in in_progress]
    board = clinic.call("GET", f"/clinics/{CLINIC}/board", query={"date": day.isoformat()})
    assert len(board.body["appointments"]) == 1


def test_reusing_a_key_for_a_different_request_is_refused(clinic: World) -> None:
    day = clinic_day()
    patient = clinic.register_patient()
    assert clinic.book(patient["patientId"], at(day, 9), key="reused-key-0001").status == 201
    reply = clinic.book(patient["patientId"], at(day, 13), key="reused-key-0001")
    assert reply.status == 422
    assert reply.body["fields"][0]["field"] == "Idempotency-Key"


def test_patient_registration_is_idempotent_too(clinic: World) -> None:
    first = clinic.register_patient(key="same-patient-key")
    again = clinic.register_patient(key="same-patient-key")
    assert first == again
    assert len([i for i in clinic.items() if i["pk"]["S"].startswith(org_key("PATIENT#"))]) == 1


def test_day_board_and_patient_history(clinic: World) -> None:
    day = clinic_day()
    alex = clinic.register_patient(key="alex-key-01")
    kim = clinic.register_patient(key="kim-key-001", givenName="Kim")
    clinic.book(alex["patientId"], at(day, 13), key="alex-booking", chair="chair-2")
    clinic.book(kim["patientId"], at(day, 9), key="kim-booking")
    clinic.book(alex["patientId"], at(day + timedelta(days=3), 9), key="alex-next-day")

    board = clinic.call("GET", f"/clinics/{CLINIC}/board", query={"date": day.isoformat()})
    assert [(a["patientId"], a["status"]) for a in board.body["appointments"]] == [
        (kim["patientId"], "booked"),
        (alex["patientId"], "booked"),
    ]
    history = clinic.call("GET", f"/patients/{alex['patientId']}/appointments")
    assert [a["localDate"] for a in history.body["appointments"]] == [day.isoformat(), (day + timedelta(days=3)).isoformat()]


def test_spravato_needs_the_patients_rems_enrollment_on_file_and_says_so(clinic: World) -> None:
    not_enrolled = clinic.register_patient(key="not-enrolled-patient", remsEnrolled=False)
    before = clinic.items()
    reply = clinic.book(not_enrolled["patientId"], at(clinic_day(3), 10), key="rems-booking-1")
    assert reply.status == 422
    assert reply.body["fields"] == [{"field": "patientId", "problem": "the patient's REMS enrollment is not on file: enroll them before booking"}]
    assert clinic.items() == before  # nothing held, nothing started
    iv = clinic.book(not_enrolled["patientId"], at(clinic_day(3), 10), key="rems-booking-2", session_type="iv-ketamine")
    assert iv.status == 201  # IV ketamine is not under the REMS


def test_spravato_is_refused_at_a_clinic_not_rems_certified(clinic: World) -> None:
    profile = {**CLINIC_PROFILE, "remsCertified": False}
    assert clinic.call("PUT", f"/clinics/{CLINIC}", profile, role="admin").status == 200
    patient = clinic.register_patient(key="enrolled-patient-1")
    reply = clinic.book(patient["patientId"], at(clinic_day(3), 10), key="rems-booking-3")
    assert reply.status == 422 and reply.body["fields"][0]["field"] == "clinicId"
    assert "not REMS-certified" in reply.body["message"]
    assert clinic.book(patient["patientId"], at(clinic_day(3), 10), key="rems-booking-4", session_type="iv-ketamine").status == 201


def test_one_patient_cannot_have_two_doses_closer_than_the_session_types_spacing(clinic: World) -> None:
    """Spravato sessions keep 48 h apart (clinicRules.sessionTypes.spravato.minimumSpacingHours)
    on every path: here a single booking and a reschedule; the course and waitlist tests cover theirs."""
    day = clinic_day()
    patient = clinic.register_patient()
    assert clinic.book(patient["patientId"], at(day, 9), key="morning-dose").status == 201
    before = clinic.items()

    same_day = clinic.book(patient["patientId"], at(day, 14), key="afternoon-dose", chair="chair-2")
    assert same_day.status == 422
    assert same_day.body["fields"] == [
        {"field": "start", "problem": f"is less than 48 h from the patient's session at {day.isoformat()} 09:00"}
    ]
    assert clinic.items() == before
    just_short = clinic.book(patient["patientId"], at(day + timedelta(days=2), 8, 45), key="too-soon-dose")
    assert just_short.status == 422
    two_days_on = clinic.book(patient["patientId"], at(day + timedelta(days=2), 9), key="next-dose-ok")
    assert two_days_on.status == 201, two_days_on.body

    before = clinic.items()
    path = f"/appointments/{two_days_on.body['appointmentId']}/reschedule"
    moved = clinic.call("POST", path, {"start": at(day + timedelta(days=1), 9).isoformat()})
    assert moved.status == 422 and moved.body["fields"][0]["field"] == "start"
    assert clinic.items() == before
    later = clinic.call("POST", path, {"start": at(day + timedelta(days=2), 10).isoformat()})  # its own old time does not count
    assert later.status == 200, later.body


def test_a_cancelled_session_does_not_hold_the_patients_spacing(clinic: World) -> None:
    day = clinic_day()
    patient = clinic.register_patient()
    first = clinic.book(patient["patientId"], at(day, 9), key="cancelled-dose").body
    reason = {"reason": "patient asked to move it"}
    assert clinic.call("POST", f"/appointments/{first['appointmentId']}/cancel", reason).status == 200
    assert clinic.book(patient["patientId"], at(day, 14), key="replacement-dose").status == 201
