// The front desk's and clinicians' page: the day board, booking, session actions, alerts
// and a patient's chart. Plain modules, no build step; the API does every check.
import { ApiError, call, clearErrors, el, localTime, roles, showErrors, signOut, token } from "/web/api.js";
import { signedIn } from "/web/signin.js";
import { showStaff } from "/web/staff.js";

const $ = (selector) => document.querySelector(selector);
const state = { clinic: null, zone: "UTC", appointments: [], free: [], selected: null, shown: null, patients: new Map(), phones: new Map(), now: null, linkShown: false, spoken: new Map(), spokenDay: null, makeUp: null, weekStart: null, picked: null, freeAsked: null, freeAt: 0 };
const FIRST_HOUR = 7, LAST_HOUR = 20, DAY = 86400000;

const is = (role) => roles().includes(role);
const books = () => is("front-desk") || is("admin");
const staffName = () => JSON.parse(atob(token().split(".")[1].replace(/-/g, "+").replace(/_/g, "/")))["cognito:username"];

// --- start -------------------------------------------------------------------------------
$("#sign-out").addEventListener("click", signOut);
signedIn().then(start);

async function start() {
  $("#sign-in-view").classList.add("hidden");
  $("#app").classList.remove("hidden");
  $("#sign-out").classList.remove("hidden");
  $("#who").textContent = `${staffName()} (${roles().join(", ")})`;
  $("#booking-card").classList.toggle("hidden", !books());
  $("#course-card").classList.toggle("hidden", !books());
  $("#patient-search").classList.remove("hidden");
  await tick();
  $("#clinic").addEventListener("change", refresh);
  $("#day").addEventListener("change", showDay);
  $("#previous-day").addEventListener("click", () => moveDay(-1));
  $("#next-day").addEventListener("click", () => moveDay(1));
  $("#session-type").addEventListener("change", refresh); // the board's free times are for this session type
  $("#show-week").addEventListener("click", () => showWeek(weekOf($("#day").value)));
  $("#previous-week").addEventListener("click", () => showWeek(addDays(state.weekStart, -7)));
  $("#next-week").addEventListener("click", () => showWeek(addDays(state.weekStart, 7)));
  $("#show-day").addEventListener("click", () => openDay($("#day").value));
  await loadClinic();
  $("#day").value ||= localDate(state.now); // the clinic's today: its zone is known only now
  await refresh();
  if (is("admin")) await showStaff($("#clinic").value, staffName());
  setInterval(async () => { await tick(); await refresh(); }, 3000);
}

// A new day on the board: say it is loading until its appointments are in.
async function showDay() {
  $("#board").setAttribute("aria-busy", "true");
  $("#board").replaceChildren(el("p", { class: "loading" }, "Loading the day…"));
  await refresh();
}

function moveDay(days) {
  $("#day").value = addDays($("#day").value, days);
  return showDay();
}

// A calendar day (YYYY-MM-DD) moved by whole days, whatever the zone's daylight saving time.
function addDays(day, days) {
  const moved = new Date(`${day}T12:00:00Z`);
  moved.setUTCDate(moved.getUTCDate() + days);
  return moved.toISOString().slice(0, 10);
}

async function tick() {
  // The local stack's clock may run fast or jump ahead; deployed, the browser's clock is right.
  try {
    const reply = await fetch("/local/clock");
    state.now = reply.ok ? new Date((await reply.json()).now) : new Date();
  } catch { state.now = new Date(); }
  $("#now").textContent = state.clinic ? `Now ${localTime(state.now.toISOString(), state.zone)}` : "";
}

function localDate(instant) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: state.zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(instant);
}

async function loadClinic() {
  const clinic = await call("GET", `/clinics/${$("#clinic").value}`);
  state.clinic = clinic;
  state.zone = clinic.timeZone;
  $("#session-type").replaceChildren(...Object.entries(clinic.sessionTypes).map(([code, kind]) => el("option", { value: code }, kind.label)));
  $("#provider").replaceChildren(el("option", { value: "" }, "any free provider"),
    ...clinic.providers.filter((p) => p.active !== false).map((p) => el("option", { value: p.providerId }, p.name)));
  $("#course-template").replaceChildren(...Object.entries(clinic.courseTemplates).map(([code, t]) => el("option", { value: code }, t.label)));
}

async function refresh() {
  try {
    const board = await call("GET", `/clinics/${$("#clinic").value}/board?date=${$("#day").value}`);
    state.zone = board.timeZone;
    state.appointments = board.appointments;
    state.free = await freeTimes(board);
    await Promise.all(board.appointments.map((a) => patientName(a.patientId)));
    announceChanges(board.appointments);
    renderBoard();
    renderPatients();
    const selected = state.appointments.find((a) => a.appointmentId === state.selected);
    // The panel always shows the selected appointment, or nothing when it is not on this day's
    // board; it is re-drawn only when that changes, so a half-filled form or its errors stay put.
    const shown = state.shown;
    if (!selected) renderDetail(null);
    else if (!shown || shown.appointmentId !== selected.appointmentId || shown.version !== selected.version) renderDetail(selected);
    await renderAlerts();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut();
  }
}

// The day's free starts for the booking card's session type, which the board offers to book
// (front desk and admin; none on a day gone by). Asked again only when the day, the session
// type or the day's appointments change, or a minute on (the day's early starts run out).
async function freeTimes(board) {
  if (!books() || $("#day").value < localDate(state.now)) return [];
  const asked = [$("#clinic").value, $("#day").value, $("#session-type").value, ...board.appointments.map((a) => `${a.appointmentId}.${a.version}`)].join("|");
  if (asked === state.freeAsked && Date.now() - state.freeAt < 60000) return state.free;
  const found = await call("GET", `/clinics/${$("#clinic").value}/availability?date=${$("#day").value}&sessionType=${$("#session-type").value}`);
  Object.assign(state, { freeAsked: asked, freeAt: Date.now() });
  return found.slots;
}

