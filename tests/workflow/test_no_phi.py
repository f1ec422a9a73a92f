"""PHI stays in the table: a whole session with sentinel values in every PHI field, then a
search of what leaves it (logs, execution input, output and history, messages, pages)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from clinic.api import app as api_app

from tests.support.logs import captured_logs
from tests.support.timing import eventually
from tests.support.world import CHECKLIST, at
from tests.workflow.conftest import NOW, CareWorld, cssrs, phq9

SENTINELS = {
    "givenName": "Zebulonsentinel",
    "familyName": "Quixotesentinel",
    "birthDate": "1931-07-13",
    "email": "sentinel.patient@example.org",
    "emergencyContact": {"name": "Opheliasentinel Contact", "phone": "+15555550777"},
}
PHONE = "+15555559876"
OVERRIDE_REASON = "sentinel-override-reason"
ADVERSE_EVENTS = "sentinel-adverse-event"
ACK_NOTE = "sentinel-acknowledgment-note"


SECRETS = [
    SENTINELS["givenName"],
    SENTINELS["familyName"],
    SENTINELS["birthDate"],
    SENTINELS["email"],
    SENTINELS["emergencyContact"]["name"],
    SENTINELS["emergencyContact"]["phone"],
    PHONE,
    OVERRIDE_REASON,
    ADVERSE_EVENTS,
    ACK_NOTE,
    # What the answers were and what they mean stays out too: item ids, scores, flags, risk.
    "phq9-9",
    "cssrs-4",
    "suicidal-ideation",
    "page-on-call",
    "moderately severe",
    "risk high",
]


def phi_in(leaving: dict[str, str]) -> dict[str, list[str]]:
    """Which of the sentinel values each place holds."""
    return {where: [s for s in SECRETS if s in text] for where, text in leaving.items()}


def test_the_log_capture_sees_a_planted_leak(care: CareWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The search below is only worth something if a real leak reaches it: a handler that logs
    each request's body at DEBUG (the bug this guards against) must be found."""
    real_handler = api_app.lambda_handler

    def leaky_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        api_app.logger.debug("request", extra={"body": event.get("body")})
        return real_handler(event, context)

    monkeypatch.setattr(api_app, "lambda_handler", leaky_handler)
    with captured_logs() as logs:
        care.register_patient(key="leaky-patient", phone=PHONE, **SENTINELS)
    assert phi_in({"logs": logs.text})["logs"][:3] == [SENTINELS["givenName"], SENTINELS["familyName"], SENTINELS["birthDate"]]


def test_a_whole_session_leaves_no_phi_in_logs_executions_or_messages(care: CareWorld) -> None:
    with captured_logs() as logs:
        leaving = _run_a_whole_session(care)
    leaving["logs"] = logs.text
    records = logs.records()
    assert care.pages() and care.sms()  # there was something to search
    # Real records were captured (the API logs nothing on success; the planted-leak test
    # above shows its DEBUG records reach the same capture).
    assert [r for r in records if r.get("message") == "workflow step done" and r.get("level") == "INFO"]
    assert any("/escalations/" in text for _, text in care.sms())  # the safety page went out
    assert phi_in(leaving) == {where: [] for where in leaving}


def _run_a_whole_session(care: CareWorld) -> dict[str, str]:
    """Books, doses (over the pressure limit, overridden), discharges, answers a high-risk
    survey and acknowledges the page; returns what left the table, by where it went."""
    care.set_escalation_chain()
    patient = care.register_patient(key="sentinel-patient", phone=PHONE, **SENTINELS)
    reply = care.book(patient["patientId"], at(NOW.date() + timedelta(days=5), 10), key="sentinel-booking")
    assert reply.status == 201
    appointment = reply.body
    start = datetime.fromisoformat(appointment["start"])

    care.first_reminder(appointment)
    care.advance_to(start - timedelta(minutes=5))
    assert care.act(appointment, "check-in", role="front-desk").status == 200
    care.advance_to(start)
    care.parked_at(appointment, "dose")
    override = {"prescriberId": "dr-b", "reason": OVERRIDE_REASON}
    assert care.dose(appointment, start, preDoseBloodPressure={"systolic": 151, "diastolic": 97}, override=override).status == 200
    care.advance_to(start + timedelta(minutes=40))  # no pressure taken: the clinicians are paged
    care.parked_at(appointment, "discharge")
    care.advance_to(start + timedelta(minutes=125))
    body = {"checklist": CHECKLIST, "adverseEvents": ADVERSE_EVENTS}
    assert care.act(appointment, "discharge", body).status == 200
    care.advance_to(start + timedelta(minutes=125, hours=24))
    token = eventually(lambda: care.survey_links(), what="the first survey link")[0]
    assert care.answer(token, "phq-9", phq9(item9=3, others=2)).status == 200
    assert care.answer(token, "c-ssrs-screener", cssrs(cssrs_2=1, cssrs_4=1)).status == 200
    (escalation,) = eventually(lambda: care.alerts()["escalations"], what="the escalation")
    acknowledged = care.call("POST", f"/escalations/{escalation['escalationId']}/acknowledge", {"note": ACK_NOTE}, role="clinician")
    assert acknowledged.status == 200
    care.sleeping_until(start + timedelta(minutes=125, hours=168))  # the workflow went on

    history = care.sfn.get_execution_history(
        executionArn=care.execution_arn(appointment), includeExecutionData=True, maxResults=1000
    )["events"]
    described = care.sfn.describe_execution(executionArn=care.execution_arn(appointment))
    return {
        "execution input": described["input"],
        "execution history": json.dumps(history, default=str),
        "patient messages and safety pages": json.dumps([text for _, text in care.sms()]),
        "clinician pages": json.dumps(care.pages()),
    }
