"""The API on moto, driven the way API Gateway drives the Lambda."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from clinic.api import app as api_module

from local.aws import deploy, reset_functions, serialize_dynamodb, stored_items
from local.gateway import LambdaContext, rest_event
from tests.support import conformance

ORGANIZATION = "practice-a"
CLINIC = "north"
ZONE = ZoneInfo("America/New_York")
ALL_WEEK = {day: [{"start": "08:00", "end": "18:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# The set-up clinic's on-call chain: Dr B, then Nurse A (Spravato and surveys need one).
SET_UP_PAGERS = {"dr-b": "+15555550901", "nurse-a": "+15555550902"}
CLINIC_PROFILE = {
    "name": "North", "timeZone": ZONE.key, "openingHours": ALL_WEEK, "remsCertified": True, "escalationChain": ["dr-b", "nurse-a"],
}


def org_key(key: str, organization: str = ORGANIZATION) -> str:
    """A partition key as stored: every one starts with its organization."""
    return f"ORG#{organization}#{key}"


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


def claims_for(
    role: str | None, user: str | None = None, *, organization: str = ORGANIZATION, clinics: str = "*"
) -> dict[str, Any] | None:
    """What the Cognito authorizer hands over for a staff member: `clinics` is the
    `custom:clinics` attribute ("*" for every clinic of the organization)."""
    if role is None:
        return None
    user = user or f"{role}-user"
    return {
        "sub": f"sub-{user}",
        "cognito:username": user,
        "cognito:groups": role,
        "custom:organization": organization,
        "custom:clinics": clinics,
    }


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
        organization: str = ORGANIZATION,
        clinics: str = "*",
        claims: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Reply:
        """As a staff member of `role` in `organization` working at `clinics` ("*": every clinic);
        None: no token; or with the `claims` of a real ID token (see sign_in)."""
        claims = claims or claims_for(role, user, organization=organization, clinics=clinics)
        event = rest_event(method, path, body=body, claims=claims, headers=headers, query=query)
        response = api_module.lambda_handler(event, LambdaContext())
        payload = json.loads(response["body"]) if response.get("body") else None
        headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
        if self.checks_replies:
            conformance.check(method, path, response["statusCode"], payload)
        return Reply(response["statusCode"], payload, {**headers, **(response.get("headers") or {})})

    def sign_in(self, username: str, password: str, new_password: str | None = None) -> dict[str, Any]:
        """The claims of the ID token moto's Cognito issues now (as API Gateway hands them on),
        by the admin password flow (no MFA step); a first sign-in with the temporary password
        chooses `new_password` first."""
        pool = self.deployment.user_pool
        cognito = boto3.client("cognito-idp")

        def start(secret: str) -> dict[str, Any]:
            return cognito.admin_initiate_auth(
                UserPoolId=pool.user_pool_id, ClientId=pool.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": secret},
            )

        reply = start(password)
        if reply.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            cognito.admin_respond_to_auth_challenge(
                UserPoolId=pool.user_pool_id, ClientId=pool.client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=reply["Session"], ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
            )
            reply = start(str(new_password))
        payload = reply["AuthenticationResult"]["IdToken"].split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    def items(self) -> list[dict[str, Any]]:
        """Every item of the clinic table (a test may look at all of it; the service never does)."""
        stored = stored_items(self.table_name, self.dynamodb.meta.region_name)
        return sorted(stored, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))

    # --- a clinic to work in ----------------------------------------------------------
    def set_up_clinic(
        self, *, chairs: int = 3, nurse_capacity: int = 2, clinic: str = CLINIC, organization: str = ORGANIZATION
    ) -> None:
        def admin(path: str, body: dict[str, Any]) -> None:
            self._ok(self.call("PUT", f"/clinics/{clinic}{path}", body, role="admin", organization=organization))

        admin("", {**CLINIC_PROFILE, "remsCertified": False, "escalationChain": []})  # the chain's providers come next
        for n in range(1, chairs + 1):
            admin(f"/chairs/chair-{n}", {"name": f"Chair {n}"})
        nurse = {"name": "Nurse A", "role": "nurse", "capacity": nurse_capacity, "workingHours": ALL_WEEK}
        admin("/providers/nurse-a", {**nurse, "pager": SET_UP_PAGERS["nurse-a"]})
        prescriber = {"name": "Dr B", "role": "prescriber", "capacity": 1, "workingHours": ALL_WEEK}
        admin("/providers/dr-b", {**prescriber, "pager": SET_UP_PAGERS["dr-b"]})
        admin("", CLINIC_PROFILE)

    def register_patient(self, key: str = "patient-key-1", *, organization: str = ORGANIZATION, **overrides: Any) -> dict[str, Any]:
        reply = self.call("POST", "/patients", patient_details(**overrides), headers={"Idempotency-Key": key}, organization=organization)
        assert reply.status == 201, reply.body
        return reply.body

    def book(
        self, patient_id: str, start: datetime, *, key: str, chair: str = "chair-1", provider: str = "nurse-a",
        session_type: str = "spravato", clinic: str = CLINIC, organization: str = ORGANIZATION,
    ) -> Reply:
        body = {
            "clinicId": clinic,
            "patientId": patient_id,
            "sessionType": session_type,
            "chairId": chair,
            "providerId": provider,
            "start": start.isoformat(),
        }
        return self.call("POST", "/appointments", body, headers={"Idempotency-Key": key}, organization=organization)

    @staticmethod
    def _ok(reply: Reply) -> None:
        assert reply.status == 200, reply.body


def clinic_day(days_ahead: int = 7) -> date:
    return datetime.now(ZONE).date() + timedelta(days=days_ahead)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)
