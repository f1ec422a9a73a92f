"""The front desk's jobs from the board (issue 17): find a patient from the header, be shown
a possible duplicate when registering, book by clicking (or pressing Enter on) a free time
on a chair, see the week's sessions per chair and day; labels that never cut a word (a
cancelled block's too, in AA contrast); and a page that, at 768 px, scrolls sideways only
inside the board. One signed-in page for the
module; each test makes the patients and bookings it looks at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from local.server import LocalService
from tests.browser.accessibility import violations
from tests.browser.staff import register_patient, sign_in

REGISTER = """async ([given, family, birthDate, phone]) => {
  const { call } = await import("/web/api.js");
  return call("POST", "/patients", { givenName: given, familyName: family, birthDate, phone,
    emergencyContact: { name: "Kin", phone: "+15555550499" }, remsEnrolled: true }, { idempotent: true });
}"""
BOOK_FIRST_FREE = """async ([patientId, day, sessionType]) => {
  const { call } = await import("/web/api.js");
  const slot = (await call("GET", `/clinics/demo/availability?date=${day}&sessionType=${sessionType}`)).slots[0];
  return call("POST", "/appointments", { clinicId: "demo", patientId, sessionType, chairId: slot.chairIds[0],
    providerId: slot.providerIds[0], start: slot.start }, { idempotent: true });
}"""
CANCEL = """async (id) => {
  const { call } = await import("/web/api.js");
  await call("POST", `/appointments/${id}/cancel`, { reason: "patient unwell" });
}"""
COUNTS = """async (day) => {
  const { call } = await import("/web/api.js");
  const board = await call("GET", `/clinics/demo/board?date=${day}`);
  const counts = {};
  for (const a of board.appointments) if (a.status !== "cancelled") counts[a.chairId] = (counts[a.chairId] || 0) + 1;
  return counts;
}"""
# Every appointment block's text fits it, and each line shows whole words of its full text.
CUT_LABELS = """() => [...document.querySelectorAll("#board .block")].flatMap((block) => {
  const cut = [];
  if (block.scrollWidth > block.clientWidth || block.scrollHeight > block.clientHeight) cut.push(`${block.title}: overflows its block`);
  for (const line of block.querySelectorAll(".line")) {
    const visible = (line.querySelector('[aria-hidden="true"]') || line).textContent;  // the whole line is also there for screen readers
    const shown = visible.replace(/…$/, "").split(" ").filter(Boolean);
    const full = line.dataset.text.split(" ");
    if (line.scrollWidth > line.clientWidth) cut.push(`${line.dataset.text}: clipped`);
    if (shown.some((word, n) => word !== full[n])) cut.push(`${line.dataset.text}: shown as ${visible}`);
  }
  return cut;
})"""
# Elements wider than the window, other than inside the board's (or the week's) own scroll box.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const out = [...document.querySelectorAll("body *")].filter((node) => {
    if (node.closest("#board, .week-scroll")) return false;
    const box = node.getBoundingClientRect();
    return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5);
  }).map((node) => `${node.tagName.toLowerCase()}#${node.id}.${node.className}`);
  if (document.documentElement.scrollWidth > width) out.push(`the page scrolls sideways (${document.documentElement.scrollWidth} > ${width})`);
  return out;
}"""


@pytest.fixture(scope="module")
def desk(service: LocalService, browser) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, service, "frontdesk")
    yield page
    page.close()


def later_day(page: Page, days: int) -> str:
    """Shows a day `days` after the board's today (less busy than today), and returns it."""
    today = page.evaluate("""async () => { const r = await fetch("/local/clock"); const now = new Date((await r.json()).now);
      return new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York" }).format(now); }""")
    day = page.evaluate("([day, n]) => { const d = new Date(`${day}T12:00:00Z`); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10); }", [today, days])
    page.fill("#day", day)
    page.dispatch_event("#day", "change")
    expect(page.locator("#board .lane").first).to_be_visible()
    return day


def redraw(page: Page) -> None:
    """The board drawn now, not at its next 3 s refresh: after a booking made through the API."""
    page.dispatch_event("#day", "change")


