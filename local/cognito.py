"""The web client's Cognito calls, locally. The browser runs the same sign-in code as
deployed (amazon-cognito-identity-js: SRP, new password, TOTP set-up and challenge,
refresh, revocation) against moto's Cognito, through this proxy on the local server.

Why a proxy on the page's own origin rather than CORS to moto's port: moto's port is
chosen at start, and the proxy lets through only the calls a signed-out browser may make
(moto checks no request signature, so Admin* calls reaching it from a page would create
users). It also fills in what moto 5.2.5 leaves out, so that a wrong password fails
locally as it does on AWS:
- moto answers USER_SRP_AUTH with random SALT and SRP_B and never checks the client's
  proof. Here the server half of Cognito's SRP (3072-bit group, HKDF "Caldera Derived
  Key") is computed from the password moto stores, and a wrong proof is refused.
- moto names the user by its sub in USER_ID_FOR_SRP (Cognito uses the username, and moto
  then looks the sub up as a username and fails), and omits the NEW_PASSWORD_REQUIRED
  challenge's userAttributes, which the library parses.
- moto answers a challenge for whichever USERNAME the response names; Cognito binds the
  session to its user.
- moto has no RevokeToken, and lets any auth flow through, even one the app client does
  not allow (USER_PASSWORD_AUTH would send the password itself).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .identity import StaffDirectory

# What a browser that is not signed in calls (RevokeToken needs only the refresh token).
USER_OPERATIONS = frozenset(
    {"InitiateAuth", "RespondToAuthChallenge", "AssociateSoftwareToken", "VerifySoftwareToken", "RevokeToken"}
)
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
CHALLENGE_SECONDS = 180  # Cognito's sign-in sessions last three minutes

# RFC 5054's 3072-bit group, as Cognito and amazon-cognito-identity-js use it.
N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
G = 2


def _pad_hex(value: int) -> str:
    """The big-endian hex of a positive number, with a leading 00 when its top bit is set."""
    digits = format(value, "x")
    digits = "0" + digits if len(digits) % 2 else digits
    return "00" + digits if digits[0] in "89abcdef" else digits


def _hex_hash(hex_digits: str) -> str:
    return hashlib.sha256(bytes.fromhex(hex_digits)).hexdigest()


K = int(_hex_hash(_pad_hex(N) + _pad_hex(G)), 16)


@dataclass
class PasswordChallenge:
    """The server's half of one SRP exchange, kept until the client answers."""

    moto_session: str
    pool_name: str
    user_id: str
    srp_a: int
    salt: int
    verifier: int
    b: int
    srp_b: int
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def start(cls, moto_session: str, pool_name: str, user_id: str, password: str, srp_a: int) -> PasswordChallenge:
        salt = int.from_bytes(secrets.token_bytes(16), "big")
        identity = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).hexdigest()
        verifier = pow(G, int(_hex_hash(_pad_hex(salt) + identity), 16), N)
        b = int.from_bytes(secrets.token_bytes(128), "big")
        srp_b = (K * verifier + pow(G, b, N)) % N
        return cls(moto_session, pool_name, user_id, srp_a, salt, verifier, b, srp_b)

    def expected_signature(self, secret_block: str, timestamp: str) -> str:
        u = int(_hex_hash(_pad_hex(self.srp_a) + _pad_hex(self.srp_b)), 16)
        shared = pow(self.srp_a * pow(self.verifier, u, N), self.b, N)
        prk = hmac.new(bytes.fromhex(_pad_hex(u)), bytes.fromhex(_pad_hex(shared)), hashlib.sha256).digest()
        key = hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]
        message = self.pool_name.encode() + self.user_id.encode() + base64.b64decode(secret_block) + timestamp.encode()
        return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


