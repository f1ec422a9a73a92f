"""Where a session fits: blocks, grains and availability.

A session holds a chair and a provider for its whole block (dosing + observation +
turnover). Time is cut into fixed grains on a UTC lattice; a booking claims every grain its
block touches, for the chair and for the provider, in one conditional transaction. Two
bookings overlap exactly when they claim a common grain, so the database, not Python,
decides who wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from .escalations import check_chain
from .errors import InvalidRequest
from .resources import Chair, Clinic, Provider, covered, intervals_on
from .rules import ClinicRules, SessionType

ResourceKind = Literal["chair", "provider"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, order=True)
class Grain:
    kind: ResourceKind
    resource_id: str
    at: datetime  # UTC, on the grain lattice


Claim = tuple[Grain, int]  # a grain and the capacity of its resource


@dataclass(frozen=True)
class Block:
    start: datetime
    end: datetime

    def overlaps(self, other: Block) -> bool:
        return self.start < other.end and other.start < self.end


def block_for(session_type: SessionType, start: datetime) -> Block:
    return Block(start, start + session_type.block)


def lattice(block: Block, grain: timedelta) -> list[datetime]:
    """Every grain instant the block touches: floor(start) .. ceil(end), exclusive."""
    first = _EPOCH + ((block.start - _EPOCH) // grain) * grain
    points = []
    at = first
    while at < block.end:
        points.append(at)
        at += grain
    return points


def grains_for(block: Block, chair_id: str, provider_id: str, grain: timedelta) -> list[Grain]:
    points = lattice(block, grain)
    return [Grain("chair", chair_id, at) for at in points] + [Grain("provider", provider_id, at) for at in points]


def require_aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRequest(field, "must include a UTC offset, e.g. 2026-12-01T09:00:00-05:00")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class AvailableSlot:
    start: datetime
    end: datetime
    chair_ids: tuple[str, ...]
    provider_ids: tuple[str, ...]


class Scheduler:
    """Scheduling rules of one clinic on one set of rules."""

    def __init__(self, rules: ClinicRules, clinic: Clinic):
        self.rules = rules
        self.clinic = clinic

    def session_type(self, code: str, field: str = "sessionType") -> SessionType:
        try:
            return self.rules.session_types[code]
        except KeyError:
            known = ", ".join(sorted(self.rules.session_types))
            raise InvalidRequest(field, f"not a session type of this service; known: {known}") from None

    def chair(self, chair_id: str, field: str = "chairId") -> Chair:
        chair = self.clinic.chairs.get(chair_id)
        if chair is None or not chair.active:
            raise InvalidRequest(field, "no active chair with this id at this clinic")
        return chair

    def provider(self, provider_id: str, field: str = "providerId") -> Provider:
        provider = self.clinic.providers.get(provider_id)
        if provider is None or not provider.active:
            raise InvalidRequest(field, "no active provider with this id at this clinic")
        return provider

    def provider_capacity(self, provider_id: str) -> int:
        provider = self.clinic.providers.get(provider_id)
        if provider is None or provider.capacity is None:
            return self.rules.default_provider_capacity
        return provider.capacity

    def bookable(self, code: str, field: str = "sessionType") -> SessionType:
        """The session type, if this clinic may give it (a REMS product needs a certified clinic)."""
        kind = self.session_type(code, field)
        if kind.requires_rems and not self.clinic.profile.rems_certified:
            raise InvalidRequest("clinicId", f"this clinic is not REMS-certified: {kind.label} cannot be booked here")
        if kind.requires_rems or self.rules.care.follow_up_hours_after_discharge:
            check_chain(self.clinic)  # its surveys' safety pages must reach someone of this clinic
        return kind

    def claims(self, block: Block, chair_id: str, provider_id: str) -> list[Claim]:
        """Every grain a session in `block` holds, with its resource's capacity."""
        capacity = {"chair": 1, "provider": self.provider_capacity(provider_id)}
        return [(grain, capacity[grain.kind]) for grain in grains_for(block, chair_id, provider_id, self.rules.grain)]

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.clinic.profile.zone).date()

    def check_start(self, start: datetime, session_type: SessionType, now: datetime, field: str = "start") -> Block:
        """Rules a start time must meet whatever is already booked."""
        start = require_aware(start, field)
        if start < now:
            raise InvalidRequest(field, "is in the past")
        if start < now + timedelta(minutes=self.rules.minimum_notice_minutes):
            raise InvalidRequest(field, f"needs at least {self.rules.minimum_notice_minutes} minutes' notice")
        if start > now + timedelta(days=self.rules.booking_horizon_days):
            raise InvalidRequest(field, f"is more than {self.rules.booking_horizon_days} days ahead")
        local = start.astimezone(self.clinic.profile.zone)
        if local.second or local.microsecond or (local.hour * 60 + local.minute) % self.rules.slot_step_minutes:
            raise InvalidRequest(field, f"must fall on a {self.rules.slot_step_minutes}-minute step")
        block = block_for(session_type, start)
        if local.date() in self.clinic.profile.closures:
            raise InvalidRequest(field, "the clinic is closed on that day")
        if not covered(self.clinic.profile.opening_on(local.date()), block.start, block.end):
            raise InvalidRequest(field, "the session would not fit within the clinic's opening hours")
        return block

    def check_provider_hours(self, provider: Provider, block: Block, field: str = "providerId") -> None:
        day = self.local_date(block.start)
        if not covered(intervals_on(provider.working_hours, day, self.clinic.profile.zone), block.start, block.end):
            raise InvalidRequest(field, "the provider is not working for the whole session")

    def availability(
        self,
        day: date,
        session_type: SessionType,
        occupancy: Mapping[Grain, int],
        now: datetime,
    ) -> list[AvailableSlot]:
        """Start times on `day` at which some chair and some provider are free for the whole block."""
        zone = self.clinic.profile.zone
        earliest = now + timedelta(minutes=self.rules.minimum_notice_minutes)
        latest = now + timedelta(days=self.rules.booking_horizon_days)
        chairs = [c for c in self.clinic.chairs.values() if c.active]
        providers = [p for p in self.clinic.providers.values() if p.active]
        provider_hours = {p.provider_id: intervals_on(p.working_hours, day, zone) for p in providers}
        slots: list[AvailableSlot] = []
        for open_, close in self.clinic.profile.opening_on(day):
            for start in self._starts(open_, close, session_type):
                if not earliest <= start <= latest:
                    continue
                block = block_for(session_type, start)
                points = lattice(block, self.rules.grain)
                free_chairs = tuple(
                    c.chair_id for c in chairs if _free(occupancy, "chair", c.chair_id, points, capacity=1)
                )
                free_providers = tuple(
                    p.provider_id
                    for p in providers
                    if covered(provider_hours[p.provider_id], block.start, block.end)
                    and _free(occupancy, "provider", p.provider_id, points, self.provider_capacity(p.provider_id))
                )
                if free_chairs and free_providers:
                    slots.append(AvailableSlot(block.start, block.end, free_chairs, free_providers))
        return slots

    def _starts(self, open_: datetime, close: datetime, session_type: SessionType) -> Iterable[datetime]:
        # The first start is the first step on or after opening, in local time; stepping in
        # UTC from there stays on the step, and a DST change at night does not shift it.
        local = open_.astimezone(self.clinic.profile.zone)
        start = open_ + timedelta(minutes=-(local.hour * 60 + local.minute) % self.rules.slot_step_minutes)
        while start + session_type.block <= close:
            yield start
            start += self.rules.slot_step


def _free(
    occupancy: Mapping[Grain, int], kind: ResourceKind, resource_id: str, points: list[datetime], capacity: int
) -> bool:
    return all(occupancy.get(Grain(kind, resource_id, at), 0) < capacity for at in points)