def test_a_patient_is_found_from_the_header_by_name_birth_date_or_phone(desk: Page) -> None:
    found = desk.evaluate(REGISTER, ["Zoë", "Quintana-Search", "1977-07-17", "+15555550481"])
    results = desk.locator("#search-results")
    for typed in ("quintana", "ZOE QUIN", "1977-07-17", "555 0481"):
        desk.fill("#search-text", typed)
        desk.press("#search-text", "Enter")
        expect(results.locator(f'[data-patient="{found["patientId"]}"]')).to_have_text("Zoë Quintana-Search, born 1977-07-17, +15555550481")

    desk.fill("#search-text", "q")
    desk.click("#patient-search button[type=submit]")
    expect(desk.locator('#patient-search .field-error[data-for="text"]')).to_contain_text("at least 2 letters")

    desk.fill("#search-text", "quintana-search")
    desk.press("#search-text", "Enter")
    results.locator(f'[data-patient="{found["patientId"]}"]').click()
    expect(desk.locator("#patient option:checked")).to_have_text("Zoë Quintana-Search")  # the patient to book
    expect(desk.locator("#patient-page h2")).to_have_text("Zoë Quintana-Search")
    expect(results).to_be_hidden()


def test_registering_someone_already_registered_shows_them_and_asks(desk: Page) -> None:
    register_patient(desk, "Dana", "Double", "1966-06-06", "+15555550482", "+15555550483")
    first = desk.locator("#patient").input_value()

    def register_again() -> None:
        desk.click("#register summary")
        desk.fill('[name="givenName"]', "dana")
        desk.fill('[name="familyName"]', "DOUBLE")
        desk.fill('[name="birthDate"]', "1966-06-06")
        desk.fill('[name="phone"]', "+15555550484")
        desk.click("#register-button")
        expect(desk.locator("#duplicates")).to_contain_text("Dana Double, born 1966-06-06, +15555550482")

    register_again()
    desk.click("#duplicates button:has-text('Use this patient')")
    expect(desk.locator("#patient")).to_have_value(first)

    register_again()
    desk.click("#duplicates button:has-text('Register anyway')")
    expect(desk.locator("#patient option:checked")).to_have_text("dana DOUBLE")
    assert desk.locator("#patient").input_value() != first
    expect(desk.locator("#duplicates")).to_be_hidden()


def test_a_free_time_on_the_board_books_that_chair_day_and_time_by_click_or_keyboard(desk: Page) -> None:
    register_patient(desk, "Frey", "Boardclick", "1971-01-21", "+15555550485", "+15555550486")
    day = later_day(desk, 3)
    desk.select_option("#session-type", "iv-ketamine")
    stretches = desk.locator('.free[data-free="chair-3"]')
    expect(stretches.first).to_be_visible()
    widest = desk.evaluate("""() => { const all = [...document.querySelectorAll('.free[data-free="chair-3"]')];
      return all.indexOf(all.reduce((a, b) => (a.offsetWidth >= b.offsetWidth ? a : b))); }""")
    free = stretches.nth(widest)  # the other tests may have booked into this day: a stretch with several starts
    first_start = free.get_attribute("data-start")
    width = free.evaluate("(stretch) => stretch.getBoundingClientRect().width")  # the board is redrawn every 3 s: no handle kept
    free.click(position={"x": width * 0.6, "y": 5})  # a later start than the stretch's first
    expect(desk.locator("#board-pick")).to_be_visible()
    expect(desk.locator("#board-pick-where")).to_contain_text("IV ketamine infusion in Chair 3 on")
    assert desk.locator("#board-pick-time").input_value() > first_start
    desk.click("#book-picked")
    expect(desk.locator("#booking-notice")).to_contain_text("in Chair 3")
    block = desk.locator('.lane[data-chair="chair-3"] .block', has_text="Frey Boardclick")
    expect(block).to_have_count(1)
    expect(desk.locator("#day")).to_have_value(day)
    expect(desk.locator("#board-pick")).to_be_hidden()

    # By keyboard: Enter on a free stretch, then on the booking button.
    register_patient(desk, "Kay", "Boardkeys", "1972-02-22", "+15555550487", "+15555550488")
    keyed = desk.locator('.free[data-free="chair-4"]').first
    start = keyed.get_attribute("data-start")
    keyed.focus()
    desk.keyboard.press("Enter")
    expect(desk.locator("#board-pick-time")).to_be_focused()
    expect(desk.locator("#board-pick-time")).to_have_value(start)
    desk.keyboard.press("Tab")
    desk.keyboard.press("Enter")
    expect(desk.locator('.lane[data-chair="chair-4"] .block', has_text="Kay Boardkeys")).to_have_count(1)


