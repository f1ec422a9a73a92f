// The practice admin's staff page: the list, inviting a member, changing a member's role and
// clinics, disabling and enabling. The API enforces every rule; errors show by their field.
import { ApiError, call, clearErrors, el, showErrors } from "/web/api.js";

const $ = (selector) => document.querySelector(selector);
const ROLES = { "front-desk": "Front desk", clinician: "Clinician", admin: "Admin" };
const clinicsField = (text) => (text.trim() === "*" ? ["*"] : text.split(",").map((id) => id.trim()).filter(Boolean));
const clinicsText = (clinics) => (clinics[0] === "*" ? "every clinic" : clinics.join(", "));

let signedIn = "";

// `username`: the admin's own, whose row offers no disabling (the API refuses it too).
export async function showStaff(clinicId, username) {
  signedIn = username;
  $("#staff-card").classList.remove("hidden");
  $("#invite-clinics").value = clinicId;
  $("#staff-invite").addEventListener("submit", invite);
  $("#staff-access").addEventListener("submit", saveAccess);
  $("#staff-access-cancel").addEventListener("click", () => $("#staff-access").classList.add("hidden"));
  await renderStaff();
}

async function renderStaff() {
  const { staff } = await call("GET", "/staff");
  $("#staff-list").replaceChildren(...staff.map((member) => el("tr", { "data-username": member.username },
    el("td", {}, member.username === signedIn ? `${member.username} (you)` : member.username),
    el("td", {}, `${member.givenName} ${member.familyName}`),
    el("td", {}, ROLES[member.role]),
    el("td", {}, clinicsText(member.clinics)),
    el("td", {}, member.status === "active" ? "Active" : "Disabled"),
    el("td", {},
      el("button", { type: "button", "aria-label": `Change access of ${member.username}`, onclick: () => editAccess(member) }, "Change"),
      member.username === signedIn ? null : member.status === "active"
        ? el("button", { type: "button", class: "danger", "aria-label": `Disable ${member.username}`, onclick: () => setStatus(member, "disable") }, "Disable")
        : el("button", { type: "button", "aria-label": `Enable ${member.username}`, onclick: () => setStatus(member, "enable") }, "Enable")))));
}

function say(text) { $("#staff-notice").textContent = text; }

async function invite(event) {
  event.preventDefault();
  const form = event.target;
  clearErrors(form);
  // Named member* on the page: the booking card's fields have the plain names.
  const body = { username: form.memberUsername.value.trim(), email: form.memberEmail.value.trim(), givenName: form.memberGivenName.value.trim(),
    familyName: form.memberFamilyName.value.trim(), role: form.memberRole.value, clinics: clinicsField(form.memberClinics.value) };
  try {
    const member = await call("POST", "/staff", body, { idempotent: true });
    ["memberUsername", "memberEmail", "memberGivenName", "memberFamilyName"].forEach((name) => { form[name].value = ""; });
    say(`Invited ${member.username}: Cognito emailed them a temporary password.`);
    await renderStaff();
  } catch (error) {
    if (error instanceof ApiError) showErrors(form, error); else throw error;
  }
}

function editAccess(member) {
  const form = $("#staff-access");
  clearErrors(form);
  form.memberUsername.value = member.username;
  form.memberRole.value = member.role;
  form.memberClinics.value = member.clinics.join(", ");
  $("#staff-access-title").textContent = `Change access of ${member.username}`;
  form.classList.remove("hidden");
  form.memberRole.focus();
}

async function saveAccess(event) {
  event.preventDefault();
  const form = event.target;
  clearErrors(form);
  try {
    const member = await call("PUT", `/staff/${encodeURIComponent(form.memberUsername.value)}`, { role: form.memberRole.value, clinics: clinicsField(form.memberClinics.value) });
    form.classList.add("hidden");
    say(`${member.username} is now ${ROLES[member.role]} at ${clinicsText(member.clinics)}.`);
    await renderStaff();
  } catch (error) {
    if (error instanceof ApiError) showErrors(form, error); else throw error;
  }
}

async function setStatus(member, action) {
  try {
    const changed = await call("POST", `/staff/${encodeURIComponent(member.username)}/${action}`);
    say(`${changed.username} is ${changed.status === "active" ? "enabled: they may sign in again" : "disabled: they cannot sign in"}.`);
    await renderStaff();
  } catch (error) {
    if (error instanceof ApiError) say(error.message); else throw error;
  }
}
