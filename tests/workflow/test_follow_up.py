"""Follow-up surveys and the safety path, executed by the deployed state machine under moto
with virtual time: the link, answers, reminder, missed survey, screener and escalation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from clinic.adapters.stepfunctions import StepFunctionsEngine
from clinic.domain.errors import TemporarilyUnavailable
from clinic.workflow import handler as workflow_handler
from clinic.usecases.care_workflow import CareWorkflow
from fhir.resources.R4B.bundle import Bundle

from local.gateway import LambdaContext
from tests.support.timing import eventually
from tests.support.world import ALL_WEEK, SET_UP_PAGERS, ZONE, at
from tests.workflow.conftest import NOW, PAGERS, CareWorld, cssrs, gad7, phq9
from tests.workflow.journeys import discharged, full_session, survey_sent

PATIENT_PHONE = "+15555550100"


@pytest.fixture
def first_survey(care: CareWorld) -> tuple[CareWorld, dict[str, Any], datetime, str]:
    """A discharged session whose first follow-up (24 h later) has sent its link and waits."""
    appointment, at = discharged(care)
    token = survey_sent(care, appointment, at + timedelta(hours=24), 1)
    parked_on_follow_up(care, appointment)  # the link can arrive before the step has stored its state
    return care, appointment, at, token


def parked_on_follow_up(care: CareWorld, appointment: dict[str, Any], number: int = 1) -> dict[str, Any]:
    return eventually(lambda: (f := care.follow_up(appointment, number)) and "taskToken" in f and f, what="follow-up parked")


def high_risk_answered(care: CareWorld) -> tuple[dict[str, Any], datetime]:
    """A patient with an escalation chain answers item 9 and then the screener with intent."""
    care.set_escalation_chain()
    appointment, at = discharged(care)
    token = survey_sent(care, appointment, at + timedelta(hours=24), 1)
    assert care.answer(token, "phq-9", phq9(item9=1)).status == 200
    assert care.answer(token, "c-ssrs-screener", cssrs(cssrs_2=1, cssrs_4=1)).status == 200
    return appointment, care.clock.now()


def follow_up_states(care: CareWorld, appointment: dict[str, Any]) -> list[str]:
    """The states entered since the follow-ups began, in order."""
    states = care.states_entered(appointment)
    return states[states.index("FollowUps") + 1 :]


def test_the_survey_goes_out_24_hours_after_discharge_and_an_answer_completes_it(first_survey) -> None:
    care, appointment, at, token = first_survey
    follow_up = parked_on_follow_up(care, appointment)
    assert datetime.fromisoformat(follow_up["openedAt"]) == at + timedelta(hours=24)
    (_, text), *_ = [m for m in care.sms() if "/survey#" in m[1]]
    assert "Alex" not in text and "Rivera" not in text and "PHQ" not in text  # a link, no PHI
    assert len(token) >= 43 and token not in str(care.items())  # 256 bits; only the hash is stored

    opened = care.open_survey(token)
    assert opened.status == 200 and opened.body["pending"] == ["phq-9"]
    (questionnaire,) = opened.body["questionnaires"]
    assert questionnaire["loinc"] == "44249-1" and len(questionnaire["items"]) == 9

    reply = care.answer(token, "phq-9", phq9(others=2))
    assert reply.status == 200, reply.body
    assert reply.body["finished"] is True and reply.body["crisisResources"] == []
    assert care.status(appointment) == "RUNNING"  # on to the 7-day follow-up
    eventually(lambda: care.follow_up(appointment, 1)["status"] == "completed", what="completed")
    scores = care.call("GET", f"/patients/{appointment['patientId']}/scores").body["instruments"]
    assert [(s["instrument"], [h["total"] for h in s["history"]]) for s in scores] == [("phq-9", [16])]
    assert scores[0]["history"][0]["band"] == "moderately severe"
    # A survey answered works once: the link is spent.
    assert care.open_survey(token).status == 410
    assert care.answer(token, "phq-9", phq9()).status == 410


def test_no_answer_in_24_hours_sends_one_reminder_and_an_answer_then_completes(first_survey) -> None:
    care, appointment, at, token = first_survey
    opened = at + timedelta(hours=24)
    care.sleeping_until(opened + timedelta(hours=24))
    care.advance_to(opened + timedelta(hours=24))
    eventually(lambda: len(care.survey_links()) == 2, what="the reminder's link")
    reminder = care.sms_to(PATIENT_PHONE)[-1]
    assert "reminder" in reminder.lower() and "/survey#" in reminder
    care.sleeping_until(opened + timedelta(hours=72))  # now waits for the expiry, no second reminder
    assert care.answer(token, "phq-9", phq9()).status == 200  # the first link still works
    eventually(lambda: care.follow_up(appointment, 1)["status"] == "completed", what="completed")
    eventually(lambda: "FollowUpClosed" in follow_up_states(care, appointment), what="follow-up 1 closed")
    assert follow_up_states(care, appointment)[:7] == [
        "WaitForFollowUp",
        "AwaitFollowUp",  # 24 h without an answer
        "FollowUpCheck",  # the reminder
        "FollowUpNext?",
        "AwaitFollowUp",  # until the expiry; answered
        "FollowUpNext?",
        "FollowUpClosed",
    ]
    assert len(care.survey_links()) == 2


def test_a_survey_not_answered_by_its_expiry_is_missed_and_on_the_call_list(first_survey) -> None:
    care, appointment, at, token = first_survey
    opened = at + timedelta(hours=24)
    care.sleeping_until(opened + timedelta(hours=24))
    care.advance_to(opened + timedelta(hours=24))
    care.sleeping_until(opened + timedelta(hours=72))
    care.advance_to(opened + timedelta(hours=72))
    eventually(lambda: care.follow_up(appointment, 1)["status"] == "missed", what="missed")
    (call,) = care.alerts()["callList"]
    assert call["appointmentId"] == appointment["appointmentId"] and call["reason"] == "the survey was not answered in time"
    assert care.answer(token, "phq-9", phq9()).status == 410  # expired: nothing stored
    assert care.call("GET", f"/patients/{appointment['patientId']}/scores").body["instruments"] == []
    care.sleeping_until(at + timedelta(hours=168))  # the workflow goes on to the next follow-up


def test_item_9_positive_brings_the_screener_and_high_risk_pages_the_on_call_who_acknowledges(care: CareWorld) -> None:
    care.set_escalation_chain()
    appointment, at = discharged(care)
    token = survey_sent(care, appointment, at + timedelta(hours=24), 1)
    parked_on_follow_up(care, appointment)

    reply = care.answer(token, "phq-9", phq9(item9=1, others=0))
    assert reply.status == 200
    assert reply.body["pending"] == ["c-ssrs-screener"] and reply.body["finished"] is False
    assert {r["contact"].split()[0] for r in reply.body["crisisResources"]} >= {"Call"}
    assert "988" in str(reply.body["crisisResources"]) and "911" in str(reply.body["crisisResources"])
    submitted_at = care.clock.now()

    reply = care.answer(token, "c-ssrs-screener", cssrs(cssrs_2=1, cssrs_4=1))
    assert reply.status == 200 and reply.body["finished"] is True and reply.body["crisisResources"]
    (page,) = eventually(lambda: care.sms_to(PAGERS["dr-on-call"]), what="the on-call page")
    assert "URGENT" in page and "Alex" not in page and "/escalations/" in page
    escalation_id = page.rsplit("/escalations/", 1)[1]
    (open_escalation,) = eventually(lambda: care.alerts()["escalations"], what="the escalation on the alerts")
    assert open_escalation["escalationId"] == escalation_id and "risk high" in open_escalation["reason"]

    assert care.call("POST", f"/escalations/{escalation_id}/acknowledge", {"note": "called"}, role="front-desk").status == 403
    ack = care.call("POST", f"/escalations/{escalation_id}/acknowledge", {"note": "called the patient"}, role="clinician")
    assert ack.status == 200 and ack.body["acknowledged"]["by"] == "clinician-user"
    assert care.call("POST", f"/escalations/{escalation_id}/acknowledge", {}, role="clinician").status == 409
    eventually(lambda: care.alerts()["escalations"] == [], what="escalation off the alerts")
    # The workflow moves on to the 7-day follow-up; past the backup's and the lead's times
    # (15 and 30 min), nobody else was paged.
    care.sleeping_until(at + timedelta(hours=168))
    care.advance_to(submitted_at + timedelta(minutes=31))
    assert care.sms_to(PAGERS["dr-backup"]) == [] and care.sms_to(PAGERS["dr-lead"]) == []
    stored = care.call("GET", f"/escalations/{escalation_id}").body
    assert [p["level"] for p in stored["pages"]] == ["on-call"]
    assert datetime.fromisoformat(stored["pages"][0]["at"]) == submitted_at  # paged in the same virtual minute
    assert follow_up_states(care, appointment)[:11] == [
        "WaitForFollowUp",
        "AwaitFollowUp",  # PHQ-9 with item 9 above 0: resumed with the screener's deadline
        "FollowUpNext?",
        "AwaitFollowUp",  # the screener: high risk, resumed at once
        "FollowUpNext?",
        "StartPaging",  # counts the pages: the chain is paged escalationRounds times at most
        "Escalate",  # the on-call is paged; acknowledged
        "FollowUpCheck",
        "FollowUpNext?",
        "FollowUpClosed",
        "WaitForFollowUp",  # on to the 7-day follow-up
    ]


def test_an_unacknowledged_page_goes_to_the_backup_after_15_minutes_and_the_lead_after_30(care: CareWorld) -> None:
    care.set_escalation_chain()
    appointment, at = discharged(care)
    token = survey_sent(care, appointment, at + timedelta(hours=24), 1)
    assert care.answer(token, "phq-9", phq9(item9=2)).status == 200
    assert care.answer(token, "c-ssrs-screener", cssrs(cssrs_6=1, cssrs_6_recent=1)).status == 200  # behaviour, past 3 months
    start = care.clock.now()
    eventually(lambda: care.sms_to(PAGERS["dr-on-call"]), what="on-call paged")
    care.sleeping_until(start + timedelta(minutes=15))
    care.advance_to(start + timedelta(minutes=15))
    eventually(lambda: care.sms_to(PAGERS["dr-backup"]), what="backup paged")
    assert care.sms_to(PAGERS["dr-lead"]) == []
    care.sleeping_until(start + timedelta(minutes=30))
    care.advance_to(start + timedelta(minutes=30))
    eventually(lambda: care.sms_to(PAGERS["dr-lead"]), what="lead paged")
    # A page is sent, then recorded: a retry may page twice, never zero times.
    (escalation,) = eventually(
        lambda: (found := care.alerts()["escalations"]) and len(found[0]["pages"]) == 3 and found, what="3 pages recorded"
    )
    assert [(p["level"], p["providerId"], p["at"]) for p in escalation["pages"]] == [
        ("on-call", "dr-on-call", start.isoformat().replace("+00:00", "Z")),
        ("backup", "dr-backup", (start + timedelta(minutes=15)).isoformat().replace("+00:00", "Z")),
        ("lead", "dr-lead", (start + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")),
    ]
    ack = care.call("POST", f"/escalations/{escalation['escalationId']}/acknowledge", {"note": "reached"}, role="clinician")
    assert ack.status == 200
    care.sleeping_until(at + timedelta(hours=168))
    care.advance_to(start + timedelta(minutes=46))  # past the next round's time: nobody is paged again
    assert len(care.sms_to(PAGERS["dr-on-call"])) == 1 and len(care.sms_to(PAGERS["dr-lead"])) == 1


def test_an_unanswered_screener_counts_as_high_risk_after_its_deadline(care: CareWorld) -> None:
    care.set_escalation_chain()
    appointment, at = discharged(care)
    token = survey_sent(care, appointment, at + timedelta(hours=24), 1)
    assert care.answer(token, "phq-9", phq9(item9=1)).status == 200
    answered = care.clock.now()
    care.sleeping_until(answered + timedelta(minutes=30))  # screenerAnswerMinutes
    assert care.sms_to(PAGERS["dr-on-call"]) == []
    care.advance_to(answered + timedelta(minutes=30))
    eventually(lambda: care.sms_to(PAGERS["dr-on-call"]), what="on-call paged")
    (escalation,) = eventually(lambda: care.alerts()["escalations"], what="the escalation on the alerts")
    assert escalation["reason"] == "PHQ-9 item 9 above 0 and the C-SSRS screener not answered in time"


def test_a_lower_risk_positive_creates_a_same_day_task_for_a_clinician(care: CareWorld) -> None:
    appointment, at = discharged(care)
    token = survey_sent(care, appointment, at + timedelta(hours=24), 1)
    assert care.answer(token, "phq-9", phq9(item9=1)).status == 200
    reply = care.answer(token, "c-ssrs-screener", cssrs(cssrs_1=1))  # wish to be dead, no thoughts: low risk
    assert reply.body["crisisResources"]  # still shown to the patient
    (task,) = eventually(lambda: care.alerts()["tasks"], what="a task")
    assert task["reason"] == "PHQ-9 item 9 above 0; C-SSRS screener risk low"
    due = datetime.fromisoformat(task["dueAt"]).astimezone(ZONE)
    assert (due.hour, due.minute) == (23, 59)
    assert care.alerts()["escalations"] == []
    assert any(subject == "Same-day follow-up task" for subject, _ in care.pages())
    done = care.call("POST", f"/tasks/{task['taskId']}/complete", {"note": "called, safe plan in place"}, role="clinician")
    assert done.status == 200 and done.body["completed"]["by"] == "clinician-user"
    assert care.alerts()["tasks"] == []


def test_answers_are_checked_item_by_item_and_a_refusal_stores_nothing(first_survey) -> None:
    care, _, _, token = first_survey
    before = care.items()
    out_of_range = care.answer(token, "phq-9", {**phq9(), "phq9-3": 4})
    assert out_of_range.status == 422 and out_of_range.body["fields"][0]["field"] == "answers.phq9-3"
    missing = care.answer(token, "phq-9", {k: v for k, v in phq9().items() if k != "phq9-9"})
    assert missing.status == 422 and missing.body["fields"][0] == {"field": "answers.phq9-9", "problem": "is missing"}
    wrong_type = care.answer(token, "phq-9", {**phq9(), "phq9-1": "2"})
    assert wrong_type.status == 422 and "phq9-1" in wrong_type.body["fields"][0]["field"]
    a_bool = care.answer(token, "phq-9", {**phq9(), "phq9-1": True})
    assert a_bool.status == 422 and "phq9-1" in a_bool.body["fields"][0]["field"]
    unknown = care.answer(token, "phq-9", {**phq9(), "phq9-10": 1})
    assert unknown.status == 422 and unknown.body["fields"][0]["field"] == "answers.phq9-10"
    not_asked = care.answer(token, "gad-7", gad7())
    assert not_asked.status == 409
    assert care.items() == before


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: t[::-1], lambda t: "x" * 43],
    ids=["one-character-changed", "reversed", "made-up"],
)
def test_a_tampered_or_made_up_token_is_refused_with_401(first_survey, mangle) -> None:
    care, _, _, token = first_survey
    before = care.items()
    assert care.open_survey(mangle(token)).status == 401
    reply = care.answer(mangle(token), "phq-9", phq9())
    assert reply.status == 401 and reply.body["code"] == "link_invalid"
    assert care.items() == before


def test_a_reminder_link_cannot_open_a_survey_nor_a_survey_link_confirm(care: CareWorld) -> None:
    appointment = care.book_session()
    confirm_token = care.first_reminder(appointment).split("/confirm#")[1]
    assert care.open_survey(confirm_token).status == 401
    appointment, at = discharged(care, appointment)
    survey_token = survey_sent(care, appointment, at + timedelta(hours=24), 1)
    confirm = care.call("POST", "/public/confirmations", {"token": survey_token, "attending": True, "rideArranged": True}, role=None)
    assert confirm.status == 401


def test_a_token_answers_only_its_own_patients_survey(care: CareWorld) -> None:
    first, first_at = discharged(care, care.book_session(key="first-patient-booking"))
    second = care.book_session(key="second-patient-booking", hour=14)
    second, second_at = discharged(care, second)
    token_first = survey_sent(care, first, first_at + timedelta(hours=24), 1)
    token_second = survey_sent(care, second, second_at + timedelta(hours=24), 2)
    assert care.answer(token_first, "phq-9", phq9(others=3)).status == 200
    # The body cannot name another survey: the token alone decides which one it answers.
    smuggled = care.call(
        "POST",
        "/public/surveys/answers",
        {"token": token_first, "instrument": "phq-9", "answers": phq9(), "appointmentId": second["appointmentId"]},
        role=None,
    )
    assert smuggled.status == 422
    assert care.follow_up(second, 1)["status"] == "open"
    assert care.open_survey(token_second).body["pending"] == ["phq-9"]
    history = care.call("GET", f"/patients/{second['patientId']}/scores").body["instruments"]
    assert history == []


def test_score_history_shows_baseline_response_and_the_record_exports_as_fhir(care: CareWorld) -> None:
    appointment = full_session(care)  # PHQ-9 16 at 24 h, then 8 with GAD-7 7 at 7 days
    patient = appointment["patientId"]
    instruments = {i["instrument"]: i for i in care.call("GET", f"/patients/{patient}/scores").body["instruments"]}
    assert [h["total"] for h in instruments["phq-9"]["history"]] == [16, 8]
    assert instruments["phq-9"]["progress"] == {
        "instrument": "phq-9", "baseline": 16, "latest": 8, "changePercent": -50.0, "response": True, "remission": False,
    }
    assert [h["total"] for h in instruments["gad-7"]["history"]] == [7]

    assert care.call("GET", f"/patients/{patient}/fhir", role="front-desk").status == 403
    export = care.call("GET", f"/patients/{patient}/fhir", role="clinician")
    bundle = Bundle.model_validate(export.body)
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds.count("QuestionnaireResponse") == 3 and kinds.count("Appointment") == 1
    assert kinds.count("Observation") == 3 + 2  # 3 scores; the pre-dose and the post-dose pressure


def test_a_patient_treated_for_ptsd_gets_the_pcl5_once_a_month(care: CareWorld) -> None:
    patient = care.register_patient(key="ptsd-patient-key", treatingPtsd=True)
    reply = care.book(patient["patientId"], at(NOW.date() + timedelta(days=5), 10), key="ptsd-booking")
    appointment, discharged_at = discharged(care, reply.body)
    first = survey_sent(care, appointment, discharged_at + timedelta(hours=24), 1)
    assert care.open_survey(first).body["pending"] == ["phq-9", "pcl-5"]
    assert care.answer(first, "phq-9", phq9()).status == 200
    pcl5 = {f"pcl5-{n}": 2 for n in range(1, 21)}  # 40: above the cutoff
    assert care.answer(first, "pcl-5", pcl5).status == 200
    second = survey_sent(care, appointment, discharged_at + timedelta(hours=168), 2)
    assert care.open_survey(second).body["pending"] == ["phq-9", "gad-7"]  # answered 6 days ago
    history = {i["instrument"]: i for i in care.call("GET", f"/patients/{patient['patientId']}/scores").body["instruments"]}
    assert history["pcl-5"]["history"][0]["flags"] == ["probable-ptsd"]


def test_every_follow_up_step_run_twice_sends_one_link_and_pages_once(care: CareWorld, monkeypatch) -> None:
    """Step Functions may re-run a task that already took effect."""
    for name in ("await_follow_up", "follow_up_check", "escalate"):
        real = getattr(CareWorkflow, name)

        def twice(self, *args, _real=real, **kwargs):
            _real(self, *args, **kwargs)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(CareWorkflow, name, twice)
    care.set_escalation_chain()
    appointment, at = discharged(care)
    token = survey_sent(care, appointment, at + timedelta(hours=24), 1)
    assert care.answer(token, "phq-9", phq9(item9=3)).status == 200
    assert care.answer(token, "c-ssrs-screener", cssrs(cssrs_2=1, cssrs_5=1)).status == 200
    (escalation,) = eventually(lambda: care.alerts()["escalations"], what="the escalation")
    assert care.call("POST", f"/escalations/{escalation['escalationId']}/acknowledge", {}, role="clinician").status == 200
    care.sleeping_until(at + timedelta(hours=168))
    care.advance_to(at + timedelta(hours=24, minutes=31))  # past the backup's and the lead's times
    assert len(care.survey_links()) == 1 and len(care.sms_to(PAGERS["dr-on-call"])) == 1
    assert care.sms_to(PAGERS["dr-backup"]) == []


def test_answers_that_cannot_reach_the_workflow_are_kept_flagged_and_the_deadline_still_pages(care: CareWorld, monkeypatch) -> None:
    care.set_escalation_chain()
    appointment, at = discharged(care)
    token = survey_sent(care, appointment, at + timedelta(hours=24), 1)
    parked_on_follow_up(care, appointment)

    def unavailable(self, token, output):
        raise TemporarilyUnavailable("Step Functions is throttling")

    monkeypatch.setattr(StepFunctionsEngine, "resume", unavailable)
    assert care.answer(token, "phq-9", phq9(item9=1)).status == 200  # the patient still sees crisis resources
    (review,) = care.alerts()["tasks"]
    assert review["reason"] == "survey answers could not reach the care workflow: review them now"
    assert review["dueAt"] == review["createdAt"]
    # The workflow's own deadline (the reminder, 24 h) looks again and finds the screener overdue.
    care.sleeping_until(at + timedelta(hours=48))
    care.advance_to(at + timedelta(hours=48))
    eventually(lambda: care.sms_to(PAGERS["dr-on-call"]), what="on-call paged")


def test_an_escalation_past_the_whole_chain_pages_the_lead_again_and_alarms_the_operator(care: CareWorld, monkeypatch) -> None:
    alarms: list[bool] = []
    monkeypatch.setattr(workflow_handler, "_unacknowledged_past_the_chain", lambda: alarms.append(True))
    _, start = high_risk_answered(care)
    eventually(lambda: care.sms_to(PAGERS["dr-on-call"]), what="on-call paged")
    # Each page is awaited before the clock moves on, as real time would wait for it.
    for minutes, pager, count in ((15, "dr-backup", 1), (30, "dr-lead", 1), (45, "dr-lead", 2)):
        care.sleeping_until(start + timedelta(minutes=minutes))
        care.advance_to(start + timedelta(minutes=minutes))
        eventually(lambda pager=pager, count=count: len(care.sms_to(PAGERS[pager])) == count, what=f"{pager} paged")
    eventually(lambda: alarms, what="the operator's metric")
    assert len(alarms) == 1  # the on-call, backup and first lead pages raised none


def test_after_three_rounds_of_the_chain_paging_stops_and_the_escalation_is_handed_to_the_alerts(care: CareWorld, monkeypatch) -> None:
    """escalationRounds (3): nine pages, 15 minutes apart, then no more: the execution moves on,
    every clinician is paged once to look at the alerts, the operator's metric counts it, and
    the escalation stays open there, still acknowledgeable."""
    counted: list[str] = []
    monkeypatch.setattr(workflow_handler, "_count", counted.append)
    appointment, start = high_risk_answered(care)
    eventually(lambda: care.sms_to(PAGERS["dr-on-call"]), what="on-call paged")
    # Each page is awaited before the clock moves on, as real time would wait for it.
    for page in range(2, 10):  # the backup, then the lead each time
        minutes = 15 * (page - 1)
        care.sleeping_until(start + timedelta(minutes=minutes))
        care.advance_to(start + timedelta(minutes=minutes))
        pager, count = ("dr-backup", 1) if page == 2 else ("dr-lead", page - 2)
        eventually(lambda pager=pager, count=count: len(care.sms_to(PAGERS[pager])) == count, what=f"page {page}")
    care.sleeping_until(start + timedelta(minutes=135))
    care.advance_to(start + timedelta(minutes=135))  # the ninth page's window ends unacknowledged
    handed_off = eventually(
        lambda: [m for s, m in care.pages() if s == "URGENT safety alert unacknowledged"], what="the hand-off page"
    )
    (escalation,) = care.alerts()["escalations"]
    assert len(handed_off) == 1 and f"/escalations/{escalation['escalationId']}" in handed_off[0]
    assert "Alex" not in handed_off[0] and PATIENT_PHONE not in handed_off[0]
    eventually(lambda: "EscalationHandedOff" in counted, what="the operator's hand-off metric")
    states = eventually(
        lambda: (s := follow_up_states(care, appointment)) and s[-1] == "WaitForFollowUp" and s, what="on to the 7-day follow-up"
    )
    assert states.count("Escalate") == 9 and states.count("HandOffEscalation") == 1
    assert states[states.index("HandOffEscalation") + 1] == "FollowUpCheck"
    care.advance_to(start + timedelta(hours=6))  # no timer is left to page anyone again
    # The on-call had the first page, then the hand-off (pages about an escalation go to the clinic's on-call).
    assert len(care.sms_to(PAGERS["dr-lead"])) == 7 and len(care.sms_to(PAGERS["dr-on-call"])) == 2
    assert counted.count("EscalationHandedOff") == 1
    assert len(care.history(appointment)) < 1_000  # Step Functions fails an execution at 25,000 events
    # Run again (a retried invocation): the clinicians are not paged twice.
    again = {"step": "hand-off-escalation", "organizationId": "practice-a", "appointmentId": appointment["appointmentId"], "run": 1, "number": 1}
    assert workflow_handler.lambda_handler(again, LambdaContext()) == {"handedOff": True}
    assert len([s for s, _ in care.pages() if s == "URGENT safety alert unacknowledged"]) == 1
    ack = care.call("POST", f"/escalations/{escalation['escalationId']}/acknowledge", {"note": "reached"}, role="clinician")
    assert ack.status == 200 and care.status(appointment) == "RUNNING"


def test_a_step_that_finds_the_expiry_already_due_hands_it_to_the_check(first_survey, monkeypatch) -> None:
    """A late invocation (or late answers) can find the reminder or the expiry already due;
    FollowUpNext? must route that to FollowUpCheck, not close the follow-up unhandled."""
    care, appointment, at, _ = first_survey
    opened = at + timedelta(hours=24)
    real = CareWorkflow.await_follow_up
    calls: list[int] = []

    def late_once(self, *args, **kwargs):
        calls.append(1)  # the first call here is the wait after the reminder (the fixture made the first wait)
        if len(calls) != 1:
            return real(self, *args, **kwargs)
        clock = self.follow_ups.clock
        self.follow_ups.clock = lambda: opened + timedelta(hours=72)  # this one run sees the link expired
        try:
            return real(self, *args, **kwargs)
        finally:
            self.follow_ups.clock = clock

    monkeypatch.setattr(CareWorkflow, "await_follow_up", late_once)
    care.sleeping_until(opened + timedelta(hours=24))
    care.advance_to(opened + timedelta(hours=24))  # the reminder's check, then the late wait
    eventually(lambda: len(calls) >= 2, what="waiting again after the check")
    assert follow_up_states(care, appointment)[:8] == [
        "WaitForFollowUp", "AwaitFollowUp", "FollowUpCheck", "FollowUpNext?",
        "AwaitFollowUp", "FollowUpNext?",  # resumed at once with "expire"
        "FollowUpCheck", "FollowUpNext?",  # the check looks again (on time, nothing expired) and waits
    ]
    assert care.follow_up(appointment, 1)["status"] == "open"


def test_a_survey_link_that_cannot_be_sent_puts_the_patient_on_the_call_list_at_once(care: CareWorld) -> None:
    patient = care.register_patient(key="email-only-patient", phone=None, email="pat@example.org")  # no email sender here
    reply = care.book(patient["patientId"], at(NOW.date() + timedelta(days=5), 10), key="email-only-booking")
    appointment, discharged_at = discharged(care, reply.body)
    opened = discharged_at + timedelta(hours=24)
    care.sleeping_until(opened)
    care.advance_to(opened)
    (call,) = eventually(lambda: care.alerts()["callList"], what="on the call list")
    assert (call["appointmentId"], call["reason"]) == (appointment["appointmentId"], "the survey link could not be sent")
    assert care.follow_up(appointment, 1)["status"] == "open"  # the front desk may still reach them in time
    care.sleeping_until(opened + timedelta(hours=24))  # the workflow still waits for the reminder and the expiry


def test_a_refused_pager_sends_the_page_to_the_rest_of_the_clinic_s_chain_and_no_other_clinic_s(care: CareWorld, faults) -> None:
    """A number that refuses SMS (opted out, invalid) must not stop a suicide-risk page; and a
    page never leaves its clinic (another clinic of the same practice, with its own chain,
    receives nothing)."""
    care.set_up_clinic(clinic="south")  # its chain: Dr B and Nurse A, with their own pagers
    south = {"dr-b": "+15555550980", "nurse-a": "+15555550981"}
    for provider, pager in south.items():
        body = {"name": provider, "role": "prescriber", "capacity": 1, "workingHours": ALL_WEEK, "pager": pager}
        assert care.call("PUT", f"/clinics/south/providers/{provider}", body, role="admin").status == 200, provider
    refused = faults.inject(
        lambda call: call.operation == "Publish" and call.params.get("PhoneNumber") == PAGERS["dr-on-call"], "InvalidParameter"
    )
    appointment, start = high_risk_answered(care)

    (page,) = eventually(lambda: care.sms_to(PAGERS["dr-backup"]), what="the page to the rest of the chain")
    assert refused.hits and "on-call's pager refused the page" in page and "/escalations/" in page
    assert eventually(lambda: care.sms_to(PAGERS["dr-lead"]), what="the lead has it too") == [page]
    (escalation,) = eventually(lambda: care.alerts()["escalations"], what="the escalation on the alerts")
    assert [(p["level"], p.get("providerId")) for p in escalation["pages"]] == [("on-call", None)]
    care.sleeping_until(start + timedelta(minutes=15))
    care.advance_to(start + timedelta(minutes=15))
    eventually(lambda: len(care.sms_to(PAGERS["dr-backup"])) == 2, what="the backup paged in turn 15 minutes later")
    assert care.status(appointment) == "RUNNING"
    assert [text for to, text in care.sms() if to in {*south.values(), *SET_UP_PAGERS.values()}] == []


def test_a_failure_whose_flag_cannot_be_written_still_pages_the_clinicians(care: CareWorld, faults, monkeypatch) -> None:
    appointment = care.book_session()

    def broken(self, *args, **kwargs):
        raise RuntimeError("a step that fails for good")

    monkeypatch.setattr(CareWorkflow, "remind", broken)
    monkeypatch.setattr(CareWorkflow, "reminder_failed", broken)  # the reminders fail for good: needs attention
    flag_refused = faults.inject(lambda call: call.operation == "TransactWriteItems" and call.step == "needs-attention", "AccessDeniedException")

    care.advance_to(datetime.fromisoformat(appointment["start"]) - timedelta(hours=48))  # the first reminder fails
    pages = eventually(lambda: [p for p in care.pages() if "could not be recorded" in p[1]], what="the page")

    assert flag_refused.hits
    assert appointment["appointmentId"] in pages[0][1] and "Alex" not in pages[0][1]
    assert eventually(lambda: care.finished(appointment) == "FAILED", what="the run ends for the operator's alarm")


def test_an_item_9_answer_landing_while_the_link_step_parks_still_gets_the_screener_deadline(care: CareWorld, monkeypatch) -> None:
    """The patient answers in the instant between the link going out and the step storing
    its token (seen on CI): the wait the step was given (the 24 h reminder) no longer fits,
    so the unanswered screener must still page 30 minutes after the answer, not a day later."""
    from clinic.usecases.follow_ups import FollowUps

    care.set_escalation_chain()
    appointment, at = discharged(care)
    real_send = FollowUps._send_survey_link
    answered: list[datetime] = []

    def send_then_answer(self, follow_up, purpose, intro):
        sent = real_send(self, follow_up, purpose, intro)
        if not answered and care.survey_links():
            answered.append(care.clock.now())
            assert care.answer(care.survey_links()[0], "phq-9", phq9(item9=1)).status == 200
        return sent

    monkeypatch.setattr(FollowUps, "_send_survey_link", send_then_answer)
    care.sleeping_until(at + timedelta(hours=24))
    care.advance_to(at + timedelta(hours=24))
    eventually(lambda: answered, what="the answer between the link and the park")
    care.sleeping_until(answered[0] + timedelta(minutes=30))  # the screener's deadline, not the reminder's
    care.advance_to(answered[0] + timedelta(minutes=30))
    eventually(lambda: care.sms_to(PAGERS["dr-on-call"]), what="on-call paged")
