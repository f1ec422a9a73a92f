"""Errors the domain raises; the API maps each kind to one HTTP status in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # patients' module raises these errors
    from .patients import Patient


class DomainError(Exception):
    """Base class: `message` is safe to show to staff (never contains PHI)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidRequest(DomainError):
    """Input that is well-formed but breaks a rule; names the field (or fields) at fault."""

    def __init__(self, field: str, message: str, *more: tuple[str, str]):
        super().__init__(message)
        self.field = field
        self.problems = [(field, message), *more]


class NotPermitted(DomainError):
    """The caller may use the route but not make this change (403); names the field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """The request collides with the current state (a booked chair, a changed record)."""


class AlreadyExists(Conflict):
    """A record with this id is already stored (a create repeated with the same id)."""


class UsernameTaken(Conflict):
    """The sign-in directory already has an account by this username (in any practice)."""

    def __init__(self) -> None:
        super().__init__("username: this username is taken; choose another")


class PossibleDuplicate(Conflict):
    """A registration that may be someone already registered: `patients` are they (shown to
    the staff member who asked, never in the message or a log)."""

    def __init__(self, patients: list[Patient]):
        super().__init__(
            "a patient with the same name and birth date, or the same phone number, is already registered: "
            "use that record, or confirm this is someone else (confirmedNew: true)"
        )
        self.patients = patients


class IllegalTransition(Conflict):
    pass


class SlotTaken(Conflict):
    """A grain of the chair's or provider's time is already fully held."""

    def __init__(self, kind: str, resource_id: str, at: object):
        super().__init__(f"the {kind} is already booked at {at}")
        self.kind = kind
        self.resource_id = resource_id
        self.at = at


class TemporarilyUnavailable(DomainError):
    """A dependency is throttling or down; the caller may retry after a pause."""


class StaleRecord(Conflict):
    """Someone else changed the record between our read and our write."""


class LinkInvalid(DomainError):
    """A patient link token that matches nothing we issued."""


class LinkGone(DomainError):
    """A patient link that was valid but is used up or expired."""


class Undeliverable(DomainError):
    """A message that cannot be delivered as things stand: retrying will not help, staff must act."""


class OutsideReach(DomainError):
    """A clinic of the caller's organization that the caller does not work at."""

    def __init__(self) -> None:
        super().__init__("your account does not work at this clinic; an admin of your practice can add it")
