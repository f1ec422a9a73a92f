"""What staff do in the web client that several browser tests need."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import time
import urllib.request

from playwright.sync_api import Locator, Page, expect

from local.identity import DEMO_PASSWORD
from local.server import LocalService

TOTP_STEP = 30  # seconds, as Cognito's TOTP
# The TOTP keys that staff set up in this run, by service and username: an authenticator app.
AUTHENTICATOR: dict[tuple[str, str], str] = {}


def sign_in(page: Page, service: LocalService, username: str, password: str = DEMO_PASSWORD) -> None:
    """Signs in through the page's real Cognito flow (SRP, then MFA set-up the first time
    this user signs in, the code afterwards), in a tab that forgot any earlier session."""
    page.goto(f"{service.url}/")
    page.evaluate("sessionStorage.clear()")
    page.reload()
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#sign-in button[type=submit]")
    step = page.locator("#mfa-setup:not(.hidden), #mfa-code:not(.hidden)")
    expect(step).to_be_visible()
    if step.get_attribute("id") == "mfa-setup":
        AUTHENTICATOR[(service.url, username)] = page.locator("#mfa-secret").inner_text()
    enter_code(step, current_code(AUTHENTICATOR[(service.url, username)]))
    expect(page.locator("#who")).to_contain_text(username)


def totp(secret: str, at: float) -> str:
    """RFC 6238's code (HMAC-SHA-1, 30 s steps, 6 digits) for a base32 key, as authenticator apps compute it."""
    key = secret.replace(" ", "").upper()
    digest = hmac.new(base64.b32decode(key + "=" * (-len(key) % 8)), struct.pack(">Q", int(at // TOTP_STEP)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(int.from_bytes(digest[offset:offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


def current_code(secret: str) -> str:
    """The code an app shows now, waited for when the current one has under 5 s left: the
    local Cognito (moto) accepts only the current step's code, not the neighbours' as AWS does."""
    left = TOTP_STEP - time.time() % TOTP_STEP
    if left < 5:
        time.sleep(left)
    return totp(secret, time.time())


def enter_code(form: Locator, code: str) -> None:
    form.locator('[name="code"]').fill(code)
    form.locator("button[type=submit]").click()


def advance_clock(service: LocalService, minutes: int) -> None:
    body = json.dumps({"advanceMinutes": minutes}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{service.url}/local/clock", data=body, method="POST")).read()


def register_patient(page: Page, given: str, family: str, birth_date: str, phone: str, emergency_phone: str) -> None:
    """Registers a patient on the booking card; they become the chosen patient."""
    page.click("#register summary")
    page.fill('[name="givenName"]', given)
    page.fill('[name="familyName"]', family)
    page.fill('[name="birthDate"]', birth_date)
    page.fill('[name="phone"]', phone)
    page.fill('[name="emergencyName"]', f"Kin {family}")
    page.fill('[name="emergencyPhone"]', emergency_phone)
    page.click("#register-button")
    expect(page.locator("#patient option:checked")).to_have_text(f"{given} {family}")


def record_dose(page: Page, dose_mg: str, devices: str | None = None, lot: str | None = None) -> None:
    """Records the dose of the selected appointment (pre-dose pressure 128/82, started now)."""
    form = page.locator('[data-form="dose"]')
    form.locator('[name="preDoseBloodPressure.systolic"]').fill("128")
    form.locator('[name="preDoseBloodPressure.diastolic"]').fill("82")
    form.locator('[name="doseMg"]').fill(dose_mg)
    if devices is not None:
        form.locator('[name="deviceCount"]').fill(devices)
        form.locator('[name="lotNumber"]').fill(lot or "")
    form.locator("button[type=submit]").click()


def record_pressure(page: Page, systolic: str, diastolic: str) -> None:
    vitals = page.locator('[data-form="vitals"]')
    vitals.locator('[name="bloodPressure.systolic"]').fill(systolic)
    vitals.locator('[name="bloodPressure.diastolic"]').fill(diastolic)
    vitals.locator("button[type=submit]").click()


def book_first_free_time(page: Page, session_type: str) -> None:
    """Books the chosen patient at the day's first free time for `session_type`."""
    page.select_option("#session-type", session_type)
    page.click("#find-slots")
    page.locator("#slots button").first.click()
    expect(page.locator("#booking-notice")).to_contain_text("Booked")