async function patientName(id) {
  if (!state.patients.has(id)) {
    const patient = await call("GET", `/patients/${id}`);
    state.patients.set(id, `${patient.givenName} ${patient.familyName}`);
    state.phones.set(id, patient.phone);
  }
  return state.patients.get(id);
}

// "Name (phone)": the alerts are a call list.
async function patientToCall(id) {
  const name = await patientName(id);
  return state.phones.has(id) ? `${name} (${state.phones.get(id)})` : name;
}

// --- the day board -----------------------------------------------------------------------
function phaseClass(appointment) {
  const phase = appointment.phase || {};
  if (phase.attention) return "attention";
  if (phase.name === "observing") {
    const kind = state.clinic.sessionTypes[appointment.sessionType];
    const doseEnd = new Date(appointment.dose.startedAt).getTime() + kind.dosingMinutes * 60000;
    return state.now.getTime() < doseEnd ? "dosing" : "observing";
  }
  return { "awaiting-check-in": "booked", "awaiting-dose": "arrived", discharged: "discharged", noshow: "noshow", cancelled: "cancelled" }[phase.name] || "booked";
}

// What staff call each phase and status: never a raw code on screen.
const PHASE_WORDS = {
  "awaiting-check-in": "booked", "awaiting-dose": "checked in", observing: "observing", discharged: "discharged",
  noshow: "no-show", cancelled: "cancelled", "entered-in-error": "entered in error", booked: "booked", arrived: "checked in",
  fulfilled: "discharged",
};
const inWords = (code) => PHASE_WORDS[code] || code.replace(/-/g, " ");

const nameOf = (list, key, id) => list.find((item) => item[key] === id)?.name || id;

function blockLabel(appointment) {
  const phase = appointment.phase || {};
  const name = state.patients.get(appointment.patientId) || "";
  let status = inWords(phase.name || appointment.status);
  if (phase.attention) status = `needs attention: ${phase.attention.reason}`;
  else if (phase.bloodPressureDueAt && new Date(phase.bloodPressureDueAt) > state.now) {
    status = `BP check ${localTime(phase.bloodPressureDueAt, state.zone)}`; // the next thing to do
  } else if (phase.dischargeAllowedAt) {
    const minutes = Math.ceil((new Date(phase.dischargeAllowedAt) - state.now) / 60000);
    status = minutes > 0 ? `${minutes} min to discharge` : "discharge allowed";
  }
  return [name, `${localTime(appointment.start, state.zone)} · ${status}`].map((text) => el("span", { class: "line", "data-text": text }, text));
}

// A label line too long for its block loses whole words from its end, with "…": a word is
// never cut in two. A screen reader still reads the whole line (visually hidden beside it).
function fitLabels() {
  for (const line of document.querySelectorAll("#board .block .line")) {
    if (line.scrollWidth <= line.clientWidth) continue;
    const words = line.dataset.text.split(" ");
    const shown = el("span", { "aria-hidden": "true" });
    line.replaceChildren(shown, el("span", { class: "visually-hidden" }, line.dataset.text));
    let kept = words.length;
    do {
      kept -= 1;
      shown.textContent = `${words.slice(0, kept).join(" ").replace(/ ·$/, "")}…`;
    } while (kept > 0 && line.scrollWidth > line.clientWidth);
    if (line.scrollWidth > line.clientWidth) shown.textContent = "";
  }
}

// A screen reader hears what changed since the last refresh, not the whole board again.
function announceChanges(appointments) {
  const now = new Map(appointments.map((a) => [a.appointmentId, a.phase?.attention ? `needs attention: ${a.phase.attention.reason}` : inWords(a.phase?.name || a.status)]));
  const said = [...now].filter(([id, words]) => state.spoken.has(id) && state.spoken.get(id) !== words)
    .map(([id, words]) => `${state.patients.get(appointments.find((a) => a.appointmentId === id).patientId)}: ${words}`);
  const sameDay = state.spokenDay === $("#day").value;
  state.spoken = now;
  state.spokenDay = $("#day").value;
  if (sameDay && said.length) $("#announcer").textContent = said.join(". ");
}

function renderBoard() {
  const span = (LAST_HOUR - FIRST_HOUR) * 60;
  const dayStart = zonedMidnight($("#day").value) + FIRST_HOUR * 3600000;
  const position = (iso) => Math.max(0, Math.min(100, ((new Date(iso) - dayStart) / 60000 / span) * 100));
  const axis = el("div", { class: "axis" }, Array.from({ length: LAST_HOUR - FIRST_HOUR + 1 }, (_, h) =>
    el("span", { style: `left:${(h * 60 / span) * 100}%` }, `${String(FIRST_HOUR + h).padStart(2, "0")}:00`)));
  const lanes = state.clinic.chairs.map((chair) => el("div", { class: "lane", "data-chair": chair.chairId },
    el("div", { class: "lane-name" }, chair.name),
    freeRuns(chair).map((run) => freeButton(chair, run, position)),
    state.appointments.filter((a) => a.chairId === chair.chairId).map((a) => {
      const select = () => { state.selected = a.appointmentId; renderBoard(); renderDetail(a); $(`[data-appointment="${a.appointmentId}"]`).focus(); };
      const label = blockLabel(a);
      return el("div", {
        class: `block ${phaseClass(a)}${a.appointmentId === state.selected ? " selected" : ""}`,
        "data-appointment": a.appointmentId,
        style: `left:${position(a.start)}%;width:${position(a.end) - position(a.start)}%`,
        title: `${state.patients.get(a.patientId)}, ${state.clinic.sessionTypes[a.sessionType]?.label || a.sessionType}`,
        role: "button", tabindex: "0", "aria-pressed": String(a.appointmentId === state.selected),
        onclick: select,
        onkeydown: (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(); } },
      }, el("span", { class: "visually-hidden" }, `${chair.name}: `), label[0], " ", label[1]); // named by its whole text, as it reads
    })));
  // Redrawn every few seconds: the keyboard's place on the board stays where it was.
  const focused = document.activeElement?.closest("#board [data-appointment], #board [data-free]");
  const again = focused && (focused.dataset.appointment ? `[data-appointment="${focused.dataset.appointment}"]` : `[data-free="${focused.dataset.free}"][data-start="${focused.dataset.start}"]`);
  $("#board").replaceChildren(axis, ...lanes);
  $("#board").removeAttribute("aria-busy");
  fitLabels();
  if (focused) ($("#board").querySelector(again) || $("#board")).focus();
}

