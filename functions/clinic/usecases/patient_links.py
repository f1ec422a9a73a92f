"""The patient's answer to a reminder's link (no login: the link's token is the credential;
the waitlist's and the survey's links are in waitlist.py and follow_ups.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain.appointments import Action, Appointment, Confirmation, Status, attention_after, raise_attention
from ..domain.care import Attention, AttentionKind
from ..domain.errors import LinkGone, LinkInvalid
from ..domain.links import Link, LinkKind, digest
from .appointments import AppointmentStore, Change
from .kernel import PATIENT_LINK_ACTOR, Clock
from .ports import LinkRecords


@dataclass(eq=False)
class ReminderLinks:
    links: LinkRecords
    store: AppointmentStore
    clock: Clock

    def appointment_of(self, token: str) -> Appointment:
        """What the link asks about, for the page to say which appointment it confirms;
        opening it uses nothing up."""
        link = self._open_link(token, self.clock())
        appointment = self.store.get(link.appointment_id)
        if appointment.status is not Status.BOOKED or appointment.workflow.run != link.run:
            raise LinkGone("this appointment has changed; please use the link of the latest reminder or call the clinic")
        return appointment

    def _open_link(self, token: str, now: datetime) -> Link:
        link = self.links.get_link(digest(token))
        if link is None or link.kind is not LinkKind.CONFIRM:
            raise LinkInvalid("this link is not valid; please call the clinic")
        if link.used_at is not None:
            raise LinkGone("this link was already used; please call the clinic to change your answer")
        if now >= link.valid_until:
            raise LinkGone("this link has expired; please call the clinic")
        return link

    def confirm_attendance(self, token: str, attending: bool, ride_arranged: bool) -> Appointment:
        """The link works once. An answer that needs the front desk (not coming, no ride
        home) flags the appointment."""
        now = self.clock()
        link = self._open_link(token, now)
        problem = None if attending else "the patient says they will not come"
        if attending and not ride_arranged:
            problem = "the patient has no ride home arranged"

        def decide(before: Appointment, now: datetime) -> Change:
            if before.status is not Status.BOOKED:
                raise LinkGone("this appointment is no longer open; please call the clinic")
            if before.workflow.run != link.run:
                raise LinkGone("this appointment has moved; please use the link of the latest reminder")
            attention = attention_after(before, Action.CONFIRM)
            if problem:
                attention = raise_attention(attention, Attention(kind=AttentionKind.PATIENT_ANSWER, reason=f"{problem}: call them", since=now))
            update = {"confirmation": Confirmation(attending=attending, ride_arranged=ride_arranged, at=now), "attention": attention}
            return Change(update, Action.CONFIRM, PATIENT_LINK_ACTOR, problem, consumed_link=link.digest)

        _, after = self.store.change(link.appointment_id, decide)
        assert after is not None  # decide always changes it
        return after
