"""The reminder's link: the patient confirms attendance and a ride home, once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support.timing import eventually
from tests.workflow.conftest import CareWorld


@pytest.fixture
def reminded(care: CareWorld) -> tuple[CareWorld, dict, str]:
    appointment = care.book_session()
    return care, appointment, care.first_reminder(appointment).split("/confirm#")[1]


def confirm(care: CareWorld, token: str, attending: bool = True, ride: bool = True):
    body = {"token": token, "attending": attending, "rideArranged": ride}
    return care.call("POST", "/public/confirmations", body, role=None)


def test_the_patient_confirms_without_signing_in_and_the_link_then_is_spent(reminded) -> None:
    care, appointment, token = reminded
    reply = confirm(care, token)
    assert reply.status == 200 and reply.body["recorded"] is True
    stored = care.appointment(appointment["appointmentId"])
    assert stored["confirmation"]["attending"] is True and stored["confirmation"]["rideArranged"] is True
    assert "attention" not in stored
    entry = care.call("GET", f"/appointments/{appointment['appointmentId']}/audit").body["entries"][-1]
    assert (entry["action"], entry["actorId"]) == ("confirm", "patient-link")

    again = confirm(care, token, attending=False)
    assert again.status == 410 and again.body["code"] == "link_gone"
    assert care.appointment(appointment["appointmentId"])["confirmation"]["attending"] is True


def test_the_link_says_which_appointment_it_confirms_without_using_itself_up(reminded) -> None:
    care, appointment, token = reminded  # booked for 2026-12-06 10:00 New York
    opened = care.call("POST", "/public/confirmations/open", {"token": token}, role=None)
    assert opened.status == 200
    assert opened.body == {
        "clinic": "North",
        "session": "Spravato (esketamine nasal spray)",
        "startLocal": "2026-12-06T10:00:00-05:00",
        "timeZone": "America/New_York",
    }  # no name, birth date or phone
    assert confirm(care, token).status == 200  # opening it used nothing up
    again = care.call("POST", "/public/confirmations/open", {"token": token}, role=None)
    assert again.status == 410 and again.body["code"] == "link_gone"
    made_up = care.call("POST", "/public/confirmations/open", {"token": "x" * 43}, role=None)
    assert made_up.status == 401


def test_only_the_hash_of_the_token_is_stored(reminded) -> None:
    care, _, token = reminded
    assert len(token) >= 43  # 256 random bits, base64url
    assert token not in str(care.items())


@pytest.mark.parametrize(
    ("attending", "ride", "reason"),
    [(False, False, "the patient says they will not come: call them"), (True, False, "the patient has no ride home arranged: call them")],
)
def test_an_answer_that_needs_the_front_desk_flags_the_appointment(reminded, attending, ride, reason) -> None:
    care, appointment, token = reminded
    reply = confirm(care, token, attending, ride)
    assert reply.status == 200 and "call you" in reply.body["message"]
    stored = care.appointment(appointment["appointmentId"])
    assert stored["attention"]["reason"] == reason
    board = care.call("GET", "/clinics/north/board", query={"date": stored["localDate"]}).body["appointments"]
    assert board[0]["phase"]["attention"]["reason"] == reason
    # On the clinic's alerts whatever day the board shows (the session is days away).
    (flagged,) = care.alerts()["appointments"]
    assert (flagged["appointmentId"], flagged["localDate"], flagged["attention"]["reason"]) == (
        appointment["appointmentId"], stored["localDate"], reason,
    )

    # The front desk calls the patient and resolves it: off the alerts and the board, audited.
    path = f"/appointments/{appointment['appointmentId']}/attention/resolve"
    resolved = care.call("POST", path, {"note": "called: a friend drives them home"}, role="front-desk")
    assert resolved.status == 200 and "attention" not in resolved.body
    assert care.alerts()["appointments"] == []
    entry = care.call("GET", f"/appointments/{appointment['appointmentId']}/audit").body["entries"][-1]
    assert (entry["action"], entry["actorId"], entry["reason"]) == (
        "resolve-attention", "sub-front-desk-user", "called: a friend drives them home",
    )
    again = care.call("POST", path, {}, role="front-desk")  # a double click writes nothing
    assert again.status == 200 and again.body["version"] == resolved.body["version"]


def test_a_wrong_or_malformed_token_is_refused_and_changes_nothing(reminded) -> None:
    care, _, token = reminded
    before = care.items()
    wrong = confirm(care, token[:-4] + "AAAA")
    assert wrong.status == 401 and wrong.body["code"] == "link_invalid"
    short = confirm(care, "abc")
    assert short.status == 422 and short.body["fields"][0]["field"] == "token"
    assert care.items() == before


def test_a_link_expires_at_the_appointment_start(reminded) -> None:
    care, appointment, token = reminded
    care.advance_to(datetime.fromisoformat(appointment["start"]))
    reply = confirm(care, token)
    assert reply.status == 410 and "expired" in reply.body["message"]


def test_a_cancelled_appointment_s_link_is_gone(reminded) -> None:
    care, appointment, token = reminded
    assert care.act(appointment, "cancel", {"reason": "clinic closed"}, role="front-desk").status == 200
    reply = confirm(care, token)
    assert reply.status == 410 and "no longer open" in reply.body["message"]


def test_a_reschedule_forgets_the_answer_given_for_the_old_time(reminded) -> None:
    care, appointment, token = reminded
    assert confirm(care, token).status == 200
    later = datetime.fromisoformat(appointment["start"]) + timedelta(hours=3)
    moved = care.act(appointment, "reschedule", {"start": later.isoformat()}, role="front-desk")
    assert moved.status == 200 and "confirmation" not in moved.body


def test_after_a_reschedule_only_the_new_reminder_s_link_confirms(reminded) -> None:
    care, appointment, old_token = reminded
    later = datetime.fromisoformat(appointment["start"]) + timedelta(hours=3)
    assert care.act(appointment, "reschedule", {"start": later.isoformat()}, role="front-desk").status == 200
    care.sleeping_until(later - timedelta(hours=48))
    care.advance_to(later - timedelta(hours=48))
    _, text = eventually(lambda: len(care.sms()) == 2 and care.sms()[1], what="the new run's reminder")
    stale = confirm(care, old_token)
    assert stale.status == 410 and "moved" in stale.body["message"]
    assert confirm(care, text.split("/confirm#")[1]).status == 200
