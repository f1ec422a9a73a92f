// The clinic API from the browser: the signed-in staff token, JSON, and errors that keep
// the API's field names so a form can show each next to its field.
import { config } from "/web/config.js";
import { freshIdToken, idToken, signOut as endSession } from "/web/session.js";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `request failed (${status})`);
    this.status = status;
    this.code = body?.code;
    this.fields = body?.fields || [];
    this.duplicates = body?.duplicates || []; // a registration's possible duplicates (409 possible_duplicate)
  }
}

export const token = idToken;
export async function signOut() { await endSession(); location.reload(); }

export function claims() {
  const raw = token();
  if (!raw) return null;
  try { return JSON.parse(atob(raw.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))); } catch { return null; }
}

export function roles() {
  const groups = claims()?.["cognito:groups"] || [];
  return Array.isArray(groups) ? groups : String(groups).split(/[ ,]+/);
}

export async function call(method, path, body, { idempotent = false, anonymous = false } = {}) {
  const headers = { "Content-Type": "application/json" };
  const bearer = anonymous ? null : await freshIdToken().catch(() => null); // none (or refresh refused): the API answers 401
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (idempotent) headers["Idempotency-Key"] = crypto.randomUUID();
  const api = (await config()).apiUrl.replace(/\/$/, "");
  const reply = await fetch(`${api}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = reply.status === 204 ? null : await reply.json().catch(() => null);
  if (!reply.ok) throw new ApiError(reply.status, payload);
  return payload;
}

// Shows an ApiError on a form: each field's problem under the input named like it, the rest on top.
export function showErrors(form, error) {
  form.querySelectorAll(".field-error").forEach((el) => (el.textContent = ""));
  const top = form.querySelector(".form-error");
  const unplaced = [];
  for (const { field, problem } of error.fields || []) {
    const slot = form.querySelector(`.field-error[data-for="${field}"]`) || form.querySelector(`.field-error[data-for="${field.split(".")[0]}"]`);
    if (slot) slot.textContent = problem; else unplaced.push(`${field}: ${problem}`);
  }
  // The message names every field already; it is shown when some field has no place on the form.
  if (top) top.textContent = error.fields?.length && !unplaced.length ? "" : error.message;
}

export function clearErrors(form) {
  form.querySelectorAll(".field-error, .form-error").forEach((el) => (el.textContent = ""));
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

export function localTime(iso, zone) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZone: zone });
}
