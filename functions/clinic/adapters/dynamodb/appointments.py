"""Appointments, their audit trail and the chair and provider time they hold: a booking
holds every grain of its block in the same transaction, so overlaps cannot land."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NoReturn

from ...domain.appointments import Appointment, AuditEntry, FlaggedAppointment
from ...domain.care import RemsForm
from ...domain.errors import AlreadyExists, Conflict, InvalidRequest, LinkGone, SlotTaken, StaleRecord
from ...domain.instants import utc_text
from ...domain.patients import rems_enrollment_missing
from ...domain.scheduling import Claim, Grain
from ...domain.waitlist import WaitlistOffer
from .courses import entry_key
from .table import BOARD_INDEX, PATIENT_INDEX, TableAccess, from_item, to_item

# Held-time records are only needed until the day is over; keep a week for investigations.
HOLD_RETENTION = timedelta(days=7)


def hold_key(clinic_id: str, day: str, grain: Grain) -> dict[str, str]:
    return {"pk": f"HOLD#{clinic_id}#{day}", "sk": f"{grain.kind}#{grain.resource_id}#{utc_text(grain.at)}"}


def appointment_item(appointment: Appointment) -> dict[str, Any]:
    start = utc_text(appointment.start)
    return to_item(
        appointment,
        pk=f"APPT#{appointment.appointment_id}",
        sk="APPT",
        type="appointment",
        gsi1pk=f"BOARD#{appointment.clinic_id}#{appointment.local_date}",
        gsi1sk=f"{start}#{appointment.appointment_id}",
        gsi2pk=f"PATIENT#{appointment.patient_id}",
        gsi2sk=f"APPT#{start}#{appointment.appointment_id}",
    )


def attention_operation(table: str, before: Appointment | None, after: Appointment) -> dict[str, Any] | None:
    """The appointment's flag on the clinic's alerts (whatever day its board is), put or
    deleted with the appointment itself."""
    if (before.attention if before else None) == after.attention:
        return None
    key = {"pk": f"APPT#{after.appointment_id}", "sk": "ATTENTION"}
    if after.attention is None:
        return {"Delete": {"TableName": table, "Key": key}}
    flag = FlaggedAppointment(
        appointment_id=after.appointment_id, clinic_id=after.clinic_id, patient_id=after.patient_id,
        start=after.start, local_date=after.local_date, attention=after.attention,
    )
    item = to_item(flag, **key, type="attention", gsi1pk=f"ALERTS#{after.clinic_id}",
                   gsi1sk=f"attention#{utc_text(after.attention.since)}#{after.appointment_id}")
    return {"Put": {"TableName": table, "Item": item}}


def audit_item(entry: AuditEntry, version: int) -> dict[str, Any]:
    # One entry per version of the appointment: ordered, and never written twice.
    return to_item(entry, pk=f"APPT#{entry.appointment_id}", sk=f"AUDIT#{version:06d}", type="audit")


def rems_form_item(form: RemsForm) -> dict[str, Any]:
    return to_item(
        form,
        pk=f"APPT#{form.appointment_id}",
        sk="REMS",
        type="rems-form",
        gsi1pk=f"REMS#{form.clinic_id}",
        gsi1sk=f"{form.due_date.isoformat()}#{form.appointment_id}",
    )


class AppointmentTable(TableAccess):
    """The appointment records (and the waitlist offer a booking takes with it)."""

    def occupancy(self, clinic_id: str, day: date) -> dict[Grain, int]:
        items = self._query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": f"HOLD#{clinic_id}#{day.isoformat()}"},
            ProjectionExpression="sk, holders",
        )
        held: dict[Grain, int] = {}
        for item in items:
            kind, resource_id, at = item["sk"].split("#")
            held[Grain(kind, resource_id, datetime.fromisoformat(at))] = len(item.get("holders", ()))
        return held

    def patient_schedule_version(self, patient_id: str) -> int:
        item = self._call(self.table.get_item, Key=_schedule_key(patient_id)).get("Item")
        return int(item["version"]) if item else 0

    def create_appointment(
        self, appointment: Appointment, claims: list[Claim], audit: AuditEntry, *, requires_rems: bool = False,
        schedule_version: int | None = None,
    ) -> None:
        """Books in one transaction: the patient exists (and, for a REMS product, is enrolled),
        the appointment and its audit record, every grain it holds, and (with `schedule_version`)
        no other session of the patient placed since that count was read."""
        operations = self._booking_operations(appointment, claims, audit, requires_rems)
        if schedule_version is not None:
            operations.append(self._schedule_bump(appointment.patient_id, schedule_version))
        failed = self._transact(operations)
        if schedule_version is not None and failed == len(operations) - 1:
            raise Conflict("another session was being booked for this patient at the same moment: check their appointments and try again")
        if failed is not None:
            self._booking_refused(failed, appointment, claims, requires_rems)

    def _schedule_bump(self, patient_id: str, seen: int) -> dict[str, Any]:
        condition = "attribute_not_exists(pk)" if seen == 0 else "version = :seen"
        values: dict[str, Any] = {":next": seen + 1, **({":seen": seen} if seen else {})}
        return {
            "Update": {
                "TableName": self.name,
                "Key": _schedule_key(patient_id),
                "UpdateExpression": "SET version = :next, #type = :type",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#type": "type"},
                "ExpressionAttributeValues": {**values, ":type": "patient-schedule"},
            }
        }

    def accept_offer(
        self,
        appointment: Appointment,
        claims: list[Claim],
        audit: AuditEntry,
        before: WaitlistOffer,
        after: WaitlistOffer,
        *,
        requires_rems: bool,
        schedule_version: int | None = None,
    ) -> None:
        """The booking, the offer taken and the patient's waitlist entry gone: all or nothing,
        so of two patients accepting at once exactly one gets the time."""
        operations = self._booking_operations(appointment, claims, audit, requires_rems)
        offer_index = len(operations)
        operations += [
            self._versioned_put(to_item(after, pk=f"OFFER#{after.offer_id}", sk="OFFER", type="waitlist-offer"), before.version),
            {"Delete": {"TableName": self.name, "Key": entry_key(after.clinic_id, after.taken_by or "")}},
        ]
        if schedule_version is not None:
            operations.append(self._schedule_bump(appointment.patient_id, schedule_version))
        failed = self._transact(operations)
        if failed == offer_index:
            raise LinkGone("this time has just been taken by someone else; you stay on the waitlist")
        if schedule_version is not None and failed == len(operations) - 1:
            raise Conflict("another of your sessions was being booked at the same moment; please call the clinic")
        if failed is not None:
            self._booking_refused(failed, appointment, claims, requires_rems)

    def _booking_operations(
        self, appointment: Appointment, claims: list[Claim], audit: AuditEntry, requires_rems: bool
    ) -> list[dict[str, Any]]:
        patient_check: dict[str, Any] = {"ConditionExpression": "attribute_exists(pk)"}
        if requires_rems:
            patient_check = {"ConditionExpression": "attribute_exists(pk) AND remsEnrolled = :enrolled", "ExpressionAttributeValues": {":enrolled": True}}
        return [
            {
                "ConditionCheck": {
                    "TableName": self.name,
                    "Key": {"pk": f"PATIENT#{appointment.patient_id}", "sk": "PROFILE"},
                    **patient_check,
                }
            },
            {
                "Put": {
                    "TableName": self.name,
                    "Item": appointment_item(appointment),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": self.name, "Item": audit_item(audit, appointment.version)}},
            *self._claim_operations(appointment, claims),
        ]

    def _booking_refused(
        self, failed: int, appointment: Appointment, claims: list[Claim], requires_rems: bool
    ) -> NoReturn:
        if failed == 0:
            if requires_rems and self.get_patient(appointment.patient_id) is not None:
                raise rems_enrollment_missing()
            raise InvalidRequest("patientId", "no such patient: check the patient id")
        if failed == 1:
            raise AlreadyExists("an appointment with this id already exists")
        grain = claims[failed - 3][0]
        raise SlotTaken(grain.kind, grain.resource_id, grain.at)

    def get_appointment(self, appointment_id: str) -> Appointment | None:
        item = self._call(self.table.get_item, Key={"pk": f"APPT#{appointment_id}", "sk": "APPT"}).get("Item")
        return Appointment.model_validate(from_item(item)) if item else None

    def change_appointment(
        self,
        before: Appointment,
        after: Appointment,
        claims: list[Claim],
        releases: list[Grain],
        audit: AuditEntry | None,
        *,
        form: RemsForm | None = None,
        consumed_link: tuple[str, datetime] | None = None,
        schedule_version: int | None = None,
    ) -> None:
        operations: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.name,
                    "Item": appointment_item(after),
                    "ConditionExpression": "version = :version AND #status = :status",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":version": before.version, ":status": before.status.value},
                }
            }
        ]
        if audit is not None:
            operations.append({"Put": {"TableName": self.name, "Item": audit_item(audit, after.version)}})
        flag = attention_operation(self.name, before, after)
        if flag is not None:
            operations.append(flag)
        if form is not None:
            operations.append({"Put": {"TableName": self.name, "Item": rems_form_item(form)}})
        link_index = len(operations) if consumed_link else None
        if consumed_link is not None:
            link_digest, used_at = consumed_link
            operations.append(
                {
                    "Update": {
                        "TableName": self.name,
                        "Key": {"pk": f"LINK#{link_digest}", "sk": "LINK"},
                        "UpdateExpression": "SET usedAt = :at",
                        "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(usedAt)",
                        "ExpressionAttributeValues": {":at": utc_text(used_at)},
                    }
                }
            )
        first_claim = len(operations)
        operations += self._claim_operations(after, claims)
        operations += [
            {
                "Update": {
                    "TableName": self.name,
                    "Key": hold_key(before.clinic_id, before.local_date, grain),
                    "UpdateExpression": "DELETE holders :me",
                    "ExpressionAttributeValues": {":me": {before.appointment_id}},
                }
            }
            for grain in releases
        ]
        schedule_index = len(operations) if schedule_version is not None else None
        if schedule_version is not None:
            operations.append(self._schedule_bump(after.patient_id, schedule_version))
        failed = self._transact(operations)
        if failed is None:
            return
        if failed == 0:
            raise StaleRecord("the appointment was changed by someone else meanwhile; reload it and try again")
        if failed == schedule_index:  # another of the patient's sessions was placed: decide again
            raise StaleRecord("another session of this patient was booked meanwhile; reload and try again")
        if failed == link_index:
            raise LinkGone("this link was already used; please call the clinic to change your answer")
        grain = claims[failed - first_claim][0]
        raise SlotTaken(grain.kind, grain.resource_id, grain.at)

    def board(self, clinic_id: str, day: date) -> list[Appointment]:
        items = self._query(
            IndexName=BOARD_INDEX,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": f"BOARD#{clinic_id}#{day.isoformat()}"},
        )
        return [Appointment.model_validate(from_item(item)) for item in items]

    def patient_appointments(self, patient_id: str) -> list[Appointment]:
        items = self._query(
            IndexName=PATIENT_INDEX,
            KeyConditionExpression="gsi2pk = :pk AND begins_with(gsi2sk, :appt)",
            ExpressionAttributeValues={":pk": f"PATIENT#{patient_id}", ":appt": "APPT#"},
        )
        return [Appointment.model_validate(from_item(item)) for item in items]

    def audit_trail(self, appointment_id: str) -> list[AuditEntry]:
        return self._records_of(appointment_id, "AUDIT#", AuditEntry)

    def discard_appointment(self, appointment: Appointment, claims: list[Claim]) -> None:
        """Undoes create_appointment for an appointment nobody has touched since (a course
        booking rolled back): the record, its audit entry and its held time, in one transaction."""
        key = {"pk": f"APPT#{appointment.appointment_id}"}
        operations: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self.name,
                    "Key": {**key, "sk": "APPT"},
                    "ConditionExpression": "version = :version",
                    "ExpressionAttributeValues": {":version": appointment.version},
                }
            },
            {"Delete": {"TableName": self.name, "Key": {**key, "sk": f"AUDIT#{appointment.version:06d}"}}},
            *(
                {
                    "Update": {
                        "TableName": self.name,
                        "Key": hold_key(appointment.clinic_id, appointment.local_date, grain),
                        "UpdateExpression": "DELETE holders :me",
                        "ExpressionAttributeValues": {":me": {appointment.appointment_id}},
                    }
                }
                for grain, _ in claims
            ),
        ]
        if self._transact(operations) is not None:
            raise StaleRecord("the appointment changed after it was booked")

    def _claim_operations(self, appointment: Appointment, claims: list[Claim]) -> list[dict[str, Any]]:
        day_after = date.fromisoformat(appointment.local_date) + timedelta(days=1)
        expires = int(datetime.combine(day_after + HOLD_RETENTION, time(), tzinfo=UTC).timestamp())
        return [
            {
                "Update": {
                    "TableName": self.name,
                    "Key": hold_key(appointment.clinic_id, appointment.local_date, grain),
                    "UpdateExpression": "ADD holders :me SET expiresAt = :expires",
                    "ConditionExpression": "attribute_not_exists(holders) OR size(holders) < :capacity",
                    "ExpressionAttributeValues": {
                        ":me": {appointment.appointment_id},
                        ":capacity": capacity,
                        ":expires": expires,
                    },
                }
            }
            for grain, capacity in claims
        ]


def _schedule_key(patient_id: str) -> dict[str, str]:
    """The count of the patient's placed sessions (see patient_schedule_version)."""
    return {"pk": f"PATIENT#{patient_id}", "sk": "SCHEDULE"}
