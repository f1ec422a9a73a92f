"""One appointment's journey, executed by the deployed state machine under moto. Each
scenario asserts on the execution history and on what is stored."""

from __future__ import annotations

from datetime import timedelta

from clinic.domain.errors import TemporarilyUnavailable
from clinic.usecases.care_workflow import CareWorkflow

from tests.support.timing import eventually
from tests.support.world import CHECKLIST, CLINIC, at, org_key
from tests.workflow.conftest import CareWorld
from tests.workflow.journeys import (
    checked_in,
    checked_in_and_dosed,
    full_session,
    observing,
    session_cost,
    start_of,
)


def test_happy_path_from_booking_to_the_last_follow_up(care: CareWorld) -> None:
    appointment = full_session(care)

    # Reminders 48 h and 24 h before, then a survey link per follow-up: links, nothing about the patient.
    messages = care.sms()
    assert [to for to, _ in messages] == ["+15555550100"] * 4
    assert ["/confirm#" in text for _, text in messages] == [True, True, False, False]
    assert ["/survey#" in text for _, text in messages] == [False, False, True, True]
    assert not any(name in text for _, text in messages for name in ("Alex", "Rivera"))
    # The post-dose pressure was taken on time: no prompt, no page.
    assert care.pages() == []
    assert care.states_entered(appointment) == [
        "Reminders",
        *["WaitForReminder"] * 2,  # both reminders wait side by side, each until its own time
        *["Remind"] * 2,
        "WaitForStart",
        "AwaitCheckIn",  # checked in early: resumed at once
        "AwaitDose",
        "WaitForBloodPressureCheck",
        "ObservationCheck",
        "AwaitDischarge",
        "FollowUps",
        *["WaitForFollowUp", "AwaitFollowUp", "FollowUpNext?", "FollowUpClosed"] * 2,  # each answered in time
        "RemsForm?",  # Spravato: wait for the REMS form's deadline; it was marked filed by then
        "WaitForRemsFormDeadline",
        "RemsFormCheck",
        "Done",
    ]
    stored = care.appointment(appointment["appointmentId"])
    assert stored["status"] == "fulfilled" and "attention" not in stored
    assert care.follow_up(appointment, 1)["status"] == care.follow_up(appointment, 2)["status"] == "completed"
    assert session_cost(care, appointment) == (24, 9)


def test_no_show_after_the_grace_period_releases_the_chair_and_ends_the_execution(care: CareWorld) -> None:
    appointment = care.book_session()
    start = start_of(appointment)
    care.advance_to(start)
    care.parked_at(appointment, "check-in")
    care.advance_to(start + timedelta(minutes=29))
    assert care.status(appointment) == "RUNNING"
    care.advance_to(start + timedelta(minutes=30))

    assert care.finished(appointment) == "SUCCEEDED"
    assert care.states_entered(appointment)[-3:] == ["MissedCheckIn", "ArrivedLate?", "NoShow"]
    stored = care.appointment(appointment["appointmentId"])
    assert stored["status"] == "noshow"
    audit = care.call("GET", f"/appointments/{appointment['appointmentId']}/audit").body["entries"][-1]
    assert (audit["actorId"], audit["toStatus"]) == ("care-workflow", "noshow")
    assert not [i for i in care.items() if i["pk"]["S"].startswith(org_key("HOLD#")) and i.get("holders")]


def test_a_patient_checked_in_just_as_the_grace_ran_out_is_not_a_no_show(care: CareWorld, monkeypatch) -> None:
    appointment = care.book_session()
    start = start_of(appointment)
    care.advance_to(start)
    care.parked_at(appointment, "check-in")
    # The check-in lands but its callback is lost: the timeout's handler finds the patient arrived.
    monkeypatch.setattr("clinic.adapters.stepfunctions.StepFunctionsEngine.resume", unavailable)
    care.advance_to(start + timedelta(minutes=20))
    assert care.act(appointment, "check-in", role="front-desk").status == 200
    care.advance_to(start + timedelta(minutes=30))
    monkeypatch.undo()
    care.parked_at(appointment, "dose")
    assert care.states_entered(appointment)[-3:] == ["MissedCheckIn", "ArrivedLate?", "AwaitDose"]
    assert care.appointment(appointment["appointmentId"])["status"] == "arrived"


