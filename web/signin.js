// The sign-in page's steps: username and password, then as Cognito asks a new password (first
// sign-in with a temporary one), TOTP set-up (secret and QR code) or the current TOTP code.
import qrcode from "/vendor/qrcode.mjs";
import { confirmMfaSetup, restore, sendMfaCode, setNewPassword, signIn, username } from "/web/session.js";

const STEPS = ["sign-in", "new-password", "mfa-setup", "mfa-code"];
const WRONG_CODE = "That code is not right. Enter the 6-digit code your authenticator app shows now.";
const MESSAGES = {
  NotAuthorizedException: "Wrong username or password.",
  UserNotFoundException: "Wrong username or password.",
  CodeMismatchException: WRONG_CODE,
  EnableSoftwareTokenMFAException: WRONG_CODE, // Cognito's answer to a wrong code while setting up
  ExpiredCodeException: "That code was already used. Wait for the next one.",
  PasswordResetRequiredException: "An administrator reset your password: ask them for a new temporary password.",
  TooManyRequestsException: "Too many attempts. Wait a few minutes, then try again.",
  LimitExceededException: "Too many attempts. Wait a few minutes, then try again.",
  PasswordsDiffer: "The two passwords differ.",
};
const $ = (id) => document.getElementById(id);
let finish;
const finished = new Promise((resolve) => { finish = resolve; });

/** Resolves once this tab is signed in: a session it already has, or the steps completed. */
export async function signedIn() {
  try {
    if (await restore()) finish();
    else show("sign-in");
  } catch (error) { // no /config.json, or the library did not load
    show("sign-in");
    $("sign-in").querySelector(".form-error").textContent = `Sign-in is unavailable: ${error.message}. Reload the page to try again.`;
  }
  return finished;
}

function show(step) {
  for (const id of STEPS) $(id).classList.toggle("hidden", id !== step);
  $(step).querySelector("input:not([readonly])")?.focus();
}

function message(error) {
  if (/session/i.test(error.message || "")) return "The sign-in took too long. Please sign in again.";
  if (/disabled/i.test(error.message || "")) return "Your account is disabled: ask your practice's admin.";
  if (/temporary password has expired/i.test(error.message || "")) return "Your temporary password has expired: ask an administrator for a new one.";
  if (error.code === "InvalidPasswordException") return `${error.message}.`;
  return MESSAGES[error.code] || error.message || "Sign-in failed. Please try again.";
}

function advance(step) {
  for (const id of STEPS) $(id).querySelectorAll('input[type="password"], input[name="code"]').forEach((input) => { input.value = ""; });
  if (step.next === "done") {
    for (const id of STEPS) $(id).classList.add("hidden");
    finish();
    return;
  }
  if (step.next === "mfa-setup") showSecret(step.secret);
  show(step.next);
}

function showSecret(secret) {
  const label = encodeURIComponent(`Clinic:${username()}`);
  const qr = qrcode(0, "M");
  qr.addData(`otpauth://totp/${label}?secret=${secret}&issuer=Clinic`);
  qr.make();
  $("mfa-qr").innerHTML = qr.createSvgTag({ cellSize: 4, margin: 8, alt: "QR code of the authenticator key" });
  $("mfa-secret").textContent = secret.match(/.{1,4}/g).join(" ");
}

function on(step, action) {
  const form = $(step);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    form.querySelector(".form-error").textContent = "";
    button.disabled = true;
    try {
      advance(await action(form));
    } catch (error) {
      const expired = step !== "sign-in" && /session/i.test(error.message || "");
      if (expired) show("sign-in");
      $(expired ? "sign-in" : step).querySelector(".form-error").textContent = message(error);
    } finally {
      button.disabled = false;
    }
  });
}

on("sign-in", (form) => {
  $("new-password").username.value = form.username.value.trim(); // for password managers to save the new one
  return signIn(form.username.value.trim(), form.password.value);
});
on("new-password", (form) => {
  if (form.password.value !== form.repeat.value) throw Object.assign(new Error("passwords differ"), { code: "PasswordsDiffer" });
  return setNewPassword(form.password.value);
});
on("mfa-setup", (form) => confirmMfaSetup(form.code.value.trim()));
on("mfa-code", (form) => sendMfaCode(form.code.value.trim()));
