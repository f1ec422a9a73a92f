"""A freed time reaches a waitlisted patient's phone: the front desk puts a patient on the
waitlist and cancels another's session; the patient opens the offer from the outbox on a
phone and takes the time, which then shows on the day board."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from playwright.sync_api import expect

from local.server import LocalService
from tests.browser.staff import sign_in

WAITING_PHONE = "+15555550466"

SET_UP = """async (waitingPhone) => {
  const { call } = await import("/web/api.js");
  const key = { idempotent: true };
  const tomorrow = new Date(Date.parse((await (await fetch("/local/clock")).json()).now) + 86400000).toISOString().slice(0, 10);
  const patient = (given, phone) => call("POST", "/patients", {
    givenName: given, familyName: "Waiting", birthDate: "1990-01-02", phone,
    emergencyContact: { name: "Ash Waiting", phone: "+15555550467" }, remsEnrolled: true,
  }, key);
  const leaving = await patient("Lee", "+15555550468");
  const slot = (await call("GET", `/clinics/demo/availability?date=${tomorrow}&sessionType=spravato`)).slots[0];
  const freed = await call("POST", "/appointments", {
    clinicId: "demo", patientId: leaving.patientId, sessionType: "spravato", chairId: slot.chairIds[0],
    providerId: slot.providerIds[0], start: slot.start,
  }, key);
  const waiting = await call("POST", "/patients", {
    givenName: "Wren", familyName: "Waiting", birthDate: "1990-01-02", phone: waitingPhone,
    emergencyContact: { name: "Ash Waiting", phone: "+15555550467" }, remsEnrolled: true,
  }, key);
  await call("POST", "/clinics/demo/waitlist", {
    patientId: waiting.patientId, sessionType: "spravato",
    weekdays: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], earliest: "07:00", latest: "20:00",
  }, key);
  await call("POST", `/appointments/${freed.appointmentId}/cancel`, { reason: "patient has the flu" });
  return { tomorrow, start: freed.start, startLocal: slot.startLocal };
}"""


def test_a_waitlisted_patient_takes_a_freed_time_from_the_offer_link(service: LocalService, browser, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, service, "frontdesk")
    freed = page.evaluate(SET_UP, WAITING_PHONE)

    outbox = browser.new_page()
    outbox.goto(f"{service.url}/outbox")
    link = outbox.locator("#sms a[href*='/patient/offer#']").first
    expect(link).to_be_visible(timeout=15000)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(link.get_attribute("href"))
    expect(phone.locator("#offer")).to_contain_text("Spravato")
    clinic_time = datetime.fromisoformat(freed["startLocal"]).strftime("%I:%M %p")
    expect(phone.locator("#offer")).to_contain_text(clinic_time)  # the clinic's time, not the phone's (UTC here)
    phone.click("#accept")
    expect(phone.locator("#answer")).to_contain_text("The time is yours")
    phone.screenshot(path=str(artifacts / "waitlist-offer-taken.png"))

    phone.reload()  # the same link now says so, and offers nothing more
    expect(phone.locator("#answer")).to_contain_text("This time is yours")
    expect(phone.locator("#accept")).to_be_hidden()
    booked = page.evaluate(
        """async ({ tomorrow, start }) => {
          const { call } = await import("/web/api.js");
          const board = await call("GET", `/clinics/demo/board?date=${tomorrow}`);
          return board.appointments.filter((a) => a.start === start && a.status === "booked").length;
        }""",
        freed,
    )
    assert booked == 1