def test_cancel_mid_way_stops_the_execution_and_the_remaining_reminders(care: CareWorld) -> None:
    appointment = care.book_session()
    start = start_of(appointment)
    care.first_reminder(appointment)
    assert care.act(appointment, "cancel", {"reason": "patient unwell"}, role="front-desk").status == 200

    assert care.finished(appointment) == "ABORTED"
    care.advance_to(start)
    assert len(care.sms()) == 1
    assert care.appointment(appointment["appointmentId"])["status"] == "cancelled"


def test_reschedule_ends_the_old_run_and_the_new_one_follows_the_new_time(care: CareWorld) -> None:
    appointment = care.book_session(days_ahead=5)
    new_start = start_of(appointment) + timedelta(days=2)
    reply = care.act(appointment, "reschedule", {"start": new_start.isoformat()}, role="front-desk")
    assert reply.status == 200, reply.body

    assert care.finished(appointment, run=1) == "ABORTED"
    assert care.status(appointment, run=2) == "RUNNING"
    care.sleeping_until(new_start - timedelta(hours=48))
    care.advance_to(new_start)
    care.parked_at(appointment, "check-in", run=2)
    assert len(care.sms()) == 2  # the new run's two reminders, none from the old run


def test_discharge_is_refused_at_119_minutes_and_resumes_the_execution_at_120(care: CareWorld) -> None:
    appointment = care.book_session()
    first_device = observing(care, appointment)

    care.advance_to(first_device + timedelta(minutes=119))
    refused = care.act(appointment, "discharge", {"checklist": CHECKLIST})
    assert refused.status == 409
    assert care.parked_at(appointment, "discharge")["status"] == "arrived"

    care.advance_to(first_device + timedelta(minutes=120))
    accepted = care.act(appointment, "discharge", {"checklist": CHECKLIST})
    assert accepted.status == 200
    care.sleeping_until(first_device + timedelta(minutes=120, hours=24))
    assert "FollowUps" in care.states_entered(appointment)
    again = care.act(appointment, "discharge", {"checklist": CHECKLIST})  # a double click
    assert again.status == 200 and again.body["version"] == accepted.body["version"]
    assert care.status(appointment) == "RUNNING"


def test_an_incomplete_checklist_leaves_the_execution_waiting(care: CareWorld) -> None:
    appointment = care.book_session()
    first_device = observing(care, appointment)
    care.advance_to(first_device + timedelta(minutes=150))
    reply = care.act(appointment, "discharge", {"checklist": {**CHECKLIST, "ridePresent": False}})
    assert reply.status == 422 and reply.body["fields"][0]["field"] == "checklist.ridePresent"
    assert care.parked_at(appointment, "discharge")["status"] == "arrived"
    assert "FollowUps" not in care.states_entered(appointment)


def test_a_high_pre_dose_pressure_holds_the_workflow_until_a_prescriber_overrides(care: CareWorld) -> None:
    appointment = care.book_session()
    start = checked_in(care, appointment)
    high = {"systolic": 158, "diastolic": 96}
    refused = care.dose(appointment, start, preDoseBloodPressure=high)
    assert refused.status == 422 and refused.body["fields"][0]["field"] == "override"
    assert care.parked_at(appointment, "dose")["phase"]["name"] == "awaiting-dose"

    override = {"prescriberId": "dr-b", "reason": "known hypertension, within patient's baseline"}
    assert care.dose(appointment, start, preDoseBloodPressure=high, override=override).status == 200
    care.sleeping_until(start + timedelta(minutes=40))
    assert care.states_entered(appointment)[-1] == "WaitForBloodPressureCheck"