// A chair's free starts in runs one step apart: each run is one free stretch of the lane.
function freeRuns(chair) {
  const starts = state.free.filter((slot) => slot.chairIds.includes(chair.chairId));
  const times = state.free.map((slot) => new Date(slot.start).getTime());
  const step = Math.min(...times.slice(1).map((t, i) => t - times[i]));
  const runs = [];
  for (const slot of starts) {
    const last = runs.at(-1)?.at(-1);
    if (last && new Date(slot.start) - new Date(last.start) <= step) runs.at(-1).push(slot);
    else runs.push([slot]);
  }
  return runs;
}

// A free stretch of a chair, from its first possible start to the end of a session at its
// last: a click books the start under the pointer; Enter or Space, the first.
function freeButton(chair, run, position) {
  const blockMinutes = state.clinic.sessionTypes[$("#session-type").value].blockMinutes;
  const end = new Date(new Date(run.at(-1).start).getTime() + blockMinutes * 60000).toISOString();
  const first = localTime(run[0].start, state.zone), last = localTime(run.at(-1).start, state.zone);
  const label = `${chair.name}: free, a session can start from ${first} to ${last}; book it`;
  return el("button", {
    type: "button", class: "free", "data-free": chair.chairId, "data-start": run[0].start, "aria-label": label, title: label,
    style: `left:${position(run[0].start)}%;width:${position(end) - position(run[0].start)}%`,
    onclick: (event) => {
      const box = event.currentTarget.getBoundingClientRect();
      const from = new Date(run[0].start).getTime();
      const pointed = from + ((event.clientX - box.left) / box.width) * (new Date(end).getTime() - from);
      // A key press has no pointer (detail 0): it takes the first start.
      const slot = event.detail ? run.filter((s) => new Date(s.start).getTime() <= pointed).at(-1) || run[0] : run[0];
      pickFromBoard(chair, run, slot);
    },
  }, "free");
}

// --- the week: sessions per chair and day ---------------------------------------------------------
// The Monday of `day`'s week.
function weekOf(day) {
  return addDays(day, -((new Date(`${day}T12:00:00Z`).getUTCDay() + 6) % 7));
}

// Each day's board, counted per chair: every session but the cancelled ones.
async function showWeek(monday) {
  state.weekStart = monday;
  const days = Array.from({ length: 7 }, (_, n) => addDays(monday, n));
  const boards = await Promise.all(days.map((day) => call("GET", `/clinics/${$("#clinic").value}/board?date=${day}`)));
  const counted = (board, chairId) => board.appointments.filter((a) => a.status !== "cancelled" && (!chairId || a.chairId === chairId)).length;
  const date = (day, format) => new Date(`${day}T12:00:00Z`).toLocaleDateString([], { ...format, timeZone: "UTC" });
  const heading = (day) => date(day, { weekday: "short", day: "numeric" });
  $("#week-title").textContent = `Week of ${date(monday, { weekday: "long", day: "numeric", month: "long", year: "numeric" })}`;
  $("#week-table").replaceChildren(
    el("caption", { class: "visually-hidden" }, "Sessions per chair and day; choose a day to open it on the board"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Chair"), days.map((day) => el("th", { scope: "col" },
      el("button", { type: "button", "data-day": day, onclick: () => openDay(day) }, heading(day)))))),
    el("tbody", {},
      state.clinic.chairs.map((chair) => el("tr", { "data-chair": chair.chairId }, el("th", { scope: "row" }, chair.name),
        boards.map((board, n) => el("td", { "data-day": days[n] }, String(counted(board, chair.chairId)))))),
      el("tr", { class: "total" }, el("th", { scope: "row" }, "All chairs"), boards.map((board) => el("td", {}, String(counted(board)))))),
  );
  $("#day-card").classList.add("hidden");
  $("#week").classList.remove("hidden");
}

function openDay(day) {
  $("#week").classList.add("hidden");
  $("#day-card").classList.remove("hidden");
  $("#day").value = day;
  return showDay();
}

function zonedMidnight(day) {
  // Midnight of `day` in the clinic's zone, as epoch milliseconds.
  const guess = new Date(`${day}T00:00:00Z`).getTime();
  const shown = new Date(new Date(guess).toLocaleString("en-US", { timeZone: state.zone }));
  const utc = new Date(new Date(guess).toLocaleString("en-US", { timeZone: "UTC" }));
  return guess + (utc - shown);
}

