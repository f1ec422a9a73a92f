"""The waitlist: patients join with the days and times they can come; a cancellation offers
the freed chair block to the first few who want it and may take it (REMS, spacing), each by
a link; the first to accept books it, atomically."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta

from ..domain.appointments import Appointment
from ..domain.errors import Conflict, DomainError, InvalidRequest, LinkGone, LinkInvalid
from ..domain.links import Link, LinkKind, digest, new_token
from ..domain.patients import Patient, check_rems_enrollment
from ..domain.resources import Weekday
from ..domain.scheduling import Scheduler
from ..domain.waitlist import OfferStatus, WaitlistEntry, WaitlistOffer, in_turn
from .appointments import AppointmentStore, WorkflowRuns, too_close
from .booking import new_booking
from .kernel import WAITLIST_ACTOR, ClinicUseCase, known_patient, new_id, taken_in_clinic_time
from .ports import LinkRecords, PatientMessages, PatientRecords, WaitlistRecords

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Waitlist(ClinicUseCase):
    records: WaitlistRecords
    patients: PatientRecords
    store: AppointmentStore
    runs: WorkflowRuns
    links: LinkRecords
    messages: Callable[[], PatientMessages]  # made on first use: most requests never send one
    patient_link_base_url: str  # without a trailing slash
    organization_id: str  # the practice whose links these are (a link's token names it)

    # --- the list -------------------------------------------------------------------
    def join(
        self, clinic_id: str, patient_id: str, session_type: str, weekdays: list[Weekday], earliest: time, latest: time
    ) -> WaitlistEntry:
        scheduler = Scheduler(self.rules, self.clinic(clinic_id))
        kind = scheduler.bookable(session_type)
        check_rems_enrollment(known_patient(self.patients, patient_id), kind.requires_rems)
        if latest < earliest:
            raise InvalidRequest("latest", "must not be before earliest")
        entry = WaitlistEntry(
            entry_id=new_id(),
            clinic_id=clinic_id,
            patient_id=patient_id,
            session_type=session_type,
            weekdays=weekdays,
            earliest=earliest,
            latest=latest,
            created_at=self.clock(),
        )
        return self.records.add_waitlist_entry(entry)

    def entries(self, clinic_id: str) -> list[WaitlistEntry]:
        self.clinic(clinic_id)
        return self.records.waitlist(clinic_id)

    def remove(self, clinic_id: str, entry_id: str) -> None:
        self.records.remove_waitlist_entry(clinic_id, entry_id)

    # --- offers ---------------------------------------------------------------------
    def offer_freed(self, cancelled: Appointment) -> WaitlistOffer | None:
        """Offers a cancelled appointment's block to the waitlist. Runs after the cancellation
        has landed, so a failure here costs the offer, never the cancellation."""
        try:
            return self._offer(cancelled)
        except Exception as error:  # noqa: BLE001 - the cancellation stands whatever happens here
            log.warning("the freed time could not be offered to the waitlist: %s", type(error).__name__)
            return None

    def _offer(self, cancelled: Appointment) -> WaitlistOffer | None:
        now = self.clock()
        valid_until = cancelled.start - timedelta(minutes=self.rules.minimum_notice_minutes)
        if now >= valid_until:
            return None
        scheduler = Scheduler(self.rules, self.clinic(cancelled.clinic_id))
        kind = self.rules.session_types[cancelled.session_type]
        patients: dict[str, Patient | None] = {}

        def eligible(entry: WaitlistEntry) -> bool:
            patient = patients.setdefault(entry.patient_id, self.patients.get_patient(entry.patient_id))
            if patient is None or entry.patient_id == cancelled.patient_id:
                return False
            if kind.requires_rems and not patient.rems_enrolled:
                return False
            return too_close(self.store.records, scheduler, entry.patient_id, cancelled.session_type, cancelled.start) is None

        local_start = cancelled.start.astimezone(scheduler.clinic.profile.zone)
        chosen = in_turn(
            self.records.waitlist(cancelled.clinic_id), cancelled.session_type, local_start, eligible,
            self.rules.waitlist_offer_size,
        )
        if not chosen:
            return None
        offer = WaitlistOffer(
            offer_id=cancelled.appointment_id,
            clinic_id=cancelled.clinic_id,
            session_type=cancelled.session_type,
            chair_id=cancelled.chair_id,
            provider_id=cancelled.provider_id,
            start=cancelled.start,
            offered_to=[e.entry_id for e in chosen],
            valid_until=valid_until,
            created_at=now,
        )
        if not self.records.create_offer(offer):
            return None  # offered already (a repeated cancel)
        for entry in chosen:
            patient = patients[entry.patient_id]
            if patient is not None:  # always: eligible() found it
                self._send(offer, entry, patient)
        return offer

    def _send(self, offer: WaitlistOffer, entry: WaitlistEntry, patient: Patient) -> None:
        token = new_token(self.organization_id)
        link = Link(
            digest=digest(token),
            kind=LinkKind.WAITLIST,
            appointment_id=offer.offer_id,
            run=0,
            valid_until=offer.valid_until,
            waitlist_entry=entry.entry_id,
        )
        self.links.save_link(link)
        text = f"A treatment time has opened up at your clinic. The first to accept gets it: {self.patient_link_base_url}/offer#{token}"
        try:
            self.messages().to_patient(patient, "A treatment time has opened up", text)
        except DomainError as error:  # one patient unreachable: the others still get theirs
            log.warning("a waitlist offer could not be sent: %s", type(error).__name__)

    def offer(self, token: str) -> tuple[WaitlistOffer, bool]:
        """The offer a link opens and whether this link's patient has it."""
        link, offer = self._opened(token)
        return offer, offer.taken_by == link.waitlist_entry

    def accept(self, token: str) -> Appointment:
        link, offer = self._opened(token)
        if offer.status is OfferStatus.TAKEN:
            if offer.taken_by == link.waitlist_entry and offer.appointment_id:
                return self.store.get(offer.appointment_id)  # a repeated tap
            raise LinkGone("this time has already been taken; you stay on the waitlist")
        now = self.clock()
        if now >= offer.valid_until:
            raise LinkGone("this offer has expired; you stay on the waitlist")
        entry = self.records.get_waitlist_entry(offer.clinic_id, link.waitlist_entry or "")
        if entry is None:
            raise LinkGone("you are no longer on the waitlist; please call the clinic")
        scheduler = Scheduler(self.rules, self.clinic(offer.clinic_id))
        seen = self.store.records.patient_schedule_version(entry.patient_id)  # see Bookings.book
        if too_close(self.store.records, scheduler, entry.patient_id, offer.session_type, offer.start):
            raise Conflict("this time is too close to another of your sessions; please call the clinic")
        try:
            booking = new_booking(
                scheduler, WAITLIST_ACTOR, offer.session_type, entry.patient_id, offer.chair_id, offer.provider_id,
                offer.start, now,
            )
        except InvalidRequest as refused:
            raise LinkGone("this time can no longer be booked; you stay on the waitlist") from refused
        taken = offer.model_copy(
            update={
                "status": OfferStatus.TAKEN,
                "version": offer.version + 1,
                "taken_by": entry.entry_id,
                "appointment_id": booking.appointment.appointment_id,
            }
        )
        requires_rems = self.rules.session_types[offer.session_type].requires_rems
        with taken_in_clinic_time(scheduler):
            self.records.accept_offer(
                booking.appointment, booking.claims, booking.audit, offer, taken, requires_rems=requires_rems, schedule_version=seen
            )
        return self.runs.start(booking.appointment, now)

    def _opened(self, token: str) -> tuple[Link, WaitlistOffer]:
        link = self.links.get_link(digest(token))
        offer = self.records.get_offer(link.appointment_id) if link and link.kind is LinkKind.WAITLIST else None
        if link is None or offer is None:
            raise LinkInvalid("this link is not valid; please call the clinic")
        return link, offer
