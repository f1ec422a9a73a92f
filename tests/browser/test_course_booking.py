"""The front desk plans and books a course, and puts a patient on the waitlist, from the day
board's page: plan, see each session's time, book all twelve at once."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from local.server import LocalService
from tests.browser.staff import register_patient, sign_in


def test_the_front_desk_plans_and_books_a_spravato_course_and_adds_a_patient_to_the_waitlist(
    service: LocalService, browser, artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    sign_in(page, service, "frontdesk")
    register_patient(page, "Cora", "Course", "1975-03-04", "+15555550477", "+15555550478")

    course = page.locator("#course")
    course.locator("#course-template").select_option("spravato-induction")
    course.locator('[name="startDate"]').fill("2026-12-07")  # a Monday; the demo clock starts Tuesday 1 December
    page.click("#plan-course")
    sessions = page.locator("#course-plan li")
    expect(sessions).to_have_count(12)
    expect(sessions.first).to_contain_text("Mon, Dec 7")
    expect(sessions.first).to_contain_text("09:00")
    expect(sessions.nth(1)).to_contain_text("Thu, Dec 10")
    page.screenshot(path=str(artifacts / "course-plan.png"), full_page=True)
    page.click("#book-course")
    # Twelve bookings, each starting its workflow in the local stack's one process: a few seconds.
    expect(page.locator("#course-notice")).to_contain_text("Booked 12 sessions", timeout=20000)

    # A second plan for the same patient now collides with the booked course: the API says why.
    page.click("#plan-course")
    # The plan asks for the whole course's free times while twelve new workflows start in the
    # local stack's one process; on CI's two loaded cores that reply has taken more than 5 s.
    expect(page.locator("#course-plan li.must-move").first).to_contain_text("less than 48 h", timeout=20000)

    page.click("#join-waitlist")
    expect(page.locator("#waitlist-notice")).to_contain_text("On the waitlist")

    # The patient cannot come on 10 December: the session is cancelled from the board, and the
    # course's make-up session is offered with it and booked with one click.
    page.fill("#day", "2026-12-10")
    page.dispatch_event("#day", "change")
    page.locator(".block", has_text="Cora Course").click()
    page.fill('[data-form="cancel"] [name="reason"]', "patient away that week")
    page.click('[data-form="cancel"] button[type=submit]')
    offer = page.locator("[data-make-up]")
    expect(offer).to_contain_text("Make-up session for the course")
    offer.locator("button:has-text('Book the make-up session')").click()
    expect(page.locator("#booking-notice")).to_contain_text("Make-up session booked for")