// --- one appointment ---------------------------------------------------------------------
function renderDetail(appointment) {
  const panel = $("#detail");
  state.shown = appointment ? { appointmentId: appointment.appointmentId, version: appointment.version } : null;
  if (!appointment) { panel.classList.add("hidden"); return; }
  panel.classList.remove("hidden");
  const phase = appointment.phase || {};
  const facts = [
    ["Patient", state.patients.get(appointment.patientId)],
    ["Session", `${state.clinic.sessionTypes[appointment.sessionType].label}, ${localTime(appointment.start, state.zone)}–${localTime(appointment.end, state.zone)}`],
    ["Chair / provider", `${nameOf(state.clinic.chairs, "chairId", appointment.chairId)} / ${nameOf(state.clinic.providers, "providerId", appointment.providerId)}`],
    ["Status", inWords(appointment.status) + (phase.name && inWords(phase.name) !== inWords(appointment.status) ? ` (${inWords(phase.name)})` : "")],
  ];
  if (phase.dischargeAllowedAt) facts.push(["Discharge allowed", localTime(phase.dischargeAllowedAt, state.zone)]);
  if (phase.bloodPressureDueAt) facts.push(["BP check due", localTime(phase.bloodPressureDueAt, state.zone)]);
  if (phase.attention) facts.push(["Needs attention", phase.attention.reason]);
  const actions = el("div", { class: "row" });
  const forms = el("div");
  const act = (label, path, body, className = "") => el("button", { class: className, onclick: () => run(forms, () => call("POST", `/appointments/${appointment.appointmentId}/${path}`, body?.())) }, label);
  if (appointment.status === "booked") {
    actions.append(act("Check in", "check-in", undefined, "primary"));
    if (is("front-desk") || is("admin")) {
      actions.append(act("No-show", "no-show"));
      forms.append(cancelForm(appointment), rescheduleForm(appointment));
    }
  }
  if (is("clinician") && appointment.status === "arrived") {
    if (!appointment.dose) forms.append(doseForm(appointment));
    else forms.append(vitalsForm(appointment), dischargeForm(appointment));
  }
  if (appointment.dose) forms.prepend(vitalsHistory(appointment));
  actions.append(el("button", { onclick: () => showPatient(appointment.patientId) }, "Patient page"));
  const makeUp = state.makeUp?.appointmentId === appointment.appointmentId ? makeUpOffer(state.makeUp) : "";
  panel.replaceChildren(
    el("h2", {}, "Appointment"),
    el("dl", {}, facts.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    actions, el("p", { class: "form-error" }), makeUp, forms,
  );
}

// The one error wrapper: clears the messages in `where`, runs `action` and shows an API
// refusal in `shownIn` (its fields beside their inputs); anything else is a bug and
// propagates. True when the action went through.
async function withErrors(where, action, shownIn = where) {
  clearErrors(where);
  try {
    await action();
    return true;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showErrors(shownIn, error);
    return false;
  }
}

// An action on the board, which is shown again once it is done.
function run(form, action) {
  return withErrors(form.closest("section") || form, async () => { await action(); await refresh(); }, form.closest("form") || form.closest("section"));
}

function input(label, name, attributes = {}) {
  return [el("label", {}, label, el("input", { name, ...attributes })), el("div", { class: "field-error", "data-for": name })];
}

function submitting(form, build) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return; // a double click sends once
    form.setAttribute("aria-busy", "true");
    try {
      await withErrors(form, async () => { await build(new FormData(form)); await refresh(); });
    } finally {
      form.removeAttribute("aria-busy");
    }
  });
  return form;
}

const nowInput = () => toLocalInput(state.now);
function toLocalInput(instant) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: state.zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(instant);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
}
function fromLocalInput(value) {
  // A wall time in the clinic's zone as an ISO instant.
  const guess = new Date(`${value}:00Z`).getTime();
  const offset = new Date(new Date(guess).toLocaleString("en-US", { timeZone: "UTC" })) - new Date(new Date(guess).toLocaleString("en-US", { timeZone: state.zone }));
  return new Date(guess + offset).toISOString();
}
const number = (value) => (value === "" || value === null ? undefined : Number(value));

function cancelForm(appointment) {
  return submitting(el("form", { "data-form": "cancel" }, el("h3", {}, "Cancel"), input("Reason", "reason"),
    el("p", { class: "form-error" }), el("button", { class: "danger", type: "submit" }, "Cancel appointment")),
  async (data) => {
    const cancelled = await call("POST", `/appointments/${appointment.appointmentId}/cancel`, { reason: data.get("reason") });
    state.makeUp = cancelled.courseMakeUp ? cancelled : null; // shown with the cancelled session's panel
    state.shown = null; // drawn again even if a refresh already showed the cancelled version
  });
}

// A cancelled course session: the course's make-up session, one button to book it.
function makeUpOffer(cancelled) {
  const makeUp = cancelled.courseMakeUp;
  const where = makeUp.placement || makeUp.alternatives[0];
  const box = el("div", { class: "make-up", "data-make-up": cancelled.courseId }, el("h3", {}, "Make-up session for the course"));
  if (!where) box.append(el("p", {}, `No free time near ${dayAndTime(makeUp.wantedLocal)}: plan one from the course.`));
  else {
    const chair = nameOf(state.clinic.chairs, "chairId", where.chairId);
    box.append(el("p", {}, `${dayAndTime(where.start)} in ${chair}${makeUp.problem ? ` (the course's next time ${makeUp.problem})` : ""}. `),
      el("button", { class: "primary", onclick: () => run(box, async () => {
        const booked = await call("POST", `/courses/${cancelled.courseId}/sessions`, { start: where.start, chairId: where.chairId, providerId: where.providerId }, { idempotent: true });
        state.makeUp = null;
        state.shown = null; // the panel drops the offer once it is booked
        $("#booking-notice").textContent = `Make-up session booked for ${dayAndTime(booked.start)}.`;
      }) }, "Book the make-up session"), el("p", { class: "form-error" }));
  }
  return box;
}

// Reschedule to one of the day's free times (for this session type), not a typed-in time.
function rescheduleForm(appointment) {
  const slots = el("div", { class: "slots" });
  const form = el("form", { "data-form": "reschedule" }, el("h3", {}, "Reschedule"),
    input("Day", "day", { type: "date", value: localDate(new Date(appointment.start)) }),
    el("button", { type: "button", onclick: () => findTimes() }, "Find free times"), slots,
    el("div", { class: "field-error", "data-for": "start" }), el("p", { class: "form-error" }));
  async function findTimes() {
    clearErrors(form);
    try {
      const day = form.querySelector('[name="day"]').value;
      const found = await call("GET", `/clinics/${appointment.clinicId}/availability?date=${day}&sessionType=${appointment.sessionType}`);
      slots.replaceChildren(...(found.slots.length ? found.slots.map((slot) => el("button", {
        type: "button", "data-start": slot.start,
        onclick: () => run(form, () => call("POST", `/appointments/${appointment.appointmentId}/reschedule`, {
          start: slot.start, chairId: slot.chairIds.includes(appointment.chairId) ? appointment.chairId : slot.chairIds[0],
          providerId: slot.providerIds.includes(appointment.providerId) ? appointment.providerId : slot.providerIds[0],
        })),
      }, localTime(slot.start, state.zone))) : [el("span", {}, "No free time that day.")]));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showErrors(form, error);
    }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); findTimes(); });
  return form;
}