def test_a_missing_post_dose_pressure_prompts_the_clinicians(care: CareWorld) -> None:
    appointment = care.book_session()
    first_device = checked_in_and_dosed(care, appointment)
    care.advance_to(first_device + timedelta(minutes=40))
    care.parked_at(appointment, "discharge")
    ((subject, message),) = care.pages()
    assert subject == "Blood pressure check due"
    assert "in Chair 1." in message and appointment["appointmentId"] in message and "Alex" not in message
    # ... and flags the session on the clinic's alerts until a pressure is taken.
    (flagged,) = care.alerts()["appointments"]
    assert (flagged["appointmentId"], flagged["attention"]["kind"]) == (appointment["appointmentId"], "blood-pressure-check")
    care.advance_to(first_device + timedelta(minutes=44))
    bp = {"bloodPressure": {"systolic": 128, "diastolic": 80}}
    assert care.act(appointment, "vitals", bp, headers={"Idempotency-Key": "late-bp-check"}).status == 201
    assert care.alerts()["appointments"] == []


def test_an_overdue_discharge_alerts_and_flags_then_a_late_discharge_carries_on(care: CareWorld) -> None:
    appointment = care.book_session()
    first_device = observing(care, appointment)
    care.advance_to(first_device + timedelta(minutes=240))
    flagged = eventually(lambda: (a := care.appointment(appointment["appointmentId"])).get("attention") and a)
    assert flagged["attention"]["reason"] == "not discharged 240 min after the dose started"
    assert flagged["phase"]["attention"] == flagged["attention"]
    page = ("Needs attention", f"Chair 1: {flagged['attention']['reason']}. Appointment {appointment['appointmentId']}.")
    eventually(lambda: page in care.pages(), what="the overdue page")
    care.parked_at(appointment, "discharge")  # still waiting, now without a deadline

    care.advance_to(first_device + timedelta(minutes=260))
    discharged = care.act(appointment, "discharge", {"checklist": CHECKLIST})
    assert discharged.status == 200 and "attention" not in discharged.body
    care.sleeping_until(first_device + timedelta(minutes=260, hours=24))
    assert care.states_entered(appointment)[-5:] == ["DischargeOverdue", "DischargeDone?", "AwaitLateDischarge", "FollowUps", "WaitForFollowUp"]


def test_a_lost_discharge_callback_is_recovered_when_the_deadline_looks_again(care: CareWorld, monkeypatch) -> None:
    appointment = care.book_session()
    first_device = observing(care, appointment)
    care.advance_to(first_device + timedelta(minutes=130))
    monkeypatch.setattr("clinic.adapters.stepfunctions.StepFunctionsEngine.resume", unavailable)
    assert care.act(appointment, "discharge", {"checklist": CHECKLIST}).status == 200
    monkeypatch.undo()
    care.advance_to(first_device + timedelta(minutes=240))
    care.sleeping_until(first_device + timedelta(minutes=130, hours=24))
    assert care.states_entered(appointment)[-4:] == ["DischargeOverdue", "DischargeDone?", "FollowUps", "WaitForFollowUp"]
    assert "attention" not in care.appointment(appointment["appointmentId"])
    assert care.pages() == []


def test_a_step_failing_twice_is_retried_and_the_journey_continues(care: CareWorld, monkeypatch) -> None:
    failures = iter([TemporarilyUnavailable("throttled"), TemporarilyUnavailable("throttled")])
    real = CareWorkflow.remind

    def flaky(self, *args, **kwargs):
        if (error := next(failures, None)) is not None:
            raise error
        return real(self, *args, **kwargs)

    monkeypatch.setattr(CareWorkflow, "remind", flaky)
    appointment = care.book_session(days_ahead=1, hour=14)  # booked 26 h ahead: only the 24 h reminder is due
    start = start_of(appointment)
    care.sleeping_until(start - timedelta(hours=24))
    care.advance_to(start - timedelta(hours=24))
    eventually(lambda: len(care.sms()) == 1, what="the reminder, third time lucky")
    # The text goes out inside the third attempt; its success is recorded once that attempt returns.
    events = eventually(
        lambda: "LambdaFunctionSucceeded" in (types := [e["type"] for e in care.history(appointment)]) and types,
        what="the third attempt recorded",
    )
    assert events.count("LambdaFunctionFailed") == 2
    assert events.count("LambdaFunctionSucceeded") == 1
    care.advance_to(start)
    care.parked_at(appointment, "check-in")


