"""`make smoke` against the local stack: the operator's check signs in by SRP against (moto's)
Cognito with the web client's app client, reads the clinic, books, cancels, and leaves the
clinic's times as they were."""

from __future__ import annotations

import base64
import json
import os
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from infra.smoke import Api, Target, main, sign_in, totp
from local.identity import DEMO_PASSWORD
from local.seed import DEMO_CLINIC
from local.server import LocalService
from tests.support.world import patient_details


@pytest.fixture(scope="module")
def totp_secret(service: LocalService) -> str:
    """The test user's first sign-in, as the operator does it once in the web client: SRP, then
    the TOTP enrolment the pool requires. Returns the authenticator key."""
    import boto3
    from pycognito.aws_srp import AWSSRP

    assert service.directory is not None
    pool, client = service.directory.user_pool_id, service.directory.client_id
    cognito = boto3.client("cognito-idp")
    srp = AWSSRP("frontdesk", DEMO_PASSWORD, pool, client, client=cognito)
    started = cognito.initiate_auth(AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params(), ClientId=client)
    verified = cognito.respond_to_auth_challenge(
        ClientId=client,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=srp.process_challenge(started["ChallengeParameters"], srp.get_auth_params()),
    )
    assert verified["ChallengeName"] == "MFA_SETUP"
    associated = cognito.associate_software_token(Session=verified["Session"])
    secret = associated["SecretCode"]
    enrolled = cognito.verify_software_token(Session=associated["Session"], UserCode=totp(secret, time.time()))
    done = cognito.respond_to_auth_challenge(
        ClientId=client, ChallengeName="MFA_SETUP", Session=enrolled["Session"], ChallengeResponses={"USERNAME": "frontdesk"}
    )
    assert "AuthenticationResult" in done
    return secret


@pytest.fixture
def outputs(service: LocalService, tmp_path: Path) -> Path:
    """What `make deploy` writes, for the local stack (boto3 reaches moto through AWS_ENDPOINT_URL)."""
    assert service.directory is not None
    path = tmp_path / "cdk-outputs-dev.json"
    stack = {"ApiUrl": service.url + "/", "UserPoolId": service.directory.user_pool_id, "UserPoolClientId": service.directory.client_id}
    path.write_text(json.dumps({"KetamineClinic-dev": stack}))
    return path


@pytest.fixture
def test_patient(outputs: Path, totp_secret: str) -> str:
    """The operator's one-time set-up: a test patient in the test clinic."""
    target = Target.from_outputs(outputs, "dev")
    api = Api(target.api_url, sign_in(target, "frontdesk", DEMO_PASSWORD, totp_secret))
    return api.call("POST", "/patients", patient_details(givenName="Smoke", familyName="Test"), creates=True)["patientId"]


def free_times(api: Api, day: date) -> list[str]:
    slots = api.call("GET", f"/clinics/{DEMO_CLINIC}/availability?date={day.isoformat()}&sessionType=iv-ketamine")["slots"]
    return [s["start"] for s in slots]


def test_the_smoke_check_signs_in_books_and_cancels_and_the_clinic_is_as_before(
    outputs: Path, test_patient: str, totp_secret: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("SMOKE_USERNAME", "frontdesk")
    monkeypatch.setenv("SMOKE_TOTP_SECRET", totp_secret)
    monkeypatch.setenv("SMOKE_PASSWORD", DEMO_PASSWORD)
    monkeypatch.setenv("SMOKE_CLINIC_ID", DEMO_CLINIC)
    monkeypatch.setenv("SMOKE_PATIENT_ID", test_patient)
    target = Target.from_outputs(outputs, "dev")
    api = Api(target.api_url, sign_in(target, "frontdesk", DEMO_PASSWORD, totp_secret))
    tomorrow = date.today() + timedelta(days=1)
    before = free_times(api, tomorrow)

    assert main(["--stage", "dev", "--outputs", str(outputs)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("smoke:")]  # not the metrics
    assert lines[0] == "smoke: signed in as frontdesk" and lines[1].startswith(f"smoke: read clinic {DEMO_CLINIC}")
    booked = lines[2].split()[2]
    assert lines[2].startswith("smoke: booked ") and lines[3] == f"smoke: cancelled {booked}" and lines[-1] == "smoke: passed"
    appointment = api.call("GET", f"/appointments/{booked}")
    assert (appointment["patientId"], appointment["status"]) == (test_patient, "cancelled")
    assert free_times(api, tomorrow) == before  # the time it took is free again
    history = api.call("GET", f"/patients/{test_patient}/appointments")
    assert all(a["status"] == "cancelled" for a in history["appointments"])


def test_a_refused_sign_in_fails_the_check_and_books_nothing(outputs, test_patient, monkeypatch, capsys) -> None:
    # moto does not check the SRP proof (DESIGN.md), so a wrong password passes there: an unknown user does not.
    settings = {"SMOKE_USERNAME": "nobody", "SMOKE_PASSWORD": DEMO_PASSWORD, "SMOKE_CLINIC_ID": DEMO_CLINIC, "SMOKE_PATIENT_ID": test_patient}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    assert main(["--stage", "dev", "--outputs", str(outputs)]) == 1
    captured = capsys.readouterr()
    assert "smoke: FAILED: Cognito refused the sign-in: UserNotFoundException" in captured.err
    assert "smoke: booked" not in captured.out


def test_missing_settings_are_named_before_anything_is_called(outputs, monkeypatch, capsys) -> None:
    for key in ("SMOKE_USERNAME", "SMOKE_PASSWORD", "SMOKE_CLINIC_ID", "SMOKE_PATIENT_ID"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SMOKE_USERNAME", "frontdesk")
    assert main(["--outputs", str(outputs)]) == 2
    assert "SMOKE_PASSWORD, SMOKE_CLINIC_ID, SMOKE_PATIENT_ID" in capsys.readouterr().err
    assert os.environ["SMOKE_USERNAME"] == "frontdesk"


@pytest.mark.parametrize(("at", "code"), [(59, "94287082"), (1111111109, "07081804"), (20000000000, "65353130")])
def test_the_mfa_code_is_rfc_6238s(at: int, code: str) -> None:
    """RFC 6238, appendix B, SHA-1 (its key is the ASCII 12345678901234567890)."""
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, at, digits=8) == code