function doseForm(appointment) {
  const kind = state.clinic.sessionTypes[appointment.sessionType];
  const prescribers = state.clinic.providers.filter((p) => p.role === "prescriber" && p.active !== false);
  const override = el("details", { "data-override": "" }, el("summary", {}, "Prescriber override (pressure above the guide)"),
    el("label", {}, "Prescriber who decided to go ahead", el("select", { name: "override.prescriberId" },
      el("option", { value: "" }, "— choose —"), prescribers.map((p) => el("option", { value: p.providerId }, p.name)))),
    el("div", { class: "field-error", "data-for": "override.prescriberId" }),
    input("Reason", "override.reason"), el("div", { class: "field-error", "data-for": "override" }));
  return submitting(el("form", { "data-form": "dose" }, el("h3", {}, "Record the dose"),
    el("div", { class: "row" }, input("Pre-dose systolic", "preDoseBloodPressure.systolic", { type: "number" }), input("Diastolic", "preDoseBloodPressure.diastolic", { type: "number" })),
    input(kind.mgPerDevice ? "First device at" : "Infusion start", "startedAt", { type: "datetime-local", value: nowInput() }),
    input("Dose (mg)", "doseMg", { type: "number", step: "any" }),
    kind.mgPerDevice ? [input("Devices", "deviceCount", { type: "number" }), input("Lot number", "lotNumber")] : [],
    override,
    el("p", { class: "form-error" }), el("button", { class: "primary", type: "submit" }, "Record dose")),
  async (data) => {
    try {
      await call("POST", `/appointments/${appointment.appointmentId}/dose`, {
        preDoseBloodPressure: { systolic: number(data.get("preDoseBloodPressure.systolic")), diastolic: number(data.get("preDoseBloodPressure.diastolic")) },
        startedAt: fromLocalInput(data.get("startedAt")),
        doseMg: number(data.get("doseMg")),
        deviceCount: number(data.get("deviceCount")),
        lotNumber: data.get("lotNumber") || undefined,
        override: data.get("override.prescriberId") ? { prescriberId: data.get("override.prescriberId"), reason: data.get("override.reason") } : undefined,
      });
    } catch (error) {
      // Over the guide: the prescriber's decision is asked for at once, with the clinic's prescribers.
      if (error instanceof ApiError && error.fields?.some((f) => f.field.startsWith("override"))) {
        override.open = true;
        override.querySelector("select").focus();
      }
      throw error;
    }
  });
}

function vitalsForm(appointment) {
  return submitting(el("form", { "data-form": "vitals" }, el("h3", {}, "Record vitals"),
    el("div", { class: "row" }, input("Systolic", "bloodPressure.systolic", { type: "number" }), input("Diastolic", "bloodPressure.diastolic", { type: "number" })),
    el("div", { class: "row" }, input("SpO2 %", "spo2", { type: "number" }), input("Resp. rate", "respiratoryRate", { type: "number" }), input("MOAA/S", "moaas", { type: "number" })),
    el("p", { class: "form-error" }), el("p", { class: "notice" }), el("button", { type: "submit" }, "Record vitals")),
  async (data) => {
    const systolic = number(data.get("bloodPressure.systolic"));
    await call("POST", `/appointments/${appointment.appointmentId}/vitals`, {
      bloodPressure: systolic === undefined ? undefined : { systolic, diastolic: number(data.get("bloodPressure.diastolic")) },
      spo2: number(data.get("spo2")), respiratoryRate: number(data.get("respiratoryRate")), moaas: number(data.get("moaas")),
    }, { idempotent: true });
    document.querySelector('[data-form="vitals"] .notice').textContent = "Vitals recorded.";
    document.querySelector(`[data-vitals="${appointment.appointmentId}"]`)?.replaceWith(vitalsHistory(appointment));
  });
}