def test_a_step_failing_for_good_flags_the_appointment_pages_and_fails_the_execution(care: CareWorld, monkeypatch) -> None:
    def broken(self, *args, **kwargs):
        raise KeyError("the vitals record is corrupt")

    monkeypatch.setattr(CareWorkflow, "observation_check", broken)
    appointment = care.book_session()
    first_device = checked_in_and_dosed(care, appointment)
    care.advance_to(first_device + timedelta(minutes=40))

    assert care.finished(appointment) == "FAILED"
    assert care.states_entered(appointment)[-3:] == ["ObservationCheckFailed", "FlagNeedsAttention", "WorkflowFailed"]
    stored = care.appointment(appointment["appointmentId"])
    assert stored["attention"]["reason"] == "the care workflow stopped at 'ObservationCheck' (KeyError); check the appointment"
    ((subject, message),) = care.pages()
    assert subject == "Appointment needs attention" and "corrupt" not in message


def unavailable(self, *args, **kwargs):
    raise TemporarilyUnavailable("Step Functions is throttling")


def test_a_patient_who_cannot_be_reached_is_flagged_and_the_session_goes_on(care: CareWorld) -> None:
    patient = care.register_patient(key="email-only-patient", phone=None, email="pat@example.org")
    day = start_of(care.book_session(key="someone-else")).date()  # a second patient, same day
    reply = care.book(patient["patientId"], at(day, 13), key="email-only-booking")
    assert reply.status == 201
    appointment = reply.body
    start = start_of(appointment)
    care.sleeping_until(start - timedelta(hours=48))
    care.advance_to(start - timedelta(hours=48))
    flagged = eventually(lambda: (a := care.appointment(appointment["appointmentId"])).get("attention") and a)
    assert flagged["attention"]["kind"] == "unreachable"
    assert "call the patient" in flagged["attention"]["reason"]

    care.advance_to(start - timedelta(minutes=5))
    checked_in = care.act(appointment, "check-in", role="front-desk")
    assert checked_in.status == 200 and "attention" not in checked_in.body  # the patient came: settled
    care.advance_to(start)
    care.parked_at(appointment, "dose")


def test_a_dose_overdue_is_flagged_and_a_late_dose_settles_it(care: CareWorld) -> None:
    appointment = care.book_session()
    start = checked_in(care, appointment)
    care.advance_to(start + timedelta(minutes=120))
    flagged = eventually(lambda: (a := care.appointment(appointment["appointmentId"])).get("attention") and a)
    assert flagged["attention"]["kind"] == "dose-overdue"
    care.parked_at(appointment, "dose")
    dosed = care.dose(appointment, start + timedelta(minutes=125))
    assert dosed.status == 200 and "attention" not in dosed.body
    care.sleeping_until(start + timedelta(minutes=165))
    assert care.states_entered(appointment)[-4:] == ["DoseOverdue", "DoseDone?", "AwaitLateDose", "WaitForBloodPressureCheck"]


def test_a_lost_callback_while_late_is_picked_up_by_the_recheck(care: CareWorld, monkeypatch) -> None:
    appointment = care.book_session()
    first_device = observing(care, appointment)
    care.advance_to(first_device + timedelta(minutes=240))
    # Parked late: its token stored (moto records TaskSubmitted once the park step returned).
    eventually(lambda: care.submitted(appointment) == ["AwaitCheckIn", "AwaitDose", "AwaitDischarge", "AwaitLateDischarge"])
    monkeypatch.setattr("clinic.adapters.stepfunctions.StepFunctionsEngine.resume", unavailable)
    care.advance_to(first_device + timedelta(minutes=250))
    assert care.act(appointment, "discharge", {"checklist": CHECKLIST}).status == 200
    monkeypatch.undo()
    care.advance_to(first_device + timedelta(minutes=240 + 60))
    care.sleeping_until(first_device + timedelta(minutes=250, hours=24))
    assert care.states_entered(appointment)[-5:] == [
        "AwaitLateDischarge",
        "DischargeOverdue",
        "DischargeDone?",
        "FollowUps",
        "WaitForFollowUp",
    ]


