"""The board for keyboard and screen-reader users: axe-core finds no serious or critical
violation on the board, the booking form and the alerts; an appointment is reached and
opened with the keyboard alone, and booked with it too."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from local.server import LocalService
from tests.browser.accessibility import violations
from tests.browser.staff import register_patient, sign_in


def test_the_board_booking_form_and_alerts_pass_axe_and_work_by_keyboard(service: LocalService, browser, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1024, "height": 900})
    sign_in(page, service, "frontdesk")
    register_patient(page, "Kim", "Keyboard", "1985-06-07", "+15555550491", "+15555550492")
    page.select_option("#session-type", "iv-ketamine")

    # Booking with the keyboard: the free times, then the first of them, by Enter.
    page.focus("#find-slots")
    page.keyboard.press("Enter")
    first_time = page.locator("#slots button").first
    expect(first_time).to_be_visible()
    first_time.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#booking-notice")).to_contain_text("Booked")

    # Another appointment is opened from the board by Tab and Enter alone.
    page.locator(".block", has_text="Kim Keyboard").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(page.locator(".block", has_text="Kim Keyboard")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#detail")).to_contain_text("Kim Keyboard")
    expect(page.locator("#board")).not_to_have_attribute("aria-live", "polite")  # redrawn every 3 s: not read out again

    assert violations(page) == []
    page.screenshot(path=str(artifacts / "board-1024.png"), full_page=True)
