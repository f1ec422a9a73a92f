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
from tests.workflow.conftest import NOW, CareWorld

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
    eventually(lambda: care.follow_up(appointment, 1), what="the first follow-up")

    history = care.sfn.get_execution_history(
        executionArn=care.execution_arn(appointment), includeExecutionData=True, maxResults=1000
    )["events"]
    described = care.sfn.describe_execution(executionArn=care.execution_arn(appointment))
    out, err = capfd.readouterr()
    leaving = {
        "logs": out + err,
        "execution input": described["input"],
        "execution history": json.dumps(history, default=str),
        "patient messages": json.dumps([text for _, text in care.sms()]),
        "clinician pages": json.dumps(care.pages()),
    }
    assert care.pages() and care.sms() and "workflow step done" in out + err  # there was something to search
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
    ]
    found = {where: [s for s in secrets if s in text] for where, text in leaving.items()}
    assert found == {where: [] for where in leaving}