def test_the_week_view_counts_sessions_per_chair_and_day_and_opens_a_day(desk: Page) -> None:
    patient = desk.evaluate(REGISTER, ["Wendy", "Weekly", "1973-03-23", "+15555550489"])
    day = later_day(desk, 9)
    desk.evaluate(BOOK_FIRST_FREE, [patient["patientId"], day, "spravato"])
    counts = desk.evaluate(COUNTS, day)

    desk.click("#show-week")
    week = desk.locator("#week")
    expect(week).to_be_visible()
    expect(desk.locator("#day-card")).to_be_hidden()
    for chair in ("chair-1", "chair-2", "chair-3", "chair-4"):
        expect(week.locator(f'tr[data-chair="{chair}"] td[data-day="{day}"]')).to_have_text(str(counts.get(chair, 0)))
    title = desk.locator("#week-title").inner_text()
    desk.click("#next-week")
    expect(desk.locator("#week-title")).not_to_have_text(title)
    expect(week.locator(f'td[data-day="{day}"]')).to_have_count(0)
    desk.click("#previous-week")
    expect(desk.locator("#week-title")).to_have_text(title)
    week.locator(f'button[data-day="{day}"]').click()
    expect(desk.locator("#day-card")).to_be_visible()
    expect(desk.locator("#day")).to_have_value(day)
    expect(desk.locator(".block", has_text="Wendy Weekly")).to_have_count(1)


def test_no_label_on_the_board_is_cut_mid_word(desk: Page) -> None:
    register_patient(desk, "Maximiliana", "Featherstonehaugh-Worthington", "1974-04-24", "+15555550490", "+15555550493")
    day = later_day(desk, 5)
    patient = desk.locator("#patient").input_value()
    booked = desk.evaluate(BOOK_FIRST_FREE, [patient, day, "iv-ketamine"])
    redraw(desk)
    expect(desk.locator(".block", has_text="Maximiliana")).to_have_count(1)
    assert desk.evaluate(CUT_LABELS) == []

    # Cancelled, the block is a thin grey bar: its name still fits, in readable contrast.
    desk.evaluate(CANCEL, booked["appointmentId"])
    redraw(desk)
    expect(desk.locator(".block.cancelled", has_text="Maximiliana")).to_have_count(1)
    assert desk.evaluate(CUT_LABELS) == []
    assert violations(desk) == []


def test_at_768_px_only_the_board_scrolls_sideways(desk: Page) -> None:
    desk.set_viewport_size({"width": 768, "height": 1000})
    try:
        patient = desk.evaluate(REGISTER, ["Tab", "Letwidth", "1975-05-25", "+15555550494"])
        day = later_day(desk, 6)
        desk.evaluate(BOOK_FIRST_FREE, [patient["patientId"], day, "spravato"])
        redraw(desk)
        desk.locator(".block", has_text="Tab Letwidth").click()
        expect(desk.locator("#detail")).to_contain_text("Tab Letwidth")
        desk.fill("#search-text", "letwidth")
        desk.press("#search-text", "Enter")
        expect(desk.locator("#search-results")).to_contain_text("Tab Letwidth, born 1975-05-25")
        assert desk.evaluate(OVERFLOWING) == []
        assert desk.evaluate("() => { const b = document.querySelector('#board'); return b.scrollWidth > b.clientWidth; }")  # it scrolls inside

        desk.click("#show-week")
        expect(desk.locator("#week-table")).to_be_visible()
        assert desk.evaluate(OVERFLOWING) == []
        desk.click("#show-day")
    finally:
        desk.set_viewport_size({"width": 1280, "height": 900})