// The session's readings so far, newest last: what the clinician charts against.
function vitalsHistory(appointment) {
  const table = el("table", { class: "vitals", "data-vitals": appointment.appointmentId },
    el("caption", {}, "Vitals this session"),
    el("thead", {}, el("tr", {}, ["Time", "BP", "SpO2 %", "Resp.", "MOAA/S"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, el("tr", {}, el("td", { colspan: "5" }, "Loading…"))));
  call("GET", `/appointments/${appointment.appointmentId}/vitals`).then(({ vitals }) => {
    const dash = (value) => (value === undefined || value === null ? "–" : String(value));
    table.tBodies[0].replaceChildren(...(vitals.length ? vitals.map((v) => el("tr", {},
      el("td", {}, localTime(v.takenAt, state.zone)),
      el("td", {}, v.bloodPressure ? `${v.bloodPressure.systolic}/${v.bloodPressure.diastolic}` : "–"),
      el("td", {}, dash(v.spo2)), el("td", {}, dash(v.respiratoryRate)), el("td", {}, dash(v.moaas)))) : [el("tr", {}, el("td", { colspan: "5" }, "None yet."))]));
  }).catch(() => table.tBodies[0].replaceChildren(el("tr", {}, el("td", { colspan: "5" }, "Could not load the readings."))));
  return table;
}

const CHECKLIST = [["vitalsAcceptable", "Vitals acceptable"], ["sedationResolved", "Sedation resolved"], ["dissociationResolved", "Dissociation resolved"], ["breathingNormal", "Breathing normal"], ["ridePresent", "Ride home present"]];
function dischargeForm(appointment) {
  return submitting(el("form", { "data-form": "discharge" }, el("h3", {}, "Discharge"),
    CHECKLIST.map(([name, label]) => [el("label", {}, el("input", { type: "checkbox", name }), ` ${label}`), el("div", { class: "field-error", "data-for": `checklist.${name}` })]),
    input("Ready to leave at (if earlier than now)", "readyAt", { type: "datetime-local" }),
    el("p", { class: "form-error" }), el("button", { class: "primary", type: "submit" }, "Discharge")),
  (data) => call("POST", `/appointments/${appointment.appointmentId}/discharge`, {
    checklist: Object.fromEntries(CHECKLIST.map(([name]) => [name, data.get(name) === "on"])),
    readyAt: data.get("readyAt") ? fromLocalInput(data.get("readyAt")) : undefined,
  }));
}

// --- alerts --------------------------------------------------------------------------------
async function renderAlerts() {
  const clinic = $("#clinic").value;
  const [alerts, forms] = await Promise.all([call("GET", `/clinics/${clinic}/alerts`), call("GET", `/clinics/${clinic}/rems-forms`)]);
  const items = [];
  for (const escalation of alerts.escalations) {
    const name = await patientToCall(escalation.patientId);
    const pages = escalation.pages.map((p) => `${p.level} ${localTime(p.at, state.zone)}`).join(", ");
    items.push(el("li", { class: "urgent", "data-alert": "escalation", "data-id": escalation.escalationId }, `Safety escalation: ${name} — ${escalation.reason}. Paged: ${pages || "now"}. `,
      is("clinician") ? el("button", { class: "danger", onclick: () => acknowledge(escalation.escalationId) }, "Acknowledge") : "awaiting a clinician"));
  }
  for (const task of alerts.tasks) {
    items.push(el("li", { "data-alert": "task", "data-id": task.taskId }, `Call today: ${await patientToCall(task.patientId)} — ${task.reason}. `,
      is("clinician") ? el("button", { onclick: () => run($("#alerts"), () => call("POST", `/tasks/${task.taskId}/complete`, { note: "done" })) }, "Done") : ""));
  }
  for (const missed of alerts.callList) items.push(el("li", { "data-alert": "call" }, `Call: ${await patientToCall(missed.patientId)} — ${missed.reason}`));
  // Flagged appointments of every day, not only the board's.
  for (const flagged of alerts.appointments) {
    const open = el("button", { onclick: () => openAppointment(flagged) }, "Open");
    const resolve = flagged.attention.kind === "workflow" ? "" : el("button", {
      onclick: () => run($("#alerts"), () => call("POST", `/appointments/${flagged.appointmentId}/attention/resolve`, {})),
    }, "Resolved");
    items.push(el("li", { class: "urgent", "data-alert": "attention", "data-id": flagged.appointmentId },
      `${await patientToCall(flagged.patientId)}, ${dayAndTime(flagged.start)}: ${flagged.attention.reason}. `, open, " ", resolve));
  }
  const dueSoon = new Set(alerts.remsFormsDueSoon.map((f) => f.appointmentId));
  for (const form of forms.forms) {
    const mark = is("clinician") || is("admin")
      ? el("button", { onclick: () => run($("#alerts"), () => call("POST", `/appointments/${form.appointmentId}/rems-form/submit`)) }, "Mark filed")
      : "";
    items.push(el("li", { "data-alert": "rems", class: dueSoon.has(form.appointmentId) ? "urgent" : "" },
      `REMS form due ${form.dueDate} for ${await patientName(form.patientId)}. `, mark));
  }
  $("#alerts").replaceChildren(...(items.length ? items : [el("li", {}, "Nothing needs attention.")]));
  await focusLinkedAlert();
}

// The board and the panel move to a flagged appointment, whatever day it is on.
async function openAppointment(flagged) {
  state.selected = flagged.appointmentId;
  $("#day").value = flagged.localDate;
  await refresh();
}

// A clinician's page links to /patient/escalations/{id} (or /tasks/{id}): that alert is
// marked and scrolled to; one no longer open says who dealt with it.
const LINKED = location.pathname.match(/^\/patient\/(escalations|tasks)\/([A-Za-z0-9-]+)$/);
async function focusLinkedAlert() {
  if (!LINKED) return;
  const [, kind, id] = LINKED;
  const item = document.querySelector(`[data-alert="${kind === "escalations" ? "escalation" : "task"}"][data-id="${id}"]`);
  if (item) {
    item.classList.add("linked");
    if (!state.linkShown) item.scrollIntoView({ block: "center" });
    state.linkShown = true;
    return;
  }
  if (kind !== "escalations" || state.linkShown) return;
  state.linkShown = true; // looked up once, not on every refresh
  let note = "The escalation you were paged about is not on this clinic's alerts: choose its clinic.";
  try {
    const done = (await call("GET", `/escalations/${id}`)).acknowledged;
    if (done) note = `The escalation you were paged about was acknowledged by ${done.by} at ${localTime(done.at, state.zone)}.`;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    note = "The escalation you were paged about was not found.";
  }
  $("#alerts").before(el("p", { id: "linked-note", class: "notice" }, note));
}

async function acknowledge(id) {
  await run($("#alerts"), () => call("POST", `/escalations/${id}/acknowledge`, { note: `acknowledged by ${staffName()}` }));
}

// --- booking --------------------------------------------------------------------------------
function renderPatients() {
  const select = $("#patient");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, "— choose —"), ...[...state.patients].map(([id, name]) => el("option", { value: id }, name)));
  select.value = chosen;
}

$("#register-button").addEventListener("click", () => register(false));

