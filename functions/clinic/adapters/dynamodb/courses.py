"""Courses of treatment and the waitlist with its offers."""

from __future__ import annotations

from ...domain.courses import Course
from ...domain.errors import NotFound, StaleRecord
from ...domain.waitlist import WaitlistEntry, WaitlistOffer
from .table import TableAccess, from_item, to_item


def entry_key(clinic_id: str, entry_id: str) -> dict[str, str]:
    return {"pk": f"WAITLIST#{clinic_id}", "sk": f"ENTRY#{entry_id}"}


class CourseAndWaitlistTable(TableAccess):
    """Course records, waitlist entries (ordered by an atomic counter), offers."""

    def get_course(self, course_id: str) -> Course | None:
        item = self._call(self.table.get_item, Key={"pk": f"COURSE#{course_id}", "sk": "COURSE"}).get("Item")
        return Course.model_validate(from_item(item)) if item else None

    def save_course(self, before: Course | None, after: Course) -> None:
        item = to_item(after, pk=f"COURSE#{after.course_id}", sk="COURSE", type="course")
        if self._transact([self._versioned_put(item, before and before.version)]) is not None:
            raise StaleRecord("the course changed meanwhile")

    def delete_course(self, course: Course) -> None:
        self._call(self.table.delete_item, Key={"pk": f"COURSE#{course.course_id}", "sk": "COURSE"})

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
        item = to_item(placed, **entry_key(entry.clinic_id, entry.entry_id), type="waitlist-entry")
        self._call(self.table.put_item, Item=item, ConditionExpression="attribute_not_exists(pk)")
        return placed

    def waitlist(self, clinic_id: str) -> list[WaitlistEntry]:
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :entry)",
            ExpressionAttributeValues={":pk": f"WAITLIST#{clinic_id}", ":entry": "ENTRY#"},
        )
        return sorted((WaitlistEntry.model_validate(from_item(i)) for i in items), key=lambda e: (e.position, e.created_at))

    def get_waitlist_entry(self, clinic_id: str, entry_id: str) -> WaitlistEntry | None:
        item = self._call(self.table.get_item, Key=entry_key(clinic_id, entry_id)).get("Item")
        return WaitlistEntry.model_validate(from_item(item)) if item else None

    def remove_waitlist_entry(self, clinic_id: str, entry_id: str) -> None:
        removed = self._call(self.table.delete_item, Key=entry_key(clinic_id, entry_id), ReturnValues="ALL_OLD")
        if "Attributes" not in removed:
            raise NotFound("no such waitlist entry at this clinic")

    def create_offer(self, offer: WaitlistOffer) -> bool:
        """False when this freed block was already offered (a repeated cancel)."""
        item = to_item(offer, pk=f"OFFER#{offer.offer_id}", sk="OFFER", type="waitlist-offer")
        return self._transact([self._versioned_put(item, None)]) is None

    def get_offer(self, offer_id: str) -> WaitlistOffer | None:
        item = self._call(self.table.get_item, Key={"pk": f"OFFER#{offer_id}", "sk": "OFFER"}).get("Item")
        return WaitlistOffer.model_validate(from_item(item)) if item else None
