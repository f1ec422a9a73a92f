"""The API on moto, driven the way API Gateway drives the Lambda."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from clinic.api import app as api_module

from local.aws import deploy, reset_functions, serialize_dynamodb
from local.gateway import LambdaContext, rest_event
from tests.support import conformance

CLINIC = "north"
ZONE = ZoneInfo("America/New_York")
ALL_WEEK = {day: [{"start": "08:00", "end": "18:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
CLINIC_PROFILE = {"name": "North", "timeZone": ZONE.key, "openingHours": ALL_WEEK, "remsCertified": True}


def patient_details(**overrides: Any) -> dict[str, Any]:
    """A valid registration body; an override of None drops that field. Tests register many
    patients with these same details: each says it is someone new (`confirmedNew`), as the
    desk does after the duplicate check; the check's own tests drop it."""
    details = {
        "givenName": "Alex",
        "familyName": "Rivera",
        "birthDate": "1980-04-02",
        "phone": "+15555550100",
        "emergencyContact": {"name": "Sam Rivera", "phone": "+15555550101"},
        "remsEnrolled": True,
        "confirmedNew": True,
        **overrides,
    }
    return {k: v for k, v in details.items() if v is not None}


# Every discharge checklist item confirmed.
CHECKLIST = {
    "vitalsAcceptable": True,
    "sedationResolved": True,
    "dissociationResolved": True,
    "breathingNormal": True,
    "ridePresent": True,
}


def dose_body(started_at: datetime, **changes: Any) -> dict[str, Any]:
    """A valid Spravato dose; an override of None drops that field."""
    body = {
        "preDoseBloodPressure": {"systolic": 128, "diastolic": 82},
        "startedAt": started_at.isoformat(),
        "doseMg": 56,
        "deviceCount": 2,
        "lotNumber": "LOT-42",
        **changes,
    }
    return {k: v for k, v in body.items() if v is not None}


def claims_for(role: str | None, user: str | None = None) -> dict[str, Any] | None:
    if role is None:
        return None
    user = user or f"{role}-user"
    return {"sub": f"sub-{user}", "cognito:username": user, "cognito:groups": role}


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


class World:
    """Tables from the synthesized template, the API function's environment from the same
    template, and a way to call the real handler. Every reply is checked against the API's
    OpenAPI document unless `checks_replies` is off (the benchmark times the handler alone)."""

    checks_replies = True

    def __init__(self, template: dict[str, Any], monkeypatch: Any):
        serialize_dynamodb()
        self.dynamodb = boto3.client("dynamodb")
        self.deployment = deploy(template)
        for key, value in self.deployment.environment.items():
            monkeypatch.setenv(key, value)
        reset_functions()

    @property
    def table_name(self) -> str:
        return self.deployment.table_name

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        role: str | None = "front-desk",
        user: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Reply:
        event = rest_event(method, path, body=body, claims=claims_for(role, user), headers=headers, query=query)
        response = api_module.lambda_handler(event, LambdaContext())
        payload = json.loads(response["body"]) if response.get("body") else None
        headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
        if self.checks_replies:
            conformance.check(method, path, response["statusCode"], payload)
        return Reply(response["statusCode"], payload, {**headers, **(response.get("headers") or {})})

    def items(self) -> list[dict[str, Any]]:
        """Every item of the clinic table (a test may Scan; the service never does)."""
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=self.table_name)
        return sorted((item for page in pages for item in page["Items"]), key=lambda i: (i["pk"]["S"], i["sk"]["S"]))

    # --- a clinic to work in ----------------------------------------------------------
    def set_up_clinic(self, *, chairs: int = 3, nurse_capacity: int = 2) -> None:
        self._ok(self.call("PUT", f"/clinics/{CLINIC}", CLINIC_PROFILE, role="admin"))
        for n in range(1, chairs + 1):
            self._ok(self.call("PUT", f"/clinics/{CLINIC}/chairs/chair-{n}", {"name": f"Chair {n}"}, role="admin"))
        nurse = {"name": "Nurse A", "role": "nurse", "capacity": nurse_capacity, "workingHours": ALL_WEEK}
        self._ok(self.call("PUT", f"/clinics/{CLINIC}/providers/nurse-a", nurse, role="admin"))
        prescriber = {"name": "Dr B", "role": "prescriber", "capacity": 1, "workingHours": ALL_WEEK}
        self._ok(self.call("PUT", f"/clinics/{CLINIC}/providers/dr-b", prescriber, role="admin"))

    def register_patient(self, key: str = "patient-key-1", **overrides: Any) -> dict[str, Any]:
        reply = self.call("POST", "/patients", patient_details(**overrides), headers={"Idempotency-Key": key})
        assert reply.status == 201, reply.body
        return reply.body

    def book(self, patient_id: str, start: datetime, *, key: str, chair: str = "chair-1", provider: str = "nurse-a", session_type: str = "spravato") -> Reply:
        body = {
            "clinicId": CLINIC,
            "patientId": patient_id,
            "sessionType": session_type,
            "chairId": chair,
            "providerId": provider,
            "start": start.isoformat(),
        }
        return self.call("POST", "/appointments", body, headers={"Idempotency-Key": key})

    @staticmethod
    def _ok(reply: Reply) -> None:
        assert reply.status == 200, reply.body


def clinic_day(days_ahead: int = 7) -> date:
    return datetime.now(ZONE).date() + timedelta(days=days_ahead)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)