class CognitoError(Exception):
    def __init__(self, kind: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


class CognitoProxy:
    def __init__(self, endpoint: str, directory: StaffDirectory) -> None:
        self.endpoint = endpoint
        self.user_pool_id = directory.user_pool_id
        self.client_id = directory.client_id
        self.auth_flows = directory.web_auth_flows
        self._challenges: dict[str, PasswordChallenge] = {}  # by the SECRET_BLOCK the client was given

    def handle(self, target: str, body: str | None) -> tuple[int, dict[str, str], str]:
        """One call of the browser's Cognito client: its status, headers and JSON body."""
        operation = target.removeprefix(TARGET_PREFIX)
        try:
            if not target.startswith(TARGET_PREFIX) or operation not in USER_OPERATIONS:
                raise CognitoError("AccessDeniedException", f"{operation or 'this call'} is not open to the web client")
            request = json.loads(body or "{}")
            if not isinstance(request, dict):
                raise CognitoError("InvalidParameterException", "the request body must be a JSON object")
            reply = getattr(self, f"_{operation}")(request)
        except CognitoError as error:
            return error.status, {}, json.dumps({"__type": error.kind, "message": error.message})
        except json.JSONDecodeError:
            return 400, {}, json.dumps({"__type": "SerializationException", "message": "the request body is not JSON"})
        return 200, {}, json.dumps(reply)

    def _forward(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        call = urllib.request.Request(
            self.endpoint,
            data=json.dumps(request).encode(),
            method="POST",
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET_PREFIX + operation},
        )
        try:
            with urllib.request.urlopen(call) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            answer = json.loads(error.read() or b"{}")
            kind = str(answer.get("__type", "InternalErrorException")).split("#")[-1]
            raise CognitoError(kind, answer.get("message") or answer.get("Message") or kind, error.code) from error

    def _InitiateAuth(self, request: dict[str, Any]) -> dict[str, Any]:
        if f"ALLOW_{request.get('AuthFlow')}" not in self.auth_flows:
            raise CognitoError("InvalidParameterException", f"{request.get('AuthFlow')} flow not enabled for this client")
        reply = self._forward("InitiateAuth", request)
        if request.get("AuthFlow") != "USER_SRP_AUTH" or reply.get("ChallengeName") != "PASSWORD_VERIFIER":
            return reply
        parameters = reply["ChallengeParameters"]
        user = self._user(parameters["USERNAME"])
        try:
            srp_a = int(request["AuthParameters"]["SRP_A"], 16)
        except (KeyError, TypeError, ValueError) as error:
            raise CognitoError("InvalidParameterException", "SRP_A must be a hex number") from error
        if srp_a % N == 0:
            raise CognitoError("InvalidParameterException", "SRP_A must not be a multiple of N")
        pool_name = self.user_pool_id.split("_", 1)[1]
        challenge = PasswordChallenge.start(reply["Session"], pool_name, user.username, user.password or "", srp_a)
        secret_block = base64.b64encode(secrets.token_bytes(64)).decode()
        now = time.monotonic()
        for stale in [key for key, c in self._challenges.items() if now - c.started > CHALLENGE_SECONDS]:
            self._challenges.pop(stale, None)
        self._challenges[secret_block] = challenge
        parameters.update(
            SALT=format(challenge.salt, "x"),
            SRP_B=format(challenge.srp_b, "x"),
            SECRET_BLOCK=secret_block,
            USER_ID_FOR_SRP=user.username,
        )
        return reply

    def _RespondToAuthChallenge(self, request: dict[str, Any]) -> dict[str, Any]:
        answers = request.get("ChallengeResponses") or {}
        if request.get("ChallengeName") == "PASSWORD_VERIFIER":
            challenge = self._challenges.pop(str(answers.get("PASSWORD_CLAIM_SECRET_BLOCK")), None)
            if challenge is None or time.monotonic() - challenge.started > CHALLENGE_SECONDS:
                raise CognitoError("NotAuthorizedException", "Invalid session for the user, session is expired.")
            expected = challenge.expected_signature(answers["PASSWORD_CLAIM_SECRET_BLOCK"], str(answers.get("TIMESTAMP")))
            if answers.get("USERNAME") != challenge.user_id or not hmac.compare_digest(
                expected, str(answers.get("PASSWORD_CLAIM_SIGNATURE"))
            ):
                raise CognitoError("NotAuthorizedException", "Incorrect username or password.")
            answers["PASSWORD_CLAIM_SECRET_BLOCK"] = challenge.moto_session  # moto's name for the session
        else:
            self._check_session_user(str(request.get("Session")), str(answers.get("USERNAME")))
        reply = self._forward("RespondToAuthChallenge", request)
        if reply.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            user = self._user(reply["ChallengeParameters"]["USERNAME"])
            attributes = {a["Name"]: a["Value"] for a in user.attributes if a["Name"] != "sub"}
            reply["ChallengeParameters"].update(userAttributes=json.dumps(attributes), requiredAttributes="[]")
        return reply

    def _AssociateSoftwareToken(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._forward("AssociateSoftwareToken", request)

    def _VerifySoftwareToken(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._forward("VerifySoftwareToken", request)

    def _RevokeToken(self, request: dict[str, Any]) -> dict[str, Any]:
        """Revokes a refresh token and the access tokens issued with it, as Cognito does."""
        if request.get("ClientId") != self.client_id:
            raise CognitoError("UnauthorizedException", "the token was not issued to this client")
        pool = self._backend().user_pools[self.user_pool_id]
        issued = pool.refresh_tokens.get(str(request.get("Token")))
        if issued is not None:
            pool.refresh_tokens[str(request["Token"])] = None  # moto's mark of a revoked token
            for token in list(pool.access_tokens):
                if _claims(token).get("origin_jti") == issued[2]:
                    pool.access_tokens.pop(token, None)
        return {}

    def _check_session_user(self, session: str, username: str) -> None:
        started = self._backend().sessions.get(session)
        if started is None:
            return  # moto answers an unknown session itself
        if self._user(started[0]).username != self._user(username).username:
            raise CognitoError("NotAuthorizedException", "Invalid session for the user.")

    def _user(self, username: str) -> Any:
        try:
            return self._backend().admin_get_user(self.user_pool_id, username)
        except Exception as error:  # noqa: BLE001 - moto's UserNotFoundError; answered as Cognito would
            raise CognitoError("NotAuthorizedException", "Incorrect username or password.") from error

    def _backend(self) -> Any:
        from moto.cognitoidp.models import cognitoidp_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        return cognitoidp_backends[DEFAULT_ACCOUNT_ID][self.user_pool_id.split("_", 1)[0]]


def _claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
