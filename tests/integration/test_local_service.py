"""`make run`'s service, over HTTP: real moto Cognito tokens, checked like API Gateway would."""

from __future__ import annotations

import base64
import http.client
import json
import os
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import boto3

from local.cognito import N
from local.identity import DEMO_PASSWORD
from local.server import LocalService
from tests.support.timing import eventually
from tests.support.world import patient_details


def request(service: LocalService, method: str, path: str, body=None, token: str | None = None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = token
    req = urllib.request.Request(service.url + path, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def sign_in(service: LocalService, username: str) -> str:
    status, body = request(service, "POST", "/local/sign-in", {"username": username, "password": DEMO_PASSWORD})
    assert status == 200, body
    return body["idToken"]


def test_seeded_clinic_is_served_to_a_signed_in_front_desk(service: LocalService) -> None:
    token = sign_in(service, "frontdesk")
    status, clinic = request(service, "GET", "/clinics/demo", token=token)
    assert status == 200 and len(clinic["chairs"]) == 4
    tomorrow = (datetime.now(ZoneInfo(clinic["timeZone"])) + timedelta(days=1)).date().isoformat()
    status, board = request(service, "GET", f"/clinics/demo/board?date={tomorrow}", token=token)
    assert status == 200 and len(board["appointments"]) == 2


def test_each_demo_practice_s_admin_lists_its_own_staff_and_sees_nothing_of_the_other(service: LocalService) -> None:
    status, listed = request(service, "GET", "/staff", token=sign_in(service, "admin"))
    assert status == 200, listed
    assert [(m["username"], m["role"], m["clinics"]) for m in listed["staff"]] == [
        ("admin", "admin", ["*"]), ("clinician", "clinician", ["*"]), ("frontdesk", "front-desk", ["*"]),
    ]
    other_admin = sign_in(service, "other-admin")
    status, listed = request(service, "GET", "/staff", token=other_admin)
    assert [m["username"] for m in listed["staff"]] == ["other-admin", "other-desk"]
    assert request(service, "GET", "/staff/frontdesk/audit", token=other_admin)[0] == 404
    assert request(service, "GET", "/clinics/demo", token=other_admin)[0] == 404


def test_booking_over_http_with_the_real_handler(service: LocalService) -> None:
    token = sign_in(service, "frontdesk")
    patient = patient_details(phone=None, email="robin@example.org")
    status, created = request(service, "POST", "/patients", patient, token, {"Idempotency-Key": "local-patient-1"})
    assert status == 201
    day = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=3)).date().isoformat()
    status, slots = request(service, "GET", f"/clinics/demo/availability?date={day}&sessionType=spravato", token=token)
    assert status == 200 and slots["slots"]
    first = slots["slots"][0]
    booking = {
        "clinicId": "demo",
        "patientId": created["patientId"],
        "sessionType": "spravato",
        "chairId": first["chairIds"][0],
        "providerId": first["providerIds"][0],
        "start": first["start"],
    }
    status, appointment = request(service, "POST", "/appointments", booking, token, {"Idempotency-Key": "local-booking-1"})
    assert status == 201, appointment
    assert appointment["status"] == "booked"

    # The booking's care workflow really runs: it is waiting for its first reminder.
    sfn = boto3.client("stepfunctions")
    arn = os.environ["STATE_MACHINE_ARN"].replace(":stateMachine:", ":execution:") + f":{appointment['appointmentId']}-1"
    def entered() -> list[str]:
        events = sfn.get_execution_history(executionArn=arn)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

    eventually(lambda: entered()[:2] == ["Reminders", "WaitForReminder"], what="the execution's first states")
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"


def test_tokens_are_checked_like_api_gateway(service: LocalService) -> None:
    assert request(service, "GET", "/clinics/demo")[0] == 401
    assert request(service, "GET", "/clinics/demo", token="not-a-jwt")[0] == 401
    token = sign_in(service, "clinician")
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    assert request(service, "GET", "/clinics/demo", token=forged)[0] == 401
    status, body = request(service, "PUT", "/clinics/demo/chairs/chair-9", {"name": "Chair 9"}, token=token)
    assert status == 403 and "admin" in body["message"]
    assert request(service, "POST", "/local/sign-in", {"username": "clinician", "password": "wrong"})[0] == 401


