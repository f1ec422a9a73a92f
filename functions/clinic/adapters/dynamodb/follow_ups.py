"""Follow-up surveys, answers and scores, escalations and tasks, and a clinic's alerts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ...domain.appointments import FlaggedAppointment
from ...domain.errors import StaleRecord
from ...domain.escalations import ClinicianTask, Escalation
from ...domain.followups import FollowUp, QuestionnaireAnswers, ScoreRecord
from ...domain.instants import utc_text
from .table import BOARD_INDEX, TableAccess, from_item, to_item


def follow_up_key(appointment_id: str, number: int) -> dict[str, str]:
    return {"pk": f"APPT#{appointment_id}", "sk": f"FOLLOWUP#{number:02d}"}


def follow_up_item(follow_up: FollowUp) -> dict[str, Any]:
    item = to_item(follow_up, **follow_up_key(follow_up.appointment_id, follow_up.number), type="follow-up")
    if follow_up.on_call_list:  # the front desk's call list, on the clinic's alerts
        at = utc_text(follow_up.closed_at or follow_up.opened_at)
        item |= {"gsi1pk": f"ALERTS#{follow_up.clinic_id}", "gsi1sk": f"call#{at}#{follow_up.follow_up_id}"}
    return item


class FollowUpTable(TableAccess):
    """Follow-ups, questionnaire responses and scores, escalations, clinician tasks."""

    def get_follow_up(self, appointment_id: str, number: int) -> FollowUp | None:
        item = self._call(self.table.get_item, Key=follow_up_key(appointment_id, number)).get("Item")
        return FollowUp.model_validate(from_item(item)) if item else None

    def save_follow_up(self, before: FollowUp | None, after: FollowUp) -> None:
        """Raises StaleRecord when someone changed it since `before` was read."""
        if self._transact([self._versioned_put(follow_up_item(after), before and before.version)]) is not None:
            raise StaleRecord("the follow-up changed meanwhile")

    def record_answers(self, before: FollowUp, after: FollowUp, response: QuestionnaireAnswers, score: ScoreRecord) -> None:
        """The follow-up's new state, the answers and their score: all or nothing."""
        patient = f"PATIENT#{response.patient_id}"
        response_key = f"QR#{utc_text(response.authored)}#{response.response_id}"
        score_key = f"OBS#{score.instrument}#{utc_text(score.effective)}#{score.observation_id}"
        operations = [
            self._versioned_put(follow_up_item(after), before.version),
            {"Put": {"TableName": self.name, "Item": to_item(response, pk=patient, sk=response_key, type="questionnaire-response")}},
            {"Put": {"TableName": self.name, "Item": to_item(score, pk=patient, sk=score_key, type="score")}},
        ]
        if self._transact(operations) is not None:
            raise StaleRecord("the follow-up changed meanwhile")

    def scores(self, patient_id: str) -> list[ScoreRecord]:
        """Every score of the patient, by instrument then time."""
        return self._patient_records(patient_id, "OBS#", ScoreRecord)

    def latest_score(self, patient_id: str, instrument: str) -> ScoreRecord | None:
        page = self._call(
            self.table.query,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": f"PATIENT#{patient_id}", ":prefix": f"OBS#{instrument}#"},
            ScanIndexForward=False,
            Limit=1,
        )
        return ScoreRecord.model_validate(from_item(page["Items"][0])) if page.get("Items") else None

    def questionnaire_responses(self, patient_id: str) -> list[QuestionnaireAnswers]:
        return self._patient_records(patient_id, "QR#", QuestionnaireAnswers)

    def get_escalation(self, escalation_id: str) -> Escalation | None:
        item = self._call(self.table.get_item, Key={"pk": f"ESCALATION#{escalation_id}", "sk": "ESCALATION"}).get("Item")
        return Escalation.model_validate(from_item(item)) if item else None

    def save_escalation(self, before: Escalation | None, after: Escalation) -> None:
        item = to_item(after, pk=f"ESCALATION#{after.escalation_id}", sk="ESCALATION", type="escalation")
        if after.open:  # open escalations are on the clinic's alerts
            item |= {"gsi1pk": f"ALERTS#{after.clinic_id}", "gsi1sk": f"escalation#{utc_text(after.started_at)}#{after.escalation_id}"}
        if self._transact([self._versioned_put(item, before and before.version)]) is not None:
            raise StaleRecord("the escalation changed meanwhile")

    def get_task(self, task_id: str) -> ClinicianTask | None:
        item = self._call(self.table.get_item, Key={"pk": f"TASK#{task_id}", "sk": "TASK"}).get("Item")
        return ClinicianTask.model_validate(from_item(item)) if item else None

    def save_task(self, before: ClinicianTask | None, after: ClinicianTask) -> None:
        item = to_item(after, pk=f"TASK#{after.task_id}", sk="TASK", type="task")
        if after.completed is None:  # open tasks are on the clinic's alerts
            item |= {"gsi1pk": f"ALERTS#{after.clinic_id}", "gsi1sk": f"task#{utc_text(after.due_at)}#{after.task_id}"}
        if self._transact([self._versioned_put(item, before and before.version)]) is not None:
            raise StaleRecord("the task changed meanwhile")

    def alerts(
        self, clinic_id: str
    ) -> tuple[list[Escalation], list[ClinicianTask], list[FollowUp], list[FlaggedAppointment]]:
        """Open escalations, open tasks, the call list (missed surveys) and flagged
        appointments of any day, in one Query."""
        items = self._query(
            IndexName=BOARD_INDEX,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": f"ALERTS#{clinic_id}"},
        )
        models: dict[str, type[BaseModel]] = {
            "escalation": Escalation, "task": ClinicianTask, "follow-up": FollowUp, "attention": FlaggedAppointment
        }
        found: dict[str, list[Any]] = {kind: [] for kind in models}
        for stored in items:
            found[stored["type"]].append(models[stored["type"]].model_validate(from_item(stored)))
        return found["escalation"], found["task"], found["follow-up"], found["attention"]
