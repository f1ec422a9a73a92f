"""One session through the web client, as the people who use it: the front desk books and
checks in, a clinician doses, is refused an early discharge, discharges after the clock
moves, the patient answers the survey from the outbox's link with item 9 positive and sees
crisis resources, and the clinician acknowledges the escalation on the alerts panel."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from local.server import LocalService
from tests.browser.accessibility import violations
from tests.browser.staff import (
    advance_clock,
    book_first_free_time,
    record_dose,
    record_pressure,
    register_patient,
    sign_in,
)


def test_a_spravato_session_from_booking_to_an_acknowledged_escalation(service: LocalService, browser, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    # The front desk registers a patient and books a Spravato session at the first free time.
    sign_in(page, service, "frontdesk")
    register_patient(page, "Robin", "Browser", "1988-05-06", "+15555550444", "+15555550445")
    book_first_free_time(page, "spravato")
    block = page.locator(".block.selected")
    expect(block).to_contain_text("Robin Browser")
    session_day = page.locator("#day").input_value()

    # Bad input is shown next to its field: a cancellation reason too short.
    page.fill('[data-form="cancel"] [name="reason"]', "x")
    page.click('[data-form="cancel"] button[type=submit]')
    expect(page.locator('[data-form="cancel"] .field-error[data-for="reason"]')).not_to_be_empty()

    page.click("#detail button:has-text('Check in')")
    expect(block).to_have_class(re.compile("arrived"))

    # A clinician records the dose and a blood pressure, and is refused an early discharge.
    sign_in(page, service, "clinician")
    page.locator(".block", has_text="Robin Browser").click()
    record_dose(page, "56", devices="2", lot="LOT-7")
    record_pressure(page, "132", "84")
    expect(page.locator('[data-form="vitals"] .notice')).to_have_text("Vitals recorded.")
    discharge = page.locator('[data-form="discharge"]')
    for box in discharge.locator("input[type=checkbox]").all():
        box.check()
    discharge.locator("button[type=submit]").click()
    expect(discharge.locator(".form-error")).to_contain_text("discharge is allowed from")
    page.screenshot(path=str(artifacts / "day-board.png"), full_page=True)

    # Two hours later the discharge goes through.
    advance_clock(service, 125)
    page.locator(".block", has_text="Robin Browser").click()
    discharge = page.locator('[data-form="discharge"]')
    for box in discharge.locator("input[type=checkbox]").all():
        box.check()
    discharge.locator("button[type=submit]").click()
    expect(page.locator(".block", has_text="Robin Browser")).to_have_class(re.compile("discharged"))

    # The demo clinic's patients booked for tomorrow got their day-before reminder: its link
    # says which appointment it asks about (clinic and time, nothing else) before they answer.
    reminders = browser.new_page()
    reminders.goto(f"{service.url}/outbox")
    reminder = reminders.locator("#sms a[href*='/patient/confirm#']").first
    expect(reminder).to_be_visible(timeout=15000)
    confirm = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    confirm.goto(reminder.get_attribute("href"))
    expect(confirm.locator("#which")).to_contain_text("at Demo Ketamine Clinic, Wednesday, December 2")
    confirm.screenshot(path=str(artifacts / "confirmation-page.png"))
    assert violations(confirm) == []
    reminders.close()

    # A day later the survey link is in the outbox; the patient answers on a phone.
    advance_clock(service, 24 * 60)
    outbox = browser.new_page()
    outbox.goto(f"{service.url}/outbox")
    link = outbox.locator("#sms a[href*='/patient/survey#']").first
    expect(link).to_be_visible(timeout=15000)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(link.get_attribute("href"))
    for answer in [1, 1, 1, 1, 1, 1, 1, 1, 2]:  # PHQ-9, item 9 "more than half the days"
        expect(phone.locator("#question")).to_be_visible()
        phone.locator(f".options button[data-value='{answer}']").click()
    expect(phone.locator("#crisis")).to_contain_text("988")
    expect(phone.locator(".progress")).to_contain_text("C-SSRS")
    for answer in [1, 1, 0, 1, 0, 0]:  # thoughts, with intent: high risk
        expect(phone.locator("#question")).to_be_visible()
        phone.locator(f".options button[data-value='{answer}']").click()
    expect(phone.locator("#survey")).to_contain_text("reach out")
    expect(phone.locator("#crisis")).to_contain_text("911")
    expect(phone.locator("#crisis a[href='tel:988']")).to_have_text("988")  # one tap to call
    expect(phone.locator("#crisis a[href='tel:911']")).to_have_text("911")
    phone.screenshot(path=str(artifacts / "survey-crisis-resources.png"))
    assert violations(phone) == []

    # The on-call's pager links to the escalation: the clinician follows the link from the
    # outbox, lands on it marked on the alerts panel, and acknowledges it.
    outbox.reload()
    paged = outbox.locator("#sms a[href*='/patient/escalations/']").first
    expect(paged).to_be_visible(timeout=15000)
    page.bring_to_front()
    page.goto(paged.get_attribute("href"))
    alert = page.locator('[data-alert="escalation"].linked')
    expect(alert).to_contain_text("Robin Browser", timeout=15000)
    alert.locator("button:has-text('Acknowledge')").click()
    expect(page.locator('[data-alert="escalation"]')).to_have_count(0)

    # The Spravato REMS form is due in a week; the clinician marks it filed.
    rems = page.locator('[data-alert="rems"]', has_text="Robin Browser")
    rems.locator("button:has-text('Mark filed')").click()
    expect(page.locator('[data-alert="rems"]', has_text="Robin Browser")).to_have_count(0)

    # The patient's page charts the answers (the board back on the session's day: the pager's
    # link opened it on today's).
    page.fill("#day", session_day)
    page.dispatch_event("#day", "change")
    page.locator(".block", has_text="Robin Browser").click()
    page.click("#detail button:has-text('Patient page')")
    expect(page.locator("#score-chart")).to_be_visible()
    page.screenshot(path=str(artifacts / "patient-chart.png"), full_page=True)