def fetch(service: LocalService, path: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(service.url + path) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_the_web_client_and_the_api_explorer_are_served_and_nothing_outside_web(service: LocalService) -> None:
    status, kind, page = fetch(service, "/")
    assert (status, kind) == (200, "text/html") and "Day board" in page
    assert fetch(service, "/patient/survey")[0] == 200 and fetch(service, "/outbox")[0] == 200
    assert fetch(service, "/patient/escalations/a1-1")[2] == page  # a clinician's page link opens the day board
    assert fetch(service, "/web/app.js")[1] == "text/javascript"
    assert fetch(service, "/vendor/chart.js")[0] == 200 and fetch(service, "/docs")[0] == 200
    for outside in ("/web/../local/server.py", "/web/%2e%2e/pyproject.toml"):
        status, _, body = fetch(service, outside)
        assert status in (401, 404) and "import" not in body  # left to the API, which wants a token
    status, _, document = fetch(service, "/openapi.json")
    paths = json.loads(document)["paths"]
    assert status == 200 and {"/public/surveys/answers", "/escalations/{escalation_id}/acknowledge"} <= set(paths)


def test_the_clock_only_moves_forward_and_the_outbox_lists_what_was_sent(service: LocalService) -> None:
    before = datetime.fromisoformat(request(service, "GET", "/local/clock")[1]["now"])
    assert request(service, "POST", "/local/clock", {"advanceMinutes": -5})[0] == 422
    status, moved = request(service, "POST", "/local/clock", {"advanceMinutes": 30})
    assert status == 200 and datetime.fromisoformat(moved["now"]) - before >= timedelta(minutes=30)
    status, outbox = request(service, "GET", "/local/outbox")
    assert status == 200 and set(outbox) == {"sms", "topics", "emails"}


def cognito(service: LocalService, operation: str, body: dict) -> tuple[int, dict]:
    """A call of the web client's Cognito library to the local endpoint it is configured with."""
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}"}
    req = urllib.request.Request(f"{service.url}/local/cognito", data=json.dumps(body).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_web_client_is_configured_with_a_user_pool_client_that_allows_srp(service: LocalService) -> None:
    status, config = request(service, "GET", "/config.json")
    assert status == 200
    assert set(config) == {"apiUrl", "region", "userPoolId", "userPoolClientId", "cognitoEndpoint"}
    assert config["apiUrl"] == service.url and config["cognitoEndpoint"] == f"{service.url}/local/cognito"
    client = boto3.client("cognito-idp", region_name=config["region"]).describe_user_pool_client(
        UserPoolId=config["userPoolId"], ClientId=config["userPoolClientId"]
    )["UserPoolClient"]
    assert {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(client["ExplicitAuthFlows"])
    assert "ClientSecret" not in client  # a browser cannot keep one


def test_the_browser_reaches_only_the_calls_of_signing_in(service: LocalService) -> None:
    assert service.directory is not None
    pool, client = service.directory.user_pool_id, service.directory.client_id
    status, refused = cognito(service, "AdminCreateUser", {"UserPoolId": pool, "Username": "intruder"})
    assert (status, refused["__type"]) == (400, "AccessDeniedException")
    users = boto3.client("cognito-idp").list_users(UserPoolId=pool)["Users"]
    assert "intruder" not in {user["Username"] for user in users}
    # The app client allows SRP only: a flow that would send the password itself is refused.
    plain = {"USERNAME": "frontdesk", "PASSWORD": DEMO_PASSWORD}
    status, refused = cognito(service, "InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client, "AuthParameters": plain})
    assert (status, refused["__type"]) == (400, "InvalidParameterException")


def test_a_wrong_srp_proof_is_refused_and_its_challenge_is_used_up(service: LocalService) -> None:
    assert service.directory is not None
    client = service.directory.client_id
    srp_a = format(pow(2, 2**255 + 12345, N), "x")
    status, started = cognito(
        service, "InitiateAuth", {"AuthFlow": "USER_SRP_AUTH", "ClientId": client, "AuthParameters": {"USERNAME": "clinician", "SRP_A": srp_a}}
    )
    assert status == 200 and started["ChallengeName"] == "PASSWORD_VERIFIER"
    parameters = started["ChallengeParameters"]
    assert parameters["USER_ID_FOR_SRP"] == "clinician"  # Cognito's: the username, not the sub
    assert 0 < int(parameters["SRP_B"], 16) < N
    proof = {
        "USERNAME": "clinician",
        "PASSWORD_CLAIM_SECRET_BLOCK": parameters["SECRET_BLOCK"],
        "TIMESTAMP": "Sat Dec 5 23:30:00 UTC 2026",
        "PASSWORD_CLAIM_SIGNATURE": base64.b64encode(b"not the proof of the password.").decode(),
    }
    answer = {"ChallengeName": "PASSWORD_VERIFIER", "ClientId": client, "Session": started["Session"], "ChallengeResponses": proof}
    assert cognito(service, "RespondToAuthChallenge", answer) == (
        400,
        {"__type": "NotAuthorizedException", "message": "Incorrect username or password."},
    )
    status, again = cognito(service, "RespondToAuthChallenge", answer)
    assert (status, again["__type"]) == (400, "NotAuthorizedException") and "session" in again["message"]


def test_a_challenge_is_answered_only_for_the_user_it_was_issued_to(service: LocalService) -> None:
    assert service.directory is not None
    pool, client = service.directory.user_pool_id, service.directory.client_id
    admin = boto3.client("cognito-idp")
    admin.admin_create_user(UserPoolId=pool, Username="sam.new", TemporaryPassword="Temporary-pass-1!", MessageAction="SUPPRESS")
    started = admin.admin_initiate_auth(
        UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "sam.new", "PASSWORD": "Temporary-pass-1!"},
    )
    assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"

    def answer(username: str) -> tuple[int, dict]:
        responses = {"USERNAME": username, "NEW_PASSWORD": "Chosen-Password-2?"}
        body = {"ChallengeName": "NEW_PASSWORD_REQUIRED", "ClientId": client, "Session": started["Session"], "ChallengeResponses": responses}
        return cognito(service, "RespondToAuthChallenge", body)

    status, refused = answer("admin")  # sam's session may not set the admin's password
    assert (status, refused["__type"]) == (400, "NotAuthorizedException")
    assert request(service, "POST", "/local/sign-in", {"username": "admin", "password": DEMO_PASSWORD})[0] == 200
    status, accepted = answer("sam.new")
    assert status == 200 and accepted["ChallengeName"] == "MFA_SETUP"  # the pool requires TOTP


def test_the_local_gateway_answers_401_and_413_in_the_documented_shape_with_cors(service: LocalService) -> None:
    """As the deployed gateway responses do (infra/gateway_errors.py): the error body every
    route uses, and a CORS header so the browser can read it."""

    def raw(method: str, path: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, dict[str, str], dict]:
        req = urllib.request.Request(service.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read())

    for token in (None, "Bearer not-a-token"):
        status, headers, body = raw("GET", "/clinics/demo", None, {"Authorization": token} if token else {})
        assert (status, body) == (401, {"code": "unauthorized", "message": "sign in first: this route needs a valid staff identity token", "fields": []})
        assert headers["Access-Control-Allow-Origin"] == "*"
    # Announced over the limit: refused before a byte of it is read (none is sent, so the
    # reply cannot race the upload).
    connection = http.client.HTTPConnection(service.url.removeprefix("http://"), timeout=10)
    connection.putrequest("POST", "/patients")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(1024 * 1024 + 1))
    connection.endheaders()
    reply = connection.getresponse()
    body = json.loads(reply.read())
    assert (reply.status, body["code"], body["fields"]) == (413, "request_too_large", [])
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    connection.close()
