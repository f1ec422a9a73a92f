"""HIPAA's accounting of access, for the practice's admin of every clinic: who read a
patient's records, and what a staff member read."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from ...domain.errors import InvalidRequest
from ..auth import ADMIN
from ..routing import Routes, caller, use_cases
from ..views import dump

routes = Routes()


@routes("GET", "/access-log", frozenset({ADMIN}))
def get_access_log(
    patient_id: Annotated[str | None, Query(alias="patientId", max_length=64)] = None,
    staff_id: Annotated[str | None, Query(alias="staffId", max_length=128)] = None,
) -> dict[str, Any]:
    """Every read of one patient's records (patientId), or every read by one staff member
    (staffId, their user id), oldest first."""
    if (patient_id is None) == (staff_id is None):
        raise InvalidRequest("patientId", "name exactly one of patientId or staffId")
    log, actor = use_cases().access_log, caller()
    entries = log.of_patient(actor, patient_id) if patient_id is not None else log.by_staff(actor, staff_id or "")
    return {"entries": [dump(entry) for entry in entries]}
