"""A practice admin manages staff on the day board's Staff page: invites a front desk member,
who signs in for the first time with the temporary password Cognito emailed; changes their
role, after which their page asks them to sign in again and the next token carries the new
role; disables them, after which they are refused. axe checks the page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from local.identity import temporary_password
from local.server import LocalService
from tests.browser.accessibility import violations
from tests.browser.staff import AUTHENTICATOR, current_code, enter_code, sign_in

MEMBER = "casey.new"
PASSWORD = "Chosen-Password-3?"


def first_sign_in(page: Page, service: LocalService, temporary: str) -> None:
    page.goto(f"{service.url}/")
    page.fill("#username", MEMBER)
    page.fill("#password", temporary)
    page.click("#sign-in button[type=submit]")
    new_password = page.locator("#new-password")
    new_password.locator('[name="password"]').fill(PASSWORD)
    new_password.locator('[name="repeat"]').fill(PASSWORD)
    new_password.locator("button[type=submit]").click()
    setup = page.locator("#mfa-setup")
    expect(setup).to_be_visible()
    AUTHENTICATOR[(service.url, MEMBER)] = setup.locator("#mfa-secret").inner_text()
    enter_code(setup, current_code(AUTHENTICATOR[(service.url, MEMBER)]))


def test_an_admin_invites_changes_and_disables_a_member_who_feels_each_change(service: LocalService, browser) -> None:
    assert service.directory is not None
    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(admin, service, "admin")
    card = admin.locator("#staff-card")
    expect(card).to_be_visible()
    assert violations(admin) == []
    own = admin.locator('#staff-list tr[data-username="admin"]')  # the demo practice's staff list
    expect(own).to_contain_text("admin (you)")
    expect(own.get_by_role("button", name="Disable admin")).to_have_count(0)
    expect(admin.locator('#staff-list tr[data-username="frontdesk"]').get_by_role("button", name="Disable frontdesk")).to_be_visible()

    # Invited by keyboard: each field in turn, Enter submits.
    admin.locator("#invite-username").focus()
    for value in (MEMBER, "casey@demo.example", "Casey", "New"):
        admin.keyboard.type(value)
        admin.keyboard.press("Tab")
    admin.keyboard.press("Tab")  # the role stays front desk; the clinics field holds the board's clinic
    admin.keyboard.press("Enter")
    expect(admin.locator("#staff-notice")).to_contain_text(f"Invited {MEMBER}")
    row = admin.locator(f'#staff-list tr[data-username="{MEMBER}"]')
    expect(row).to_contain_text("Front desk")

    member = browser.new_page(viewport={"width": 1280, "height": 800})
    first_sign_in(member, service, temporary_password(service.directory.user_pool_id, MEMBER))
    expect(member.locator("#who")).to_contain_text(f"{MEMBER} (front-desk)")
    expect(member.locator("#booking-card")).to_be_visible()

    # Another role: the member's page is signed out; their next token is a clinician's.
    row.get_by_role("button", name=f"Change access of {MEMBER}").click()
    admin.select_option("#access-role", "clinician")
    admin.click("#staff-access button[type=submit]")
    expect(admin.locator("#staff-notice")).to_contain_text(f"{MEMBER} is now Clinician")
    expect(member.locator("#sign-in")).to_be_visible()
    sign_in(member, service, MEMBER, PASSWORD)
    expect(member.locator("#who")).to_contain_text(f"{MEMBER} (clinician)")
    expect(member.locator("#booking-card")).to_be_hidden()
    assert violations(admin) == []

    # Disabled: signed out again, and refused at sign-in.
    row.get_by_role("button", name=f"Disable {MEMBER}").click()
    expect(row).to_contain_text("Disabled")
    expect(member.locator("#sign-in")).to_be_visible()
    member.fill("#username", MEMBER)
    member.fill("#password", PASSWORD)
    member.click("#sign-in button[type=submit]")
    expect(member.locator("#sign-in .form-error")).to_have_text("Your account is disabled: ask your practice's admin.")
    expect(member.locator("#app")).to_be_hidden()
