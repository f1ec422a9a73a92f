"""The appointment panel acts on the appointment the board highlights, and the board opens on
the clinic's own today. Both failed once: the panel kept the previous appointment after a
booking (its Cancel then cancelled that one), and after 19:00 in New York the board opened
on tomorrow (the date was worked out in UTC before the clinic's zone was known)."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Route, expect

from local.server import LocalService
from tests.browser.staff import book_first_free_time, record_dose, record_pressure, register_patient, sign_in


def test_after_a_booking_the_panel_shows_and_cancels_the_new_appointment(service: LocalService, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, service, "frontdesk")

    def find_free_times(provider: str) -> None:
        page.select_option("#session-type", "iv-ketamine")
        page.select_option("#provider", label=provider)
        page.click("#find-slots")
        expect(page.locator("#slots")).to_contain_text("Free times on")

    register_patient(page, "Avery", "Earlier", "1979-03-04", "+15555550461", "+15555550462")
    find_free_times("Nurse Lee")
    page.locator("#slots button").first.click()
    expect(page.locator("#booking-notice")).to_contain_text("with Nurse Lee")  # the provider the desk chose
    expect(page.locator("#detail")).to_contain_text("Avery Earlier")
    register_patient(page, "Blake", "Newer", "1983-09-10", "+15555550463", "+15555550464")
    find_free_times("any free provider")
    page.locator("#slots button").first.dblclick()  # an impatient double click books once
    expect(page.locator("#booking-notice")).to_contain_text("Booked")
    expect(page.locator(".block", has_text="Blake Newer")).to_have_count(1)
    expect(page.locator("#booking .form-error")).to_be_empty()  # and says so once, with no error for the second click

    # Both appointments are new (version 1): the panel must still switch to the new one.
    expect(page.locator(".block.selected")).to_contain_text("Blake Newer")
    expect(page.locator("#detail")).to_contain_text("Blake Newer")
    expect(page.locator("#detail")).not_to_contain_text("Avery Earlier")

    # Rescheduling offers the day's free times; Avery moves to the first of them.
    page.locator(".block", has_text="Avery Earlier").click()
    reschedule = page.locator('[data-form="reschedule"]')
    reschedule.locator("button:has-text('Find free times')").click()
    new_time = reschedule.locator(".slots button").first
    expect(new_time).to_be_visible()
    new_time.click()
    expect(page.locator("#detail")).to_contain_text("Avery Earlier")

    page.locator(".block", has_text="Blake Newer").click()
    page.fill('[data-form="cancel"] [name="reason"]', "patient asked to cancel")
    page.click('[data-form="cancel"] button[type=submit]')
    expect(page.locator(".block", has_text="Blake Newer")).to_have_class(re.compile("cancelled"))
    expect(page.locator(".block", has_text="Avery Earlier")).to_have_class(re.compile(r"\bbooked\b"))


def test_a_flag_stays_on_the_alerts_whatever_day_the_board_shows(service: LocalService, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, service, "frontdesk")
    register_patient(page, "Casey", "Flagged", "1990-01-02", "+15555550471", "+15555550472")
    book_first_free_time(page, "iv-ketamine")
    today = page.locator("#day").input_value()
    page.click("#detail button:has-text('Check in')")

    # A clinician doses and records a pressure above the limit: the session is flagged.
    sign_in(page, service, "clinician")
    page.locator(".block", has_text="Casey Flagged").click()
    # Over the 140/90 guide the dose asks for the prescriber's decision, from the clinic's prescribers.
    dose = page.locator('[data-form="dose"]')
    dose.locator('[name="preDoseBloodPressure.systolic"]').fill("152")
    dose.locator('[name="preDoseBloodPressure.diastolic"]').fill("95")
    dose.locator('[name="doseMg"]').fill("35")
    dose.locator("button[type=submit]").click()
    override = dose.locator("[data-override]")
    expect(override).to_have_attribute("open", "")
    expect(override.locator("select option")).to_have_text(["— choose —", "Dr Lead", "Dr Okafor"])  # not the nurse
    record_dose(page, "35")
    record_pressure(page, "150", "94")
    expect(page.locator("table.vitals")).to_contain_text("150/94")  # the session's readings, charted
    flagged = page.locator('[data-alert="attention"]', has_text="Casey Flagged")
    expect(flagged).to_contain_text("+15555550471")  # the number to call
    expect(flagged).to_contain_text("above 140/90")

    # Another day on the board: the flag is still on the alerts, and Open goes back to it.
    page.fill("#day", "2027-01-04")
    page.dispatch_event("#day", "change")
    expect(page.locator(".block", has_text="Casey Flagged")).to_have_count(0)
    expect(flagged).to_be_visible()
    flagged.locator("button:has-text('Open')").click()
    expect(page.locator("#day")).to_have_value(today)
    expect(page.locator("#detail")).to_contain_text("Casey Flagged")
    flagged.locator("button:has-text('Resolved')").click()
    expect(page.locator('[data-alert="attention"]', has_text="Casey Flagged")).to_have_count(0)


def test_the_board_opens_on_the_clinics_today_in_its_evening(service: LocalService, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def evening_in_new_york(route: Route) -> None:  # 19:30 on 1 December in New York, the 2nd in UTC
        route.fulfill(status=200, content_type="application/json", body=json.dumps({"now": "2026-12-02T00:30:00Z"}))

    page.route("**/local/clock", evening_in_new_york)
    sign_in(page, service, "frontdesk")
    expect(page.locator("#day")).to_have_value("2026-12-01")
    page.click("#next-day")
    expect(page.locator("#day")).to_have_value("2026-12-02")
    page.click("#previous-day")
    page.click("#previous-day")
    expect(page.locator("#day")).to_have_value("2026-11-30")
