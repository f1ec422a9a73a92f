"""The clinic's single DynamoDB table.

Access patterns and the keys that serve them (also in docs/table-design.md):

| pattern                          | read                                   | key                                         |
|----------------------------------|----------------------------------------|---------------------------------------------|
| clinic configuration             | Query pk                               | pk=CLINIC#{clinic} (PROFILE, CHAIR#, PROVIDER#) |
| held chair/provider time of a day| Query pk                               | pk=HOLD#{clinic}#{date}, sk={kind}#{id}#{utc} |
| appointment by id (+ audit)      | GetItem / Query pk                     | pk=APPT#{id}, sk=APPT / AUDIT#{version}      |
| day board                        | Query GSI1                             | gsi1pk=BOARD#{clinic}#{date}, gsi1sk={utc}#{id} |
| patient by id                    | GetItem                                | pk=PATIENT#{id}, sk=PROFILE                  |
| patient's appointments           | Query GSI2                             | gsi2pk=PATIENT#{id}, gsi2sk=APPT#{utc}#{id}  |
| an appointment's vitals          | Query pk                               | pk=APPT#{id}, sk=VITALS#{utc}#{vitals id}    |
| REMS forms due per clinic        | Query GSI1                             | gsi1pk=REMS#{clinic}, gsi1sk={due date}#{id} |
| patient link by token            | GetItem                                | pk=LINK#{sha256 of token}, sk=LINK           |
| an appointment's follow-ups      | Query pk / GetItem                     | pk=APPT#{id}, sk=FOLLOWUP#{nn}               |
| a patient's answers and scores   | Query pk                               | pk=PATIENT#{id}, sk=QR#{utc}# / OBS#{instrument}#{utc}# |
| escalation, clinician task       | GetItem                                | pk=ESCALATION#{id} / TASK#{id}               |
| a clinic's open alerts           | Query GSI1                             | gsi1pk=ALERTS#{clinic}, gsi1sk={kind}#{utc}#{id} |
| was a message sent (once only)   | GetItem                                | pk=APPT#{id}, sk=MESSAGE#{key}               |
| course by id                     | GetItem                                | pk=COURSE#{id}, sk=COURSE                    |
| a clinic's waitlist              | Query pk                               | pk=WAITLIST#{clinic}, sk=ENTRY#{id} (+ POSITION counter) |
| a waitlist offer (freed block)   | GetItem                                | pk=OFFER#{cancelled appointment id}, sk=OFFER |
| a course's sessions              | Query GSI2 (the patient's appointments) | gsi2pk=PATIENT#{id}, filtered by courseId    |
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from ..domain.appointments import Appointment, AuditEntry
from ..domain.care import RemsForm, Vitals
from ..domain.courses import Course
from ..domain.errors import (
    AlreadyExists,
    Conflict,
    InvalidRequest,
    LinkGone,
    NotFound,
    SlotTaken,
    StaleRecord,
    TemporarilyUnavailable,
)
from ..domain.escalations import ClinicianTask, Escalation
from ..domain.followups import FollowUp, QuestionnaireAnswers, ScoreRecord
from ..domain.instants import utc_text as _utc
from ..domain.links import Link
from ..domain.patients import Patient, rems_enrollment_missing
from ..domain.resources import Chair, Clinic, ClinicProfile, Provider
from ..domain.scheduling import Claim, Grain
from ..domain.waitlist import WaitlistEntry, WaitlistOffer

KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "expiresAt", "type"})
# Errors a retry after a pause can cure: the caller gets 503 with Retry-After.
TRANSIENT = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError"}
)
# A transaction cancelled for one of these reasons was refused for load, not for its conditions.
THROTTLED_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})
# Held-time records are only needed until the day is over; keep a week for investigations.
HOLD_RETENTION = timedelta(days=7)
M = TypeVar("M", bound=BaseModel)
BOARD_INDEX = "gsi1"  # also lists REMS forms due (keys overloaded by prefix)
PATIENT_INDEX = "gsi2"


def _item(model: BaseModel, **keys: Any) -> dict[str, Any]:
    data = json.loads(model.model_dump_json(by_alias=True, exclude_none=True), parse_float=Decimal)
    return {**data, **keys}


def _data(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in item.items() if k not in KEY_ATTRIBUTES}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def is_throttled(error: ClientError) -> bool:
    """DynamoDB refused for load, not for the request: a retry after a pause can cure it.
    A transaction cancelled for load names the reason per item instead of in its code."""
    code = error.response.get("Error", {}).get("Code")
    reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
    return code in TRANSIENT or (code == "TransactionCanceledException" and bool(reasons & THROTTLED_REASONS))


def _hold_key(clinic_id: str, day: str, grain: Grain) -> dict[str, str]:
    return {"pk": f"HOLD#{clinic_id}#{day}", "sk": f"{grain.kind}#{grain.resource_id}#{_utc(grain.at)}"}


def _appointment_item(appointment: Appointment) -> dict[str, Any]:
    start = _utc(appointment.start)
    return _item(
        appointment,
        pk=f"APPT#{appointment.appointment_id}",
        sk="APPT",
        type="appointment",
        gsi1pk=f"BOARD#{appointment.clinic_id}#{appointment.local_date}",
        gsi1sk=f"{start}#{appointment.appointment_id}",
        gsi2pk=f"PATIENT#{appointment.patient_id}",
        gsi2sk=f"APPT#{start}#{appointment.appointment_id}",
    )


def _audit_item(entry: AuditEntry, version: int) -> dict[str, Any]:
    # One entry per version of the appointment: ordered, and never written twice.
    return _item(entry, pk=f"APPT#{entry.appointment_id}", sk=f"AUDIT#{version:06d}", type="audit")


def _rems_form_item(form: RemsForm) -> dict[str, Any]:
    return _item(
        form,
        pk=f"APPT#{form.appointment_id}",
        sk="REMS",
        type="rems-form",
        gsi1pk=f"REMS#{form.clinic_id}",
        gsi1sk=f"{form.due_date.isoformat()}#{form.appointment_id}",
    )


def _entry_key(clinic_id: str, entry_id: str) -> dict[str, str]:
    return {"pk": f"WAITLIST#{clinic_id}", "sk": f"ENTRY#{entry_id}"}


def _follow_up_key(appointment_id: str, number: int) -> dict[str, str]:
    return {"pk": f"APPT#{appointment_id}", "sk": f"FOLLOWUP#{number:02d}"}


def _follow_up_item(follow_up: FollowUp) -> dict[str, Any]:
    item = _item(follow_up, **_follow_up_key(follow_up.appointment_id, follow_up.number), type="follow-up")
    if follow_up.on_call_list:  # the front desk's call list, on the clinic's alerts
        at = _utc(follow_up.closed_at or follow_up.opened_at)
        item |= {"gsi1pk": f"ALERTS#{follow_up.clinic_id}", "gsi1sk": f"call#{at}#{follow_up.follow_up_id}"}
    return item


class DynamoRepository:
    def __init__(self, table: Any):
        """`table` is a boto3 DynamoDB Table resource; its client serializes Python values."""
        self.table = table
        self.client = table.meta.client
        self.name = table.name

    # --- configuration -------------------------------------------------------------
    def load_clinic(self, clinic_id: str) -> Clinic | None:
        items = self._query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"CLINIC#{clinic_id}"})
        profile = None
        chairs: dict[str, Chair] = {}
        providers: dict[str, Provider] = {}
        for item in items:
            kind = item["type"]
            if kind == "clinic":
                profile = ClinicProfile.model_validate(_data(item))
            elif kind == "chair":
                chair = Chair.model_validate(_data(item))
                chairs[chair.chair_id] = chair
            elif kind == "provider":
                provider = Provider.model_validate(_data(item))
                providers[provider.provider_id] = provider
        if profile is None:
            return None
        return Clinic(profile=profile, chairs=chairs, providers=providers)

    def save_clinic_profile(self, profile: ClinicProfile) -> None:
        self._call(self.table.put_item, Item=_item(profile, pk=f"CLINIC#{profile.clinic_id}", sk="PROFILE", type="clinic"))

    def save_chair(self, clinic_id: str, chair: Chair) -> None:
        self._call(self.table.put_item, Item=_item(chair, pk=f"CLINIC#{clinic_id}", sk=f"CHAIR#{chair.chair_id}", type="chair"))

    def save_provider(self, clinic_id: str, provider: Provider) -> None:
        item = _item(provider, pk=f"CLINIC#{clinic_id}", sk=f"PROVIDER#{provider.provider_id}", type="provider")
        self._call(self.table.put_item, Item=item)

    # --- held time -----------------------------------------------------------------
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

    # --- patients ------------------------------------------------------------------
    def create_patient(self, patient: Patient) -> None:
        item = _item(patient, pk=f"PATIENT#{patient.patient_id}", sk="PROFILE", type="patient")
        if self._transact([self._versioned_put(item, None)]) is not None:
            raise AlreadyExists(f"patient {patient.patient_id!r} already exists")

    def get_patient(self, patient_id: str) -> Patient | None:
        item = self._call(self.table.get_item, Key={"pk": f"PATIENT#{patient_id}", "sk": "PROFILE"}).get("Item")
        return Patient.model_validate(_data(item)) if item else None

    # --- appointments --------------------------------------------------------------
    def create_appointment(
        self, appointment: Appointment, claims: list[Claim], audit: AuditEntry, *, requires_rems: bool = False
    ) -> None:
        """Books in one transaction: the patient exists (and, for a REMS product, is enrolled),
        the appointment and its audit record, and every grain it holds."""
        failed = self._transact(self._booking_operations(appointment, claims, audit, requires_rems))
        if failed is not None:
            self._booking_refused(failed, appointment, claims, requires_rems)

    def accept_offer(
        self,
        appointment: Appointment,
        claims: list[Claim],
        audit: AuditEntry,
        before: WaitlistOffer,
        after: WaitlistOffer,
        *,
        requires_rems: bool,
    ) -> None:
        """The booking, the offer taken and the patient's waitlist entry gone: all or nothing,
        so of two patients accepting at once exactly one gets the time."""
        operations = self._booking_operations(appointment, claims, audit, requires_rems)
        offer_index = len(operations)
        operations += [
            self._versioned_put(_item(after, pk=f"OFFER#{after.offer_id}", sk="OFFER", type="waitlist-offer"), before.version),
            {"Delete": {"TableName": self.name, "Key": _entry_key(after.clinic_id, after.taken_by or "")}},
        ]
        failed = self._transact(operations)
        if failed == offer_index:
            raise LinkGone("this time has just been taken by someone else; you stay on the waitlist")
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
                    "Item": _appointment_item(appointment),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": self.name, "Item": _audit_item(audit, appointment.version)}},
            *self._claim_operations(appointment, claims),
        ]

    def _booking_refused(
        self, failed: int, appointment: Appointment, claims: list[Claim], requires_rems: bool
    ) -> NoReturn:
        if failed == 0:
            if requires_rems and self.get_patient(appointment.patient_id) is not None:
                raise rems_enrollment_missing()
            raise InvalidRequest("patientId", f"no patient {appointment.patient_id!r}")
        if failed == 1:
            raise AlreadyExists(f"appointment {appointment.appointment_id!r} already exists")
        grain = claims[failed - 3][0]
        raise SlotTaken(grain.kind, grain.resource_id, grain.at)

    def get_appointment(self, appointment_id: str) -> Appointment | None:
        item = self._call(self.table.get_item, Key={"pk": f"APPT#{appointment_id}", "sk": "APPT"}).get("Item")
        return Appointment.model_validate(_data(item)) if item else None

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
    ) -> None:
        operations: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.name,
                    "Item": _appointment_item(after),
                    "ConditionExpression": "version = :version AND #status = :status",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":version": before.version, ":status": before.status.value},
                }
            }
        ]
        if audit is not None:
            operations.append({"Put": {"TableName": self.name, "Item": _audit_item(audit, after.version)}})
        if form is not None:
            operations.append({"Put": {"TableName": self.name, "Item": _rems_form_item(form)}})
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
                        "ExpressionAttributeValues": {":at": _utc(used_at)},
                    }
                }
            )
        first_claim = len(operations)
        operations += self._claim_operations(after, claims)
        operations += [
            {
                "Update": {
                    "TableName": self.name,
                    "Key": _hold_key(before.clinic_id, before.local_date, grain),
                    "UpdateExpression": "DELETE holders :me",
                    "ExpressionAttributeValues": {":me": {before.appointment_id}},
                }
            }
            for grain in releases
        ]
        failed = self._transact(operations)
        if failed is None:
            return
        if failed == 0:
            raise StaleRecord("the appointment was changed by someone else meanwhile; reload it and try again")
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
        return [Appointment.model_validate(_data(item)) for item in items]

    def patient_appointments(self, patient_id: str) -> list[Appointment]:
        items = self._query(
            IndexName=PATIENT_INDEX,
            KeyConditionExpression="gsi2pk = :pk AND begins_with(gsi2sk, :appt)",
            ExpressionAttributeValues={":pk": f"PATIENT#{patient_id}", ":appt": "APPT#"},
        )
        return [Appointment.model_validate(_data(item)) for item in items]

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
                        "Key": _hold_key(appointment.clinic_id, appointment.local_date, grain),
                        "UpdateExpression": "DELETE holders :me",
                        "ExpressionAttributeValues": {":me": {appointment.appointment_id}},
                    }
                }
                for grain, _ in claims
            ),
        ]
        if self._transact(operations) is not None:
            raise StaleRecord("the appointment changed after it was booked")

    # --- courses -------------------------------------------------------------------
    def get_course(self, course_id: str) -> Course | None:
        item = self._call(self.table.get_item, Key={"pk": f"COURSE#{course_id}", "sk": "COURSE"}).get("Item")
        return Course.model_validate(_data(item)) if item else None

    def save_course(self, before: Course | None, after: Course) -> None:
        item = _item(after, pk=f"COURSE#{after.course_id}", sk="COURSE", type="course")
        if self._transact([self._versioned_put(item, before and before.version)]) is not None:
            raise StaleRecord("the course changed meanwhile")

    def delete_course(self, course: Course) -> None:
        self._call(self.table.delete_item, Key={"pk": f"COURSE#{course.course_id}", "sk": "COURSE"})

    # --- the waitlist ---------------------------------------------------------------
    def add_waitlist_entry(self, entry: WaitlistEntry) -> WaitlistEntry:
        """Stores the entry with the next position in the clinic's waitlist (an atomic counter:
        two patients joining in the same instant still get an order)."""
        counter = self._call(
            self.table.update_item,
            Key={"pk": f"WAITLIST#{entry.clinic_id}", "sk": "POSITION"},
            UpdateExpression="ADD lastPosition :one",
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        placed = entry.model_copy(update={"position": int(counter["Attributes"]["lastPosition"])})
        item = _item(placed, **_entry_key(entry.clinic_id, entry.entry_id), type="waitlist-entry")
        self._call(self.table.put_item, Item=item, ConditionExpression="attribute_not_exists(pk)")
        return placed

    def waitlist(self, clinic_id: str) -> list[WaitlistEntry]:
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :entry)",
            ExpressionAttributeValues={":pk": f"WAITLIST#{clinic_id}", ":entry": "ENTRY#"},
        )
        return sorted((WaitlistEntry.model_validate(_data(i)) for i in items), key=lambda e: (e.position, e.created_at))

    def get_waitlist_entry(self, clinic_id: str, entry_id: str) -> WaitlistEntry | None:
        item = self._call(self.table.get_item, Key=_entry_key(clinic_id, entry_id)).get("Item")
        return WaitlistEntry.model_validate(_data(item)) if item else None

    def remove_waitlist_entry(self, clinic_id: str, entry_id: str) -> None:
        removed = self._call(self.table.delete_item, Key=_entry_key(clinic_id, entry_id), ReturnValues="ALL_OLD")
        if "Attributes" not in removed:
            raise NotFound(f"no waitlist entry {entry_id!r} at clinic {clinic_id!r}")

    def create_offer(self, offer: WaitlistOffer) -> bool:
        """False when this freed block was already offered (a repeated cancel)."""
        item = _item(offer, pk=f"OFFER#{offer.offer_id}", sk="OFFER", type="waitlist-offer")
        return self._transact([self._versioned_put(item, None)]) is None

    def get_offer(self, offer_id: str) -> WaitlistOffer | None:
        item = self._call(self.table.get_item, Key={"pk": f"OFFER#{offer_id}", "sk": "OFFER"}).get("Item")
        return WaitlistOffer.model_validate(_data(item)) if item else None

    # --- the session ---------------------------------------------------------------
    def add_vitals(self, appointment: Appointment, vitals: Vitals) -> None:
        key = f"VITALS#{_utc(vitals.taken_at)}#{vitals.vitals_id}"
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
                    "Item": _item(vitals, pk=f"APPT#{appointment.appointment_id}", sk=key, type="vitals"),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        failed = self._transact(operations)
        if failed == 0:
            raise StaleRecord("the appointment changed meanwhile; reload it and try again")
        if failed == 1:
            raise Conflict(f"vitals {vitals.vitals_id!r} are already recorded")

    def vitals(self, appointment_id: str) -> list[Vitals]:
        return self._records_of(appointment_id, "VITALS#", Vitals)

    def rems_forms_due(self, clinic_id: str) -> list[RemsForm]:
        items = self._query(
            IndexName=BOARD_INDEX,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": f"REMS#{clinic_id}"},
        )
        return [RemsForm.model_validate(_data(item)) for item in items]

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
                ExpressionAttributeValues={":submitted": "submitted", ":due": "due", ":by": by, ":at": _utc(at)},
                ReturnValues="ALL_NEW",
            )["Attributes"]
            return RemsForm.model_validate(_data(item))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        existing = self._call(self.table.get_item, Key=key).get("Item")
        if existing is None:
            raise NotFound(f"appointment {appointment_id!r} has no REMS form")
        raise Conflict(f"the REMS form was already marked submitted by {existing.get('submittedBy')}")

    # --- patient links ---------------------------------------------------------------
    def save_link(self, link: Link) -> None:
        # Expired links are deleted by TTL; the service checks expiry itself, since TTL lags.
        item = _item(link, pk=f"LINK#{link.digest}", sk="LINK", type="link", expiresAt=int(link.valid_until.timestamp()))
        self._call(self.table.put_item, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def get_link(self, link_digest: str) -> Link | None:
        item = self._call(self.table.get_item, Key={"pk": f"LINK#{link_digest}", "sk": "LINK"}).get("Item")
        return Link.model_validate(_data(item)) if item else None

    # --- follow-up surveys and the safety path ----------------------------------------------
    def get_follow_up(self, appointment_id: str, number: int) -> FollowUp | None:
        item = self._call(self.table.get_item, Key=_follow_up_key(appointment_id, number)).get("Item")
        return FollowUp.model_validate(_data(item)) if item else None

    def save_follow_up(self, before: FollowUp | None, after: FollowUp) -> None:
        """Raises StaleRecord when someone changed it since `before` was read."""
        if self._transact([self._versioned_put(_follow_up_item(after), before and before.version)]) is not None:
            raise StaleRecord("the follow-up changed meanwhile")

    def record_answers(self, before: FollowUp, after: FollowUp, response: QuestionnaireAnswers, score: ScoreRecord) -> None:
        """The follow-up's new state, the answers and their score: all or nothing."""
        patient = f"PATIENT#{response.patient_id}"
        response_key = f"QR#{_utc(response.authored)}#{response.response_id}"
        score_key = f"OBS#{score.instrument}#{_utc(score.effective)}#{score.observation_id}"
        operations = [
            self._versioned_put(_follow_up_item(after), before.version),
            {"Put": {"TableName": self.name, "Item": _item(response, pk=patient, sk=response_key, type="questionnaire-response")}},
            {"Put": {"TableName": self.name, "Item": _item(score, pk=patient, sk=score_key, type="score")}},
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
        return ScoreRecord.model_validate(_data(page["Items"][0])) if page.get("Items") else None

    def questionnaire_responses(self, patient_id: str) -> list[QuestionnaireAnswers]:
        return self._patient_records(patient_id, "QR#", QuestionnaireAnswers)

    def get_escalation(self, escalation_id: str) -> Escalation | None:
        item = self._call(self.table.get_item, Key={"pk": f"ESCALATION#{escalation_id}", "sk": "ESCALATION"}).get("Item")
        return Escalation.model_validate(_data(item)) if item else None

    def save_escalation(self, before: Escalation | None, after: Escalation) -> None:
        item = _item(after, pk=f"ESCALATION#{after.escalation_id}", sk="ESCALATION", type="escalation")
        if after.open:  # open escalations are on the clinic's alerts
            item |= {"gsi1pk": f"ALERTS#{after.clinic_id}", "gsi1sk": f"escalation#{_utc(after.started_at)}#{after.escalation_id}"}
        if self._transact([self._versioned_put(item, before and before.version)]) is not None:
            raise StaleRecord("the escalation changed meanwhile")

    def get_task(self, task_id: str) -> ClinicianTask | None:
        item = self._call(self.table.get_item, Key={"pk": f"TASK#{task_id}", "sk": "TASK"}).get("Item")
        return ClinicianTask.model_validate(_data(item)) if item else None

    def save_task(self, before: ClinicianTask | None, after: ClinicianTask) -> None:
        item = _item(after, pk=f"TASK#{after.task_id}", sk="TASK", type="task")
        if after.completed is None:  # open tasks are on the clinic's alerts
            item |= {"gsi1pk": f"ALERTS#{after.clinic_id}", "gsi1sk": f"task#{_utc(after.due_at)}#{after.task_id}"}
        if self._transact([self._versioned_put(item, before and before.version)]) is not None:
            raise StaleRecord("the task changed meanwhile")

    def alerts(self, clinic_id: str) -> tuple[list[Escalation], list[ClinicianTask], list[FollowUp]]:
        """Open escalations, open tasks and the call list (missed surveys), in one Query."""
        items = self._query(
            IndexName=BOARD_INDEX,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": f"ALERTS#{clinic_id}"},
        )
        models: dict[str, type[BaseModel]] = {"escalation": Escalation, "task": ClinicianTask, "follow-up": FollowUp}
        found: dict[str, list[Any]] = {kind: [] for kind in models}
        for item in items:
            found[item["type"]].append(models[item["type"]].model_validate(_data(item)))
        return found["escalation"], found["task"], found["follow-up"]

    def message_sent(self, appointment_id: str, key: str) -> bool:
        item = self._call(self.table.get_item, Key={"pk": f"APPT#{appointment_id}", "sk": f"MESSAGE#{key}"}).get("Item")
        return item is not None

    def record_message(self, appointment_id: str, key: str, channel: str, at: datetime) -> None:
        """Which message went out when and how; never its text."""
        item = {"pk": f"APPT#{appointment_id}", "sk": f"MESSAGE#{key}", "type": "message", "channel": channel, "at": _utc(at)}
        self._call(self.table.put_item, Item=item)

    # --- plumbing ------------------------------------------------------------------
    def _claim_operations(self, appointment: Appointment, claims: list[Claim]) -> list[dict[str, Any]]:
        day_after = date.fromisoformat(appointment.local_date) + timedelta(days=1)
        expires = int(datetime.combine(day_after + HOLD_RETENTION, time(), tzinfo=UTC).timestamp())
        return [
            {
                "Update": {
                    "TableName": self.name,
                    "Key": _hold_key(appointment.clinic_id, appointment.local_date, grain),
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

    def _transact(self, operations: list[dict[str, Any]]) -> int | None:
        """Runs the transaction; returns None, or the index of the first operation whose
        condition failed. Any other failure propagates."""
        try:
            self._call(self.client.transact_write_items, TransactItems=operations)
            return None
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons", [])  # cancelled for load: _call raised already
            for index, reason in enumerate(reasons):
                if reason.get("Code") == "ConditionalCheckFailed":
                    return index
            if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                raise Conflict("another change to the same records was in progress; try again") from error
            raise

    def _versioned_put(self, item: dict[str, Any], version: int | None) -> dict[str, Any]:
        """A put that succeeds only over `version` (None: only where nothing is yet)."""
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if version is None
            else {"ConditionExpression": "version = :version", "ExpressionAttributeValues": {":version": version}}
        )
        return {"Put": {"TableName": self.name, "Item": item, **condition}}

    def _patient_records(self, patient_id: str, prefix: str, model: type[M]) -> list[M]:
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": f"PATIENT#{patient_id}", ":prefix": prefix},
        )
        return [model.model_validate(_data(item)) for item in items]

    def _records_of(self, appointment_id: str, prefix: str, model: type[M]) -> list[M]:
        """One kind of an appointment's own records (audit, vitals), in key order."""
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": f"APPT#{appointment_id}", ":prefix": prefix},
        )
        return [model.model_validate(_data(item)) for item in items]

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self._call(self.table.query, **kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @staticmethod
    def _call(operation: Any, **kwargs: Any) -> Any:
        try:
            return operation(**kwargs)
        except ClientError as error:
            if is_throttled(error):
                raise TemporarilyUnavailable("the database is busy; retry shortly") from error
            raise
