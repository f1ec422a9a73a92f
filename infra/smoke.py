"""The operator's smoke check after a deploy (`make smoke STAGE=prod`): signs in as a test user
the way the web client does (Cognito SRP, then the TOTP code), reads the test clinic, books its
test patient into the first free time and cancels the booking again. Whatever fails, a booking
it made is cancelled before it exits; the patient and clinic are the operator's test records.

Reads the stack's outputs from `cdk-outputs-<stage>.json` (written by `make deploy`) and:
SMOKE_USERNAME, SMOKE_PASSWORD, SMOKE_TOTP_SECRET (the test user's authenticator key),
SMOKE_CLINIC_ID, SMOKE_PATIENT_ID, optionally SMOKE_SESSION_TYPE (default iv-ketamine)."""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import os
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DAYS_SEARCHED = 14  # from tomorrow: the first day with a free time is booked


class SmokeFailed(Exception):
    pass


@dataclass(frozen=True)
class Target:
    api_url: str
    region: str
    user_pool_id: str
    client_id: str
    cognito_endpoint: str | None = None  # only locally: moto's Cognito

    @classmethod
    def from_outputs(cls, path: Path, stage: str) -> Target:
        outputs = json.loads(path.read_text())[f"KetamineClinic-{stage}"]
        api_url = outputs.get("ApiDomainUrl") or outputs["ApiUrl"]
        return cls(api_url.rstrip("/"), outputs["UserPoolId"].split("_", 1)[0], outputs["UserPoolId"], outputs["UserPoolClientId"])


def totp(secret: str, now: float, digits: int = 6, step: int = 30) -> str:
    """RFC 6238 with SHA-1: the code an authenticator app shows for the base32 `secret` at `now`."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.digest(key, struct.pack(">Q", int(now // step)), "sha1")
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def sign_in(target: Target, username: str, password: str, totp_secret: str | None) -> str:
    """An ID token by SRP (the password never leaves this machine), answering the MFA challenge."""
    import boto3
    from pycognito.aws_srp import AWSSRP
    from pycognito.exceptions import SoftwareTokenMFAChallengeException

    from botocore.exceptions import ClientError

    cognito = boto3.client("cognito-idp", region_name=target.region, endpoint_url=target.cognito_endpoint)
    srp = AWSSRP(username, password, target.user_pool_id, target.client_id, client=cognito)
    try:
        tokens = srp.authenticate_user()
    except ClientError as refused:
        raise SmokeFailed(f"Cognito refused the sign-in: {refused.response['Error']['Code']}") from None
    except SoftwareTokenMFAChallengeException as challenge:
        if not totp_secret:
            raise SmokeFailed("the test user has MFA: set SMOKE_TOTP_SECRET to its authenticator key") from None
        tokens = cognito.respond_to_auth_challenge(
            ClientId=target.client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=challenge.get_tokens()["Session"],
            ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": totp(totp_secret, time.time())},
        )
    if "AuthenticationResult" not in tokens:
        raise SmokeFailed(f"sign-in stopped at the {tokens.get('ChallengeName')} challenge: finish it in the web client once")
    return tokens["AuthenticationResult"]["IdToken"]


class Api:
    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url, token

    def call(self, method: str, path: str, body: Any = None, *, creates: bool = False) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if creates:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}")
            raise SmokeFailed(f"{method} {path} answered {error.code}: {detail.get('code')}: {detail.get('message')}") from None


def check(api: Api, clinic_id: str, patient_id: str, session_type: str, today: date, say: Callable[[str], None]) -> None:
    clinic = api.call("GET", f"/clinics/{clinic_id}")
    say(f"read clinic {clinic_id} ({clinic.get('name')})")
    booked: str | None = None
    try:
        for offset in range(1, DAYS_SEARCHED + 1):
            day = (today + timedelta(days=offset)).isoformat()
            slots = api.call("GET", f"/clinics/{clinic_id}/availability?date={day}&sessionType={session_type}")["slots"]
            if slots:
                break
        else:
            raise SmokeFailed(f"no free {session_type} time in clinic {clinic_id} in the next {DAYS_SEARCHED} days")
        slot = slots[0]
        body = {
            "clinicId": clinic_id,
            "patientId": patient_id,
            "sessionType": session_type,
            "chairId": slot["chairIds"][0],
            "providerId": slot["providerIds"][0],
            "start": slot["start"],
        }
        booked = api.call("POST", "/appointments", body, creates=True)["appointmentId"]
        say(f"booked {booked} at {slot['start']}")
        api.call("POST", f"/appointments/{booked}/cancel", {"reason": "operator smoke check"})
        if api.call("GET", f"/appointments/{booked}")["status"] != "cancelled":
            raise SmokeFailed(f"appointment {booked} is not cancelled after its cancel answered")
        say(f"cancelled {booked}")
        booked = None
    finally:
        if booked:  # a step after the booking failed: the time goes back to the clinic
            api.call("POST", f"/appointments/{booked}/cancel", {"reason": "operator smoke check, cleaning up"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--outputs", type=Path, help="the outputs file of `make deploy` (default cdk-outputs-<stage>.json)")
    args = parser.parse_args(argv)
    environment = os.environ
    missing = [k for k in ("SMOKE_USERNAME", "SMOKE_PASSWORD", "SMOKE_CLINIC_ID", "SMOKE_PATIENT_ID") if not environment.get(k)]
    if missing:
        print(f"smoke: set {', '.join(missing)} (README, Deploy: the smoke check)", file=sys.stderr)
        return 2
    target = Target.from_outputs(args.outputs or Path(f"cdk-outputs-{args.stage}.json"), args.stage)
    try:
        token = sign_in(target, environment["SMOKE_USERNAME"], environment["SMOKE_PASSWORD"], environment.get("SMOKE_TOTP_SECRET"))
        print(f"smoke: signed in as {environment['SMOKE_USERNAME']}")
        check(
            Api(target.api_url, token),
            environment["SMOKE_CLINIC_ID"],
            environment["SMOKE_PATIENT_ID"],
            environment.get("SMOKE_SESSION_TYPE", "iv-ketamine"),
            date.today(),
            lambda line: print(f"smoke: {line}"),
        )
    except SmokeFailed as failure:
        print(f"smoke: FAILED: {failure}", file=sys.stderr)
        return 1
    print("smoke: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
