// The signed-in staff member's Cognito session, the same code locally and deployed: SRP
// sign-in with amazon-cognito-identity-js (the password never leaves the browser; only the
// SRP proof does), the first sign-in's new password, TOTP set-up and the MFA challenge,
// tokens refreshed before they expire, and sign-out that revokes the refresh token.
// Tokens live in this tab's sessionStorage: closing the tab signs out.
import { config } from "/web/config.js";

const REFRESH_MARGIN_SECONDS = 300; // refresh when the ID token has less than this left
let pool = null;
let user = null; // the CognitoUser being signed in, then signed in
let session = null; // its CognitoUserSession once signed in
let refreshing = null;

async function cognitoPool() {
  if (!pool) {
    const { userPoolId, userPoolClientId, cognitoEndpoint } = await config();
    pool = new window.AmazonCognitoIdentity.CognitoUserPool({
      UserPoolId: userPoolId, ClientId: userPoolClientId, Storage: window.sessionStorage,
      endpoint: cognitoEndpoint || undefined, // set locally only; deployed, the library's regional endpoint
    });
  }
  return pool;
}

function adopt(signedIn) {
  session = signedIn;
  // The API explorer (docs.html) reads the ID token under this name.
  sessionStorage.setItem("idToken", session.getIdToken().getJwtToken());
}

export function idToken() {
  return session ? session.getIdToken().getJwtToken() : null;
}

/** The session this tab already has (refreshed if it expired), or null. */
export async function restore() {
  const current = (await cognitoPool()).getCurrentUser();
  if (!current) return null;
  return new Promise((resolve) => current.getSession((error, restored) => {
    if (error || !restored?.isValid()) { current.signOut(); resolve(null); return; }
    user = current;
    adopt(restored);
    resolve(restored);
  }));
}

// Each step of the sign-in resolves with what comes next: {next: "done" | "new-password" |
// "mfa-setup" (with the TOTP secret) | "mfa-code"}, or rejects with Cognito's error.
function step(action) {
  return new Promise((resolve, reject) => action({
    onSuccess: (signedIn) => { adopt(signedIn); resolve({ next: "done" }); },
    onFailure: reject,
    newPasswordRequired: () => resolve({ next: "new-password" }),
    mfaSetup: () => user.associateSoftwareToken({
      associateSecretCode: (secret) => resolve({ next: "mfa-setup", secret }),
      onFailure: reject,
    }),
    totpRequired: () => resolve({ next: "mfa-code" }),
    mfaRequired: () => reject(Object.assign(new Error("Text-message codes are not offered."), { code: "SmsMfaNotOffered" })),
  }));
}

export async function signIn(username, password) {
  const { CognitoUser, AuthenticationDetails } = window.AmazonCognitoIdentity;
  user = new CognitoUser({ Username: username, Pool: await cognitoPool(), Storage: window.sessionStorage });
  user.setAuthenticationFlowType("USER_SRP_AUTH");
  return step((callbacks) => user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), callbacks));
}

export const setNewPassword = (password) => step((callbacks) => user.completeNewPasswordChallenge(password, {}, callbacks));
export const confirmMfaSetup = (code) => step((callbacks) => user.verifySoftwareToken(code, "Authenticator app", callbacks));
export const sendMfaCode = (code) => step((callbacks) => user.sendMFACode(code, callbacks, "SOFTWARE_TOKEN_MFA"));
export const username = () => user?.getUsername();

/** The ID token for an API call, refreshed first when it is about to expire. */
export async function freshIdToken() {
  if (!session) return null;
  const now = Math.floor(Date.now() / 1000) - session.getClockDrift();
  if (session.getIdToken().getExpiration() - now > REFRESH_MARGIN_SECONDS) return idToken();
  refreshing ||= new Promise((resolve, reject) => user.refreshSession(session.getRefreshToken(), (error, renewed) => {
    refreshing = null;
    if (error) { reject(error); return; }
    adopt(renewed);
    resolve();
  }));
  await refreshing;
  return idToken();
}

/** Revokes the refresh token (and the access tokens issued with it), then forgets the session. */
export async function signOut() {
  if (user) await new Promise((resolve) => user.signOut(resolve)); // the library clears its storage even if revoking fails
  session = null;
  user = null;
  sessionStorage.clear();
}