// Registers the form's patient. Someone who may already be registered (same name and birth
// date, or same phone) is shown instead, to use that record or register anyway.
function register(confirmedNew) {
  const form = $("#booking");
  $("#duplicates").classList.add("hidden");
  return withErrors(form, async () => {
    const value = (name) => form.querySelector(`[name="${name}"]`).value.trim() || undefined;
    try {
      const patient = await call("POST", "/patients", {
        givenName: value("givenName"), familyName: value("familyName"), birthDate: value("birthDate"), phone: value("phone"),
        emergencyContact: { name: value("emergencyName"), phone: value("emergencyPhone") },
        remsEnrolled: form.querySelector('[name="remsEnrolled"]').checked, confirmedNew,
      }, { idempotent: true });
      choosePatient(patient);
      $("#register").open = false;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "possible_duplicate")) throw error;
      showDuplicates(error.duplicates);
    }
  });
}

function showDuplicates(duplicates) {
  $("#duplicates").replaceChildren(
    el("p", {}, el("strong", {}, "Already registered?"), " The same name and birth date, or the same phone:"),
    el("ul", {}, duplicates.map((patient) => el("li", {}, `${describe(patient)} `,
      el("button", { type: "button", onclick: () => { choosePatient(patient); $("#register").open = false; $("#duplicates").classList.add("hidden"); } }, "Use this patient")))),
    el("button", { type: "button", onclick: () => register(true) }, "Register anyway: someone else"),
  );
  $("#duplicates").classList.remove("hidden");
}

const describe = (patient) => `${patient.givenName} ${patient.familyName}, born ${patient.birthDate}${patient.phone ? `, ${patient.phone}` : ""}`;

// A patient found, registered or kept: the booking card's patient (front desk), and known by name.
function choosePatient(patient) {
  state.patients.set(patient.patientId, `${patient.givenName} ${patient.familyName}`);
  state.phones.set(patient.patientId, patient.phone);
  renderPatients();
  $("#patient").value = patient.patientId;
}

// --- finding a patient -------------------------------------------------------------------------
$("#patient-search").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = $("#patient-search");
  const results = $("#search-results");
  results.classList.add("hidden"); // an earlier search's results never stand for this one's
  return withErrors(form, async () => {
    const found = await call("POST", "/patients/search", { text: $("#search-text").value });
    results.replaceChildren(
      el("p", { class: "hint", role: "status" }, found.patients.length ? `${found.patients.length} found${found.more ? "; there are more: type more of the name, or the birth date" : ""}:` : "No patient found."),
      el("ul", {}, found.patients.map((patient) => el("li", {}, el("button", { type: "button", "data-patient": patient.patientId, onclick: () => {
        choosePatient(patient);
        results.classList.add("hidden");
        if (books()) $("#booking-notice").textContent = `${patient.givenName} ${patient.familyName} chosen for booking.`;
        showPatient(patient.patientId);
      } }, describe(patient))))),
      el("button", { type: "button", onclick: () => results.classList.add("hidden") }, "Close"),
    );
    results.classList.remove("hidden");
  });
});

// --- booking from the board ----------------------------------------------------------------------
// A free stretch clicked on the board: the booking card with that chair and day, at that time.
function pickFromBoard(chair, run, slot) {
  const kind = state.clinic.sessionTypes[$("#session-type").value];
  const day = new Date(`${$("#day").value}T12:00:00Z`).toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" });
  $("#board-pick-where").textContent = `${kind.label} in ${chair.name} on ${day}`;
  $("#board-pick-time").replaceChildren(...run.map((s) => el("option", { value: s.start }, localTime(s.start, state.zone))));
  $("#board-pick-time").value = slot.start;
  state.picked = { chairId: chair.chairId, run };
  $("#board-pick").classList.remove("hidden");
  $("#booking-card").scrollIntoView({ block: "nearest" });
  $("#board-pick-time").focus();
}

$("#book-picked").addEventListener("click", async () => {
  const slot = state.picked.run.find((s) => s.start === $("#board-pick-time").value);
  if (await book({ ...slot, chairIds: [state.picked.chairId] })) $("#board-pick").classList.add("hidden");
});
$("#cancel-picked").addEventListener("click", () => $("#board-pick").classList.add("hidden"));

$("#find-slots").addEventListener("click", () => withErrors($("#booking"), async () => {
  const found = await call("GET", `/clinics/${$("#clinic").value}/availability?date=${$("#day").value}&sessionType=${$("#session-type").value}`);
  const chosen = $("#provider").value;
  const slots = found.slots.filter((slot) => !chosen || slot.providerIds.includes(chosen));
  const day = new Date(`${$("#day").value}T12:00:00Z`).toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" });
  $("#slots").replaceChildren(el("p", { class: "hint" }, `Free times on ${day}:`), ...(slots.length ? slots.map((slot) => el("button", {
    type: "button", "data-start": slot.start, onclick: () => book(slot),
  }, localTime(slot.start, state.zone))) : [el("span", {}, "No free time that day.")]));
}));

async function book(slot) {
  const form = $("#booking");
  if (form.getAttribute("aria-busy") === "true") return false; // a double click books once
  form.setAttribute("aria-busy", "true");
  const buttons = form.querySelectorAll("#slots button, #board-pick button");
  buttons.forEach((button) => { button.disabled = true; });
  try {
    const booked = await withErrors(form, async () => {
      const chosen = $("#provider").value;
      const appointment = await call("POST", "/appointments", {
        clinicId: $("#clinic").value, patientId: $("#patient").value, sessionType: $("#session-type").value,
        chairId: slot.chairIds[0], providerId: slot.providerIds.includes(chosen) ? chosen : slot.providerIds[0], start: slot.start,
      }, { idempotent: true });
      const chair = nameOf(state.clinic.chairs, "chairId", appointment.chairId);
      const provider = nameOf(state.clinic.providers, "providerId", appointment.providerId);
      $("#booking-notice").textContent = `Booked ${dayAndTime(appointment.start)} in ${chair} with ${provider}.`;
      $("#slots").replaceChildren();
      state.selected = appointment.appointmentId;
      $("#day").value = localDate(new Date(appointment.start)); // the board shows the new booking's day
      await refresh();
    });
    buttons.forEach((button) => { button.disabled = false; });
    return booked;
  } finally {
    form.removeAttribute("aria-busy");
  }
}

