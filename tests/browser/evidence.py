"""Evidence for issue 17, made on demand (not part of `make test`: about a minute each):

- `make screenshots`: a busy day at 1280 and 1024 px, the week view, the alerts list and the
  survey page on a 390 px phone, saved under docs/screenshots/;
- `make axe-counts`: axe-core's serious and critical violations on the board, the booking
  form, the alerts and the survey page, printed as docs/accessibility.md's table rows. It
  drives only what every version of the web client has, so it can run on an older commit
  (docs/accessibility.md says how).

Run by name (`pytest tests/browser/evidence.py`): the file is not a test_*.py module."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from local.server import LocalService
from tests.browser.accessibility import AXE
from tests.browser.staff import advance_clock, sign_in

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs/screenshots"
PATIENTS = [
    ("Ada", "Okonkwo"), ("Ben", "Alvarez"), ("Chloé", "Martin"), ("Dev", "Patel"), ("Eli", "Nakamura"), ("Fay", "O'Connor"),
    ("Gus", "Lindqvist"), ("Hana", "Kowalski"), ("Ike", "Mensah"), ("Jo", "Featherstonehaugh"), ("Kai", "Rossi"),
]
# Eleven sessions today, Spravato and IV in turn, each at the first free time; the first
# four checked in, the last cancelled. Distinct people (no confirmedNew, which older versions refuse): `born` is
# the decade of their births, different for each busy day in one run.
BUSY_DAY = """async ([patients, born]) => {
  const { call } = await import("/web/api.js");
  const now = new Date((await (await fetch("/local/clock")).json()).now);
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York" }).format(now);
  const booked = [];
  for (const [n, [given, family]] of patients.entries()) {
    const patient = await call("POST", "/patients", { givenName: given, familyName: family, birthDate: `${born + (n % 10)}-0${1 + (n % 9)}-1${n % 10}`,
      phone: `+155555${born * 10 + n}`, emergencyContact: { name: "Kin", phone: "+15555550199" }, remsEnrolled: true }, { idempotent: true });
    const sessionType = n % 2 ? "iv-ketamine" : "spravato";
    const slot = (await call("GET", `/clinics/demo/availability?date=${today}&sessionType=${sessionType}`)).slots[0];
    const appointment = await call("POST", "/appointments", { clinicId: "demo", patientId: patient.patientId, sessionType,
      chairId: slot.chairIds[0], providerId: slot.providerIds[0], start: slot.start }, { idempotent: true });
    if (n < 4) await call("POST", `/appointments/${appointment.appointmentId}/check-in`);
    booked.push(appointment.appointmentId);
  }
  await call("POST", `/appointments/${booked.at(-1)}/cancel`, { reason: "patient unwell" });
  return { today, booked };
}"""
# The clinician doses the first two (Spravato, then IV); the IV session's post-dose pressure
# is high, which flags it.
DOSES = """async (booked) => {
  const { call } = await import("/web/api.js");
  const startedAt = (await (await fetch("/local/clock")).json()).now;
  const spravato = { preDoseBloodPressure: { systolic: 128, diastolic: 82 }, startedAt, doseMg: 56, deviceCount: 2, lotNumber: "LOT-7" };
  await call("POST", `/appointments/${booked[0]}/dose`, spravato);
  await call("POST", `/appointments/${booked[0]}/vitals`, { bloodPressure: { systolic: 132, diastolic: 84 } }, { idempotent: true });
  await call("POST", `/appointments/${booked[1]}/dose`, { preDoseBloodPressure: { systolic: 126, diastolic: 80 }, startedAt, doseMg: 35 });
  await call("POST", `/appointments/${booked[1]}/vitals`, { bloodPressure: { systolic: 152, diastolic: 96 } }, { idempotent: true });
}"""
DISCHARGE = """async (id) => {
  const { call } = await import("/web/api.js");
  const checklist = { vitalsAcceptable: true, sedationResolved: true, dissociationResolved: true, breathingNormal: true, ridePresent: true };
  await call("POST", `/appointments/${id}/discharge`, { checklist });
}"""
# axe's serious and critical violations inside one element (the whole document when none).
AXE_IN = """async (selector) => {
  const within = selector ? document.querySelector(selector).closest("section") : document;
  const found = (await axe.run(within, { resultTypes: ["violations"] })).violations.filter((v) => ["serious", "critical"].includes(v.impact));
  return found.map((v) => ({ id: v.id, impact: v.impact, count: v.nodes.length, first: v.nodes[0].target.join(" "), why: v.nodes[0].failureSummary }));
}"""


def busy_day(service: LocalService, browser, born: int) -> tuple[Page, Page, dict]:
    """The front desk's page (1280 px) on a busy day, and a clinician's who dosed two sessions."""
    desk = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(desk, service, "frontdesk")
    day = desk.evaluate(BUSY_DAY, [PATIENTS, born])
    clinician = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(clinician, service, "clinician")
    clinician.evaluate(DOSES, day["booked"])
    advance_clock(service, 50)  # the IV infusion has ended; the Spravato session observes
    for page in (desk, clinician):
        page.reload()
        expect(page.locator(".block", has_text="Jo Featherstonehaugh")).to_be_visible()
    return desk, clinician, day


def survey_page(service: LocalService, browser, clinician: Page, day: dict) -> Page:
    """The Spravato session discharged, a day on: its survey link opened on a 390 px phone."""
    outbox = browser.new_page()
    outbox.goto(f"{service.url}/outbox")
    links = outbox.locator("#sms a[href*='/patient/survey#']")
    earlier = {link.get_attribute("href") for link in links.all()}  # an earlier busy day's, answered
    advance_clock(service, 80)
    clinician.evaluate(DISCHARGE, day["booked"][0])
    advance_clock(service, 24 * 60)
    for _ in range(60):  # the day's Wait states run one after another in this process
        outbox.reload()
        new = [href for href in (link.get_attribute("href") for link in links.all()) if href not in earlier]
        if new:
            break
        outbox.wait_for_timeout(1000)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(new[0])
    expect(phone.locator("#question")).to_be_visible()
    outbox.close()
    return phone


def axe_in(page: Page, selector: str | None) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return page.evaluate(AXE_IN, selector)


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def test_screenshots(service: LocalService, browser, screenshots: Path) -> None:
    desk, clinician, day = busy_day(service, browser, 1970)
    desk.screenshot(path=str(screenshots / "busy-day-1280.png"), full_page=True)
    desk.set_viewport_size({"width": 1024, "height": 900})
    desk.screenshot(path=str(screenshots / "busy-day-1024.png"), full_page=True)
    desk.set_viewport_size({"width": 1280, "height": 900})
    desk.click("#show-week")
    expect(desk.locator("#week-table tbody tr").first).to_be_visible()
    desk.locator("#week").screenshot(path=str(screenshots / "week-view.png"))

    phone = survey_page(service, browser, clinician, day)
    phone.screenshot(path=str(screenshots / "survey-390.png"))
    # PHQ-9 with item 9 positive, then the C-SSRS screener at high risk: an escalation on the alerts.
    for answer in [1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 0, 1, 0, 0]:
        expect(phone.locator("#question")).to_be_visible()
        phone.locator(f".options button[data-value='{answer}']").click()
    expect(phone.locator("#crisis")).to_contain_text("911")
    phone.screenshot(path=str(screenshots / "survey-crisis-390.png"), full_page=True)

    clinician.reload()
    alerts = clinician.locator(".alerts")
    expect(alerts.locator('[data-alert="escalation"]')).to_be_visible(timeout=20000)
    expect(alerts.locator('[data-alert="attention"]').first).to_be_visible()
    alerts.screenshot(path=str(screenshots / "alerts.png"))


def test_axe_counts(service: LocalService, browser, capsys: pytest.CaptureFixture[str]) -> None:
    desk, clinician, day = busy_day(service, browser, 1960)
    desk.select_option("#session-type", "iv-ketamine")
    desk.click("#find-slots")
    expect(desk.locator("#slots button").first).to_be_visible()
    expect(clinician.locator(".alerts [data-alert='attention']").first).to_be_visible()
    found = {
        "board": axe_in(desk, "#board"),
        "booking form": axe_in(desk, "#booking"),
        "alerts (clinician)": axe_in(clinician, "#alerts"),
        "whole staff page (front desk)": axe_in(desk, None),
        "survey (390 px)": axe_in(survey_page(service, browser, clinician, day), None),
    }
    with capsys.disabled():
        print()
        for page, violations in found.items():
            rules = ", ".join(f"{v['id']} ({v['impact']}, {v['count']} elements)" for v in violations) or "none"
            print(f"| {page} | {len(violations)} | {sum(v['count'] for v in violations)} | {rules} |")
        print(json.dumps(found))