def test_cancel_while_waiting_for_the_dose_ends_the_execution(care: CareWorld) -> None:
    appointment = care.book_session()
    checked_in(care, appointment)
    assert care.act(appointment, "cancel", {"reason": "blood pressure stayed high"}, role="front-desk").status == 200
    assert care.finished(appointment) == "ABORTED"
    assert not [i for i in care.items() if i["pk"]["S"].startswith(org_key("HOLD#")) and i.get("holders")]


def test_a_run_whose_stop_failed_ends_itself_at_its_next_step(care: CareWorld, monkeypatch) -> None:
    def cannot_stop(self, name: str) -> None:
        raise TemporarilyUnavailable("Step Functions is throttling")

    monkeypatch.setattr("clinic.adapters.stepfunctions.StepFunctionsEngine.stop", cannot_stop)
    appointment = care.book_session()
    start = start_of(appointment)
    assert care.act(appointment, "cancel", {"reason": "moved away"}, role="front-desk").status == 200
    assert care.status(appointment) == "RUNNING"
    care.advance_to(start)
    assert care.finished(appointment) == "SUCCEEDED"
    assert care.states_entered(appointment)[-2:] == ["AwaitCheckIn", "Closed"]
    assert care.sms() == []  # the reminders found the appointment cancelled


def test_cancelling_right_after_booking_stops_the_new_execution(care: CareWorld) -> None:
    appointment = care.book_session()
    assert care.act(appointment, "cancel", {"reason": "booked by mistake"}, role="front-desk").status == 200
    assert care.finished(appointment) == "ABORTED"


def test_a_dose_entered_ten_minutes_after_it_started_is_timed_from_its_start(care: CareWorld) -> None:
    """The nurse records the first device ten minutes late: the pressure check, the board and
    discharge all count from the first device, not from when it was typed in."""
    appointment = care.book_session()  # 10:00 New York on 2026-12-06 (15:00 UTC)
    start = checked_in(care, appointment)
    first_device = start + timedelta(minutes=5)
    care.advance_to(first_device + timedelta(minutes=10))
    assert care.dose(appointment, first_device).status == 200

    phase = care.appointment(appointment["appointmentId"])["phase"]
    assert phase["since"] == "2026-12-06T15:05:00Z"
    assert phase["dischargeAllowedAt"] == "2026-12-06T17:05:00Z"
    assert phase["bloodPressureDueAt"] == "2026-12-06T15:45:00Z"
    board = care.call("GET", f"/clinics/{CLINIC}/board", query={"date": "2026-12-06"}).body
    (block,) = [a for a in board["appointments"] if a["appointmentId"] == appointment["appointmentId"]]
    assert block["phase"]["dischargeAllowedAt"] == "2026-12-06T17:05:00Z"

    care.sleeping_until(first_device + timedelta(minutes=40))  # the pressure check's timer
    care.advance_to(first_device + timedelta(minutes=38))
    bp = {"bloodPressure": {"systolic": 132, "diastolic": 84}}
    assert care.act(appointment, "vitals", bp, headers={"Idempotency-Key": "bp-after-dose"}).status == 201
    care.advance_to(first_device + timedelta(minutes=40))
    care.parked_at(appointment, "discharge")
    care.advance_to(first_device + timedelta(minutes=119))
    assert care.act(appointment, "discharge", {"checklist": CHECKLIST}).status == 409
    care.advance_to(first_device + timedelta(minutes=120))
    assert care.act(appointment, "discharge", {"checklist": CHECKLIST}).status == 200
