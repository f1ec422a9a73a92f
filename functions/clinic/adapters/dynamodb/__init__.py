"""The clinic's single DynamoDB table: every record port of usecases/ports.py.

Every partition key below is written and read with the organization in front of it,
ORG#{organization}#..., by reach.py: one practice's records never share a partition with
another's, and a repository bound to one organization cannot name another's.

Access patterns and the keys that serve them (also in docs/table-design.md):

| pattern                          | read                                   | key                                         |
|----------------------------------|----------------------------------------|---------------------------------------------|
| clinic configuration             | Query pk                               | pk=CLINIC#{clinic} (PROFILE, CHAIR#, PROVIDER#) |
| held chair/provider time of a day| Query pk                               | pk=HOLD#{clinic}#{date}, sk={kind}#{id}#{utc} |
| appointment by id (+ audit)      | GetItem / Query pk                     | pk=APPT#{id}, sk=APPT / AUDIT#{version}      |
| day board                        | Query GSI1                             | gsi1pk=BOARD#{clinic}#{date}, gsi1sk={utc}#{id} |
| patient by id                    | GetItem                                | pk=PATIENT#{id}, sk=PROFILE                  |
| find a patient (name, birth date, phone) | Query pk, sk prefix             | pk=PATIENT-INDEX, sk=NAME#{normalized}#{id} / BIRTH#{date}#{id} / PHONE#{digits last first}#{id} |
| patient's appointments           | Query GSI2                             | gsi2pk=PATIENT#{id}, gsi2sk=APPT#{utc}#{id}  |
| an appointment's vitals          | Query pk                               | pk=APPT#{id}, sk=VITALS#{utc}#{vitals id}    |
| REMS forms due per clinic        | Query GSI1                             | gsi1pk=REMS#{clinic}, gsi1sk={due date}#{id} |
| patient link by token            | GetItem                                | pk=LINK#{sha256 of token}, sk=LINK           |
| an appointment's follow-ups      | Query pk / GetItem                     | pk=APPT#{id}, sk=FOLLOWUP#{nn}               |
| a patient's answers and scores   | Query pk                               | pk=PATIENT#{id}, sk=QR#{utc}# / OBS#{instrument}#{utc}# |
| escalation, clinician task       | GetItem                                | pk=ESCALATION#{id} / TASK#{id}               |
| a clinic's open alerts           | Query GSI1                             | gsi1pk=ALERTS#{clinic}, gsi1sk={kind}#{utc}#{id} (kind: escalation, task, call, attention) |
| was a message sent (once only)   | GetItem                                | pk=APPT#{id}, sk=MESSAGE#{key}               |
| course by id                     | GetItem                                | pk=COURSE#{id}, sk=COURSE                    |
| a clinic's waitlist              | Query pk                               | pk=WAITLIST#{clinic}, sk=ENTRY#{id} (+ POSITION counter) |
| a waitlist offer (freed block)   | GetItem                                | pk=OFFER#{cancelled appointment id}, sk=OFFER |
| a course's sessions              | Query GSI2 (the patient's appointments) | gsi2pk=PATIENT#{id}, filtered by courseId    |
| who read a patient's records     | Query pk                               | pk=ACCESS#{patient}, sk={utc}#{request id}   |
| what a staff member read         | Query GSI1                             | gsi1pk=ACCESS-BY#{staff sub}, gsi1sk={utc}#{request id} |
| the organization                 | PutItem                                | pk=ORGANIZATION, sk=PROFILE                  |
| the organization's staff         | Query pk / GetItem                     | pk=STAFF, sk=USER#{username}                 |
| a staff member's audit trail     | Query pk                               | pk=STAFF#{username}, sk=AUDIT#{version}      |
"""

from __future__ import annotations

from typing import Any

from ...domain.tenancy import Reach

from .access import AccessTable
from .appointments import AppointmentTable
from .clinics import ClinicCache, ClinicTable
from .courses import CourseAndWaitlistTable
from .follow_ups import FollowUpTable
from .session import SessionTable
from .staff import StaffTable
from .table import is_throttled

__all__ = ["ClinicCache", "DynamoRepository", "is_throttled"]


class DynamoRepository(
    ClinicTable, AppointmentTable, CourseAndWaitlistTable, SessionTable, FollowUpTable, AccessTable, StaffTable
):
    """The whole table as one organization (and, for staff, their clinics) sees it; one part
    per record family (each in its own module here)."""

    def __init__(self, table: Any, reach: Reach, clinic_cache: ClinicCache | None = None):
        super().__init__(table, reach)
        if clinic_cache is not None:
            self.clinic_cache = clinic_cache
