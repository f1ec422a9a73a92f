"""What a session records beside its appointment (vitals, the REMS form), patient links
and the log of messages sent."""

from __future__ import annotations

from datetime import datetime

from botocore.exceptions import ClientError

from ...domain.appointments import Appointment
from ...domain.care import RemsForm, Vitals
from ...domain.errors import Conflict, NotFound, StaleRecord
from ...domain.instants import utc_text
from ...domain.links import Link
from .table import BOARD_INDEX, TableAccess, from_item, to_item


class SessionTable(TableAccess):
    """Vitals, REMS forms, links by token hash, the message log."""

    def add_vitals(self, appointment: Appointment, vitals: Vitals) -> None:
        key = f"VITALS#{utc_text(vitals.taken_at)}#{vitals.vitals_id}"
        operations = [
            {
                "ConditionCheck": {
                    "TableName": self.name,
                    "Key": {"pk": f"APPT#{appointment.appointment_id}", "sk": "APPT"},
                    "ConditionExpression": "#status = :status",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":status": appointment.status.value},
                }
            },
            {
                "Put": {
                    "TableName": self.name,
                    "Item": to_item(vitals, pk=f"APPT#{appointment.appointment_id}", sk=key, type="vitals"),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        failed = self._transact(operations)
        if failed == 0:
            raise StaleRecord("the appointment changed meanwhile; reload it and try again")
        if failed == 1:
            raise Conflict("these vitals are already recorded")

    def vitals(self, appointment_id: str) -> list[Vitals]:
        return self._records_of(appointment_id, "VITALS#", Vitals)

    def rems_forms_due(self, clinic_id: str) -> list[RemsForm]:
        items = self._query(
            IndexName=BOARD_INDEX,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": f"REMS#{clinic_id}"},
        )
        return [RemsForm.model_validate(from_item(item)) for item in items]

    def submit_rems_form(self, appointment_id: str, by: str, at: datetime) -> RemsForm:
        """Marks the form submitted (off the due list), once; NotFound or Conflict otherwise."""
        key = {"pk": f"APPT#{appointment_id}", "sk": "REMS"}
        try:
            item = self._call(
                self.table.update_item,
                Key=key,
                UpdateExpression="SET #status = :submitted, submittedBy = :by, submittedAt = :at REMOVE gsi1pk, gsi1sk",
                ConditionExpression="attribute_exists(pk) AND #status = :due",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":submitted": "submitted", ":due": "due", ":by": by, ":at": utc_text(at)},
                ReturnValues="ALL_NEW",
            )["Attributes"]
            return RemsForm.model_validate(from_item(item))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        existing = self._call(self.table.get_item, Key=key).get("Item")
        if existing is None:
            raise NotFound("this appointment has no REMS form")
        raise Conflict(f"the REMS form was already marked submitted by {existing.get('submittedBy')}")

    def save_link(self, link: Link) -> None:
        # Expired links are deleted by TTL; the service checks expiry itself, since TTL lags.
        item = to_item(link, pk=f"LINK#{link.digest}", sk="LINK", type="link", expiresAt=int(link.valid_until.timestamp()))
        self._call(self.table.put_item, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def get_link(self, link_digest: str) -> Link | None:
        item = self._call(self.table.get_item, Key={"pk": f"LINK#{link_digest}", "sk": "LINK"}).get("Item")
        return Link.model_validate(from_item(item)) if item else None

    def message_sent(self, appointment_id: str, key: str) -> bool:
        item = self._call(self.table.get_item, Key={"pk": f"APPT#{appointment_id}", "sk": f"MESSAGE#{key}"}).get("Item")
        return item is not None

    def record_message(self, appointment_id: str, key: str, channel: str, at: datetime) -> None:
        """Which message went out when and how; never its text."""
        item = {"pk": f"APPT#{appointment_id}", "sk": f"MESSAGE#{key}", "type": "message", "channel": channel, "at": utc_text(at)}
        self._call(self.table.put_item, Item=item)