// --- courses and the waitlist -----------------------------------------------------------------
const checkedDays = (form) => [...form.querySelectorAll('[name="weekday"]:checked')].map((box) => box.value);
const dayAndTime = (iso) => new Date(iso).toLocaleString([], { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone: state.zone });

$("#plan-course").addEventListener("click", () => withErrors($("#course"), async () => {
  const form = $("#course");
  state.plan = await call("POST", "/courses/plan", {
    clinicId: $("#clinic").value, patientId: $("#patient").value, template: form.template.value,
    startDate: form.startDate.value || undefined,
    preferredTimes: checkedDays(form).map((weekday) => ({ weekday, at: form.at.value })),
  });
  // Each session starts at its placement (the wanted time, or the nearest alternative); a select lets the desk pick another.
  state.chosen = state.plan.sessions.map((session) => session.placement);
  $("#course-plan").replaceChildren(...state.plan.sessions.map((session, index) => el("li", { class: session.mustMove ? "must-move" : "" },
    session.placement ? dayAndTime(session.placement.start) : "no free time nearby",
    session.mustMove ? el("span", { class: "problem" }, ` — ${dayAndTime(session.wantedLocal)} ${session.problem}`) : "",
    session.alternatives.length > 1 ? el("select", { onchange: (event) => { state.chosen[index] = session.alternatives[event.target.value]; } },
      session.alternatives.map((alternative, n) => el("option", { value: n }, dayAndTime(alternative.start)))) : "",
  )));
  $("#book-course").classList.toggle("hidden", !state.plan.bookable);
  $("#course-notice").textContent = state.plan.bookable ? "" : "Some sessions have no free time nearby: change the days or the time.";
}));

$("#book-course").addEventListener("click", () => withErrors($("#course"), async () => {
  const course = await call("POST", "/courses", {
    clinicId: $("#clinic").value, patientId: $("#patient").value, template: state.plan.template,
    sessions: state.chosen.map(({ start, chairId, providerId }) => ({ start, chairId, providerId })),
  }, { idempotent: true });
  $("#course-notice").textContent = `Booked ${course.sessions.length} sessions, from ${dayAndTime(course.sessions[0].start)}.`;
  $("#course-plan").replaceChildren();
  $("#book-course").classList.add("hidden");
  await refresh();
}));

$("#join-waitlist").addEventListener("click", () => withErrors($("#waitlist"), async () => {
  const form = $("#waitlist");
  const entry = await call("POST", `/clinics/${$("#clinic").value}/waitlist`, {
    patientId: $("#patient").value, sessionType: $("#session-type").value, weekdays: checkedDays(form),
    earliest: form.earliest.value, latest: form.latest.value,
  }, { idempotent: true });
  $("#waitlist-notice").textContent = `On the waitlist (number ${entry.position}).`;
}));

// --- a patient's page -------------------------------------------------------------------------
async function showPatient(patientId) {
  const [patient, history, scores] = await Promise.all([
    call("GET", `/patients/${patientId}`), call("GET", `/patients/${patientId}/appointments`), call("GET", `/patients/${patientId}/scores`),
  ]);
  const page = $("#patient-page");
  page.classList.remove("hidden");
  const canvas = el("canvas", { id: "score-chart", height: "140" });
  page.replaceChildren(
    el("h2", {}, `${patient.givenName} ${patient.familyName}`),
    el("p", {}, `Born ${patient.birthDate} · ${history.appointments.length} sessions`),
    el("ul", {}, history.appointments.map((a) => el("li", {}, `${new Date(a.start).toLocaleDateString()} ${a.sessionType}: ${a.status}`))),
    el("h3", {}, "Scores"),
    scores.instruments.length ? canvas : el("p", {}, "No answers yet."),
    el("ul", {}, scores.instruments.filter((i) => i.progress).map((i) => el("li", {},
      `${i.instrument.toUpperCase()}: baseline ${i.progress.baseline}, latest ${i.progress.latest}` +
      (i.progress.response ? " · response" : "") + (i.progress.remission ? " · remission" : "")))),
  );
  if (scores.instruments.length) drawChart(canvas, scores.instruments);
  page.scrollIntoView({ behavior: "smooth" });
}

function drawChart(canvas, instruments) {
  const charted = instruments.filter((i) => ["phq-9", "gad-7"].includes(i.instrument));
  const colours = { "phq-9": "#4a7bd0", "gad-7": "#d0822a" };
  const datasets = charted.map((i) => ({ label: i.instrument.toUpperCase(), borderColor: colours[i.instrument], data: i.history.map((h) => ({ x: new Date(h.effective).getTime(), y: h.total })) }));
  const phq9 = charted.find((i) => i.instrument === "phq-9");
  const span = datasets.flatMap((d) => d.data.map((p) => p.x));
  const across = (y) => [{ x: Math.min(...span), y }, { x: Math.max(...span), y }];
  if (phq9?.progress?.baseline) datasets.push({ label: "Response (50 % of baseline)", data: across(phq9.progress.baseline / 2), borderDash: [6, 4], borderColor: "#2a9d8f", pointRadius: 0 });
  datasets.push({ label: "Remission (PHQ-9 < 5)", data: across(5), borderDash: [2, 3], borderColor: "#7a8a7a", pointRadius: 0 });
  new window.Chart(canvas, {
    type: "line",
    data: { datasets },
    options: {
      animation: false,
      scales: {
        x: { type: "linear", min: Math.min(...span) - DAY, max: Math.max(...span) + DAY, ticks: { callback: (v) => new Date(v).toLocaleDateString() } },
        y: { min: 0, max: 27, title: { display: true, text: "total score" } },
      },
    },
  });
}
