"""What staff do in the web client that several browser tests need."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import Page, expect

from local.identity import DEMO_PASSWORD
from local.server import LocalService


def sign_in(page: Page, service: LocalService, username: str) -> None:
    page.goto(f"{service.url}/")
    page.evaluate("sessionStorage.clear()")
    page.reload()
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#who")).to_contain_text(username)


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
