"""A new member of staff signs in for the first time through the web client's own Cognito
code (SRP, as deployed; locally against moto behind the local server): an administrator
created them with a temporary password; they choose a password, set up TOTP and reach the
day board. The session is refreshed before its tokens expire, and signing out revokes it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest
from playwright.sync_api import Page, expect

from local.server import LocalService
from tests.browser.staff import current_code, enter_code, totp
from tests.support.timing import eventually

USERNAME = "robin.desk"
TEMPORARY_PASSWORD = "Temporary-pass-1!"
NEW_PASSWORD = "Chosen-Password-2?"
WRONG_CODE = "That code is not right. Enter the 6-digit code your authenticator app shows now."


def stored(page: Page, suffix: str) -> str | None:
    """A token the Cognito library keeps in this tab's sessionStorage."""
    return page.evaluate("(suffix) => Object.entries(sessionStorage).find(([key]) => key.endsWith(suffix))?.[1] ?? null", suffix)


def submit_password(page: Page, password: str) -> None:
    page.fill("#username", USERNAME)
    page.fill("#password", password)
    page.click("#sign-in button[type=submit]")


def a_wrong_code(secret: str) -> str:
    right = totp(secret, time.time())
    return f"{(int(right) + 500_000) % 1_000_000:06d}"


def test_an_invited_front_desk_sets_a_password_and_mfa_reaches_the_board_and_signs_out(
    service: LocalService, browser, artifacts: Path
) -> None:
    assert service.directory is not None
    cognito = boto3.client("cognito-idp")  # the local stack's (moto's) Cognito, as an administrator
    pool = service.directory.user_pool_id
    practice = [{"Name": "custom:organization", "Value": "demo-practice"}, {"Name": "custom:clinics", "Value": "*"}]
    cognito.admin_create_user(
        UserPoolId=pool, Username=USERNAME, TemporaryPassword=TEMPORARY_PASSWORD, UserAttributes=practice, MessageAction="SUPPRESS"
    )
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=USERNAME, GroupName="front-desk")

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sent: list[str] = []  # every request body the page sends
    page.on("request", lambda request: sent.append(request.post_data or ""))
    page.clock.install()  # the browser's clock, moved forward below to near the tokens' expiry
    page.goto(f"{service.url}/")

    # A wrong password is refused: the local Cognito checks the SRP proof.
    submit_password(page, "Not-the-password-1!")
    expect(page.locator("#sign-in .form-error")).to_have_text("Wrong username or password.")

    # The temporary password leads to choosing a new one; the pool's policy applies.
    submit_password(page, TEMPORARY_PASSWORD)
    new_password = page.locator("#new-password")
    expect(new_password).to_be_visible()
    page.screenshot(path=str(artifacts / "sign-in-first-time.png"))
    new_password.locator('[name="password"]').fill("short")
    new_password.locator('[name="repeat"]').fill("short")
    new_password.locator("button[type=submit]").click()
    expect(new_password.locator(".form-error")).to_contain_text("password policy")
    new_password.locator('[name="password"]').fill(NEW_PASSWORD)
    new_password.locator('[name="repeat"]').fill(NEW_PASSWORD)
    new_password.locator("button[type=submit]").click()

    # TOTP set-up: the key and its QR code; a wrong code is refused, the right one signs in.
    setup = page.locator("#mfa-setup")
    expect(setup).to_be_visible()
    expect(setup.locator("#mfa-qr svg")).to_be_visible()
    secret = setup.locator("#mfa-secret").inner_text()
    page.screenshot(path=str(artifacts / "sign-in-mfa-setup.png"))
    enter_code(setup, a_wrong_code(secret))
    expect(setup.locator(".form-error")).to_have_text(WRONG_CODE)
    enter_code(setup, current_code(secret))
    expect(page.locator("#who")).to_contain_text(f"{USERNAME} (front-desk)")
    expect(page.locator("#board .lane")).to_have_count(4)
    page.screenshot(path=str(artifacts / "sign-in-day-board.png"))

    # 56 minutes on, 4 before the ID token expires, the next call refreshes the tokens first.
    first_token = stored(page, ".idToken")
    page.clock.fast_forward("56:00")
    eventually(lambda: stored(page, ".idToken") not in (None, first_token), what="a refreshed ID token")
    expect(page.locator("#board .lane")).to_have_count(4)
    expect(page.locator("#sign-in-view")).to_be_hidden()

    # Signing out revokes the refresh token; reloading the page does not bring the session back.
    refresh_token = stored(page, ".refreshToken")
    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    page.reload()
    expect(page.locator("#sign-in")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    assert stored(page, ".refreshToken") is None
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(
            ClientId=service.directory.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
        )

    # Signing in again asks for the app's code; a wrong one is refused with a clear message.
    submit_password(page, NEW_PASSWORD)
    challenge = page.locator("#mfa-code")
    expect(challenge).to_be_visible()
    enter_code(challenge, a_wrong_code(secret))
    expect(challenge.locator(".form-error")).to_have_text(WRONG_CODE)
    expect(page.locator("#app")).to_be_hidden()
    enter_code(challenge, current_code(secret))
    expect(page.locator("#who")).to_contain_text(USERNAME)

    # Signing in sent only SRP proofs: no password left the page, except the new one that
    # Cognito's NEW_PASSWORD_REQUIRED answer carries once (Cognito derives its verifier from it).
    assert not [body for body in sent if TEMPORARY_PASSWORD in body or "Not-the-password-1!" in body]
    carrying_new = [json.loads(body) for body in sent if NEW_PASSWORD in body]
    assert [body["ChallengeName"] for body in carrying_new] == ["NEW_PASSWORD_REQUIRED"]
