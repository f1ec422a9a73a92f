"""The waitlist through the API on moto: who a freed time is offered to (in order, wanting
that day and time, keeping their course spacing), and first accept wins, atomically."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from tests.integration.conftest import clinic_world
from tests.support.world import CLINIC, World, at

THURSDAY = date(2027, 3, 4)  # a week after conftest's FIXED_NOW
THURSDAY_MORNINGS = {"sessionType": "spravato", "weekdays": ["tue", "thu"], "earliest": "08:00", "latest": "12:00"}


class WaitlistWorld(World):
    def patient(self, n: int, **details: Any) -> str:
        return self.register_patient(key=f"waitlist-patient-{n}", phone=phone(n), **details)["patientId"]

    def join(self, patient_id: str, key: str, **wish: Any) -> Any:
        body = {"patientId": patient_id, **THURSDAY_MORNINGS, **wish}
        return self.call("POST", f"/clinics/{CLINIC}/waitlist", body, headers={"Idempotency-Key": key})

    def offers_to(self, n: int) -> list[str]:
        """The offer tokens texted to patient n."""
        sent = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values()
        return [text.split("/offer#")[1] for to, text in sent if to == phone(n) and "/offer#" in text]

    def accept(self, token: str) -> Any:
        return self.call("POST", "/public/waitlist-offers/accept", {"token": token}, role=None)

    def cancel(self, appointment_id: str) -> Any:
        return self.call("POST", f"/appointments/{appointment_id}/cancel", {"reason": "patient unwell"})

    def booked_at(self, start: datetime) -> list[dict[str, Any]]:
        board = self.call("GET", f"/clinics/{CLINIC}/board", query={"date": start.date().isoformat()}).body
        return [a for a in board["appointments"] if a["status"] == "booked" and a["start"] == start_z(start)]


def phone(n: int) -> str:
    return f"+1555555{n:04d}"


def start_z(start: datetime) -> str:
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def waitlist(template, monkeypatch: pytest.MonkeyPatch, fixed_clock: datetime) -> Iterator[WaitlistWorld]:
    yield from clinic_world(WaitlistWorld, template, monkeypatch)


def _freed_thursday(waitlist: WaitlistWorld, hour: int = 9, n: int = 0) -> str:
    """Books patient n at `hour` on Thursday; returns the appointment id (to cancel)."""
    booked = waitlist.book(waitlist.patient(n), at(THURSDAY, hour), key=f"to-be-freed-{n}")
    assert booked.status == 201, booked.body
    return booked.body["appointmentId"]


def test_a_cancellation_offers_the_time_to_the_first_three_who_want_it_and_may_take_it(waitlist: WaitlistWorld) -> None:
    freed = _freed_thursday(waitlist)
    first = waitlist.patient(1)
    mondays_only = waitlist.patient(2)
    too_close = waitlist.patient(3)  # has a session Wednesday 10:00: Thursday 09:00 is within 48 h of it
    fourth, fifth, sixth = (waitlist.patient(n) for n in (4, 5, 6))
    assert waitlist.book(too_close, at(date(2027, 3, 3), 10), key="too-close-booking", chair="chair-2").status == 201
    for n, patient in ((1, first), (2, mondays_only), (3, too_close), (4, fourth), (5, fifth), (6, sixth)):
        wish = {"weekdays": ["mon"]} if patient == mondays_only else {}
        assert waitlist.join(patient, key=f"join-waitlist-{n}", **wish).status == 201

    cancelled = waitlist.cancel(freed)

    assert cancelled.status == 200
    assert {n: len(waitlist.offers_to(n)) for n in range(1, 7)} == {1: 1, 2: 0, 3: 0, 4: 1, 5: 1, 6: 0}
    texts = {text.split("#")[0] for to, text in sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values() if "/offer#" in text}
    assert texts == {"A treatment time has opened up at your clinic. The first to accept gets it: http://localhost:8000/patient/offer"}
    again = waitlist.cancel(freed)  # a repeated click offers nothing new
    assert again.status == 200 and len(waitlist.offers_to(1)) == 1
    opened = waitlist.call("POST", "/public/waitlist-offers", {"token": waitlist.offers_to(4)[0]}, role=None)
    assert opened.status == 200 and opened.body["status"] == "open"
    assert opened.body["startLocal"] == "2027-03-04T09:00:00-05:00"


def test_first_accept_wins_and_the_others_stay_on_the_waitlist(waitlist: WaitlistWorld) -> None:
    freed = _freed_thursday(waitlist)
    patients = [waitlist.patient(n) for n in (1, 2)]
    for n, patient in enumerate(patients, start=1):
        assert waitlist.join(patient, key=f"join-waitlist-{n}").status == 201
    waitlist.cancel(freed)
    winner_token, loser_token = waitlist.offers_to(1)[0], waitlist.offers_to(2)[0]

    won = waitlist.accept(winner_token)
    lost = waitlist.accept(loser_token)

    assert won.status == 200 and won.body["booked"] and won.body["startLocal"] == "2027-03-04T09:00:00-05:00"
    assert lost.status == 410 and "already been taken" in lost.body["message"]
    booked = waitlist.booked_at(at(THURSDAY, 9))
    assert [a["patientId"] for a in booked] == [patients[0]] and booked[0]["chairId"] == "chair-1"
    entries = waitlist.call("GET", f"/clinics/{CLINIC}/waitlist").body["entries"]
    assert [e["patientId"] for e in entries] == [patients[1]]
    assert waitlist.accept(winner_token).status == 200  # a repeated tap books nothing more
    assert len(waitlist.booked_at(at(THURSDAY, 9))) == 1
    views = [waitlist.call("POST", "/public/waitlist-offers", {"token": t}, role=None).body["status"] for t in (winner_token, loser_token)]
    assert views == ["yours", "taken"]
    sfn = boto3.client("stepfunctions")
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=waitlist.deployment.environment["STATE_MACHINE_ARN"])["executions"]]
    assert f"{booked[0]['appointmentId']}-1" in names


@pytest.mark.parametrize("round_", range(3))
def test_two_patients_accepting_at_once_exactly_one_gets_the_time(waitlist: WaitlistWorld, round_: int) -> None:
    freed = _freed_thursday(waitlist, hour=9 + round_)
    for n in (1, 2):
        assert waitlist.join(waitlist.patient(n), key=f"join-waitlist-{n}").status == 201
    waitlist.cancel(freed)
    tokens = [waitlist.offers_to(1)[0], waitlist.offers_to(2)[0]]
    start = threading.Barrier(2)
    replies: list[Any] = [None, None]

    def accept(i: int) -> None:
        start.wait()
        replies[i] = waitlist.accept(tokens[i])

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(r.status for r in replies)
    assert statuses[0] == 200 and statuses[1] in (409, 410), [r.body for r in replies]
    assert len(waitlist.booked_at(at(THURSDAY, 9 + round_))) == 1


def test_offer_links_refuse_what_they_should(waitlist: WaitlistWorld) -> None:
    freed = _freed_thursday(waitlist)
    patient = waitlist.patient(1)
    entry = waitlist.join(patient, key="join-waitlist-1").body
    waitlist.cancel(freed)
    token = waitlist.offers_to(1)[0]

    assert waitlist.accept("x" * 43).status == 401
    assert waitlist.accept(token[:-1] + ("A" if token[-1] != "A" else "B")).status == 401
    removed = waitlist.call("POST", f"/clinics/{CLINIC}/waitlist/{entry['entryId']}/remove")
    assert removed.status == 200
    gone = waitlist.accept(token)
    assert gone.status == 410 and "no longer on the waitlist" in gone.body["message"]
    assert waitlist.booked_at(at(THURSDAY, 9)) == []
    assert waitlist.call("POST", f"/clinics/{CLINIC}/waitlist/{entry['entryId']}/remove").status == 404


def test_joining_the_waitlist_checks_rems_and_the_time_window(waitlist: WaitlistWorld) -> None:
    unenrolled = waitlist.patient(1, remsEnrolled=False)
    refused = waitlist.join(unenrolled, key="join-waitlist-1")
    assert refused.status == 422 and refused.body["fields"][0]["field"] == "patientId"
    enrolled = waitlist.patient(2)
    backwards = waitlist.join(enrolled, key="join-waitlist-2", earliest="12:00", latest="08:00")
    assert backwards.status == 422 and backwards.body["fields"][0]["field"] == "latest"
    assert waitlist.call("GET", f"/clinics/{CLINIC}/waitlist").body["entries"] == []
