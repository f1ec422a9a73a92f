"""PHI stays in the table: a whole session with sentinel values in every PHI field, then a
search of what leaves it (logs, execution input, output and history, messages, pages)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from clinic.api import app as api_app
from clinic.workflow import handler as workflow_handler

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


@pytest.fixture
def verbose_logs(capfd) -> Iterator[None]:
    """Everything the functions would log, debug included, to the stream the test captures
    (their handlers still hold the stdout of the moment they were imported)."""
    loggers = (api_app.logger, workflow_handler.logger)
    levels = [logger.log_level for logger in loggers]
    streams = [[handler.setStream(sys.stdout) for handler in logger.handlers] for logger in loggers]
    for logger in loggers:
        logger.setLevel("DEBUG")
    yield
    for logger, level, old in zip(loggers, levels, streams, strict=True):
        logger.setLevel(level)
        for handler, stream in zip(logger.handlers, old, strict=True):
            handler.stream = stream  # setStream would flush the capture, closed by now


def test_a_whole_session_leaves_no_phi_in_logs_executions_or_messages(care: CareWorld, capfd, verbose_logs) -> None:
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
    out, err = capfd.readouterr()
    leaving = {
        "logs": out + err,
        "execution input": described["input"],
        "execution history": json.dumps(history, default=str),
        "patient messages and safety pages": json.dumps([text for _, text in care.sms()]),
        "clinician pages": json.dumps(care.pages()),
    }
    assert care.pages() and care.sms() and "workflow step done" in out + err  # there was something to search
    assert any("/escalations/" in text for _, text in care.sms())  # the safety page went out
    secrets = [
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
    found = {where: [s for s in secrets if s in text] for where, text in leaving.items()}
    assert found == {where: [] for where in leaving}
