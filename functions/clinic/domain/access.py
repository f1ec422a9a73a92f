"""Who looked at what: HIPAA's accounting of access. One entry per read of a patient's
record, history, answers and scores, or FHIR export; ids and the route only, never PHI."""

from __future__ import annotations

from datetime import datetime

from .model import Record


class AccessEntry(Record):
    patient_id: str
    staff_id: str  # the staff member's Cognito sub
    staff_name: str  # their username, as the audit trail names staff
    route: str  # "GET /patients/{patientId}/fhir": the route's template, never a value
    at: datetime
    request_id: str
