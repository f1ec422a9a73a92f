"""Staff sign-in locally: the template's user pool and groups in moto's Cognito, demo
users, and the token checks API Gateway's Cognito authorizer makes (signature, expiry,
issuer, audience, token use), so the handler receives the same verified claims."""

from __future__ import annotations

import json
import secrets
import urllib.request
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .template import resources

DEMO_PASSWORD = "Demo-password-1!"


@dataclass(frozen=True)
class DemoUser:
    role: str
    organization: str
    clinics: str = "*"  # the custom:clinics attribute


# Two practices, so the local stack shows isolation: sign in as `other-desk` and nothing of
# the demo practice exists.
DEMO_USERS = {
    "frontdesk": DemoUser("front-desk", "demo-practice"),
    "clinician": DemoUser("clinician", "demo-practice"),
    "admin": DemoUser("admin", "demo-practice"),
    "other-desk": DemoUser("front-desk", "other-practice"),
    "other-admin": DemoUser("admin", "other-practice"),
}


class InvalidToken(Exception):
    pass


@dataclass
class StaffDirectory:
    cognito: Any
    user_pool_id: str
    client_id: str
    issuer: str
    keys: KeySet
    web_auth_flows: frozenset[str]  # the template's app client's, which the web client may use

    def sign_in(self, username: str, password: str) -> str:
        """An ID token for a password, with no MFA step: the tool behind `POST /local/sign-in`
        for curl and tests. The web client signs in with SRP and MFA (local/cognito.py)."""
        result = self.cognito.admin_initiate_auth(
            UserPoolId=self.user_pool_id,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return result["AuthenticationResult"]["IdToken"]

    def verify(self, token: str) -> dict[str, Any]:
        try:
            decoded = jwt.decode(token, self.keys, algorithms=["RS256"])
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                token_use={"essential": True, "value": "id"},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise InvalidToken(str(error)) from error
        return dict(decoded.claims)


@dataclass(frozen=True)
class UserPool:
    logical_id: str  # the template's
    user_pool_id: str
    client_id: str
    web_auth_flows: frozenset[str]  # the template's app client's, which the web client may use


def create_user_pool(template: dict[str, Any], cognito: Any) -> UserPool:
    """The template's user pool (custom attributes, password policy, MFA), its groups and its
    web app client (which locally also allows the admin password flow of `/local/sign-in`)."""
    generate_temporary_passwords()
    reuse_signing_key()
    ((logical_id, pool_resource),) = resources(template, "AWS::Cognito::UserPool").items()
    pool_props = pool_resource["Properties"]
    pool = cognito.create_user_pool(
        PoolName="local-staff",
        Schema=pool_props.get("Schema", []),
        Policies=pool_props["Policies"],
        AdminCreateUserConfig=pool_props["AdminCreateUserConfig"],
        MfaConfiguration=pool_props["MfaConfiguration"],
    )["UserPool"]
    if "SOFTWARE_TOKEN_MFA" in pool_props.get("EnabledMfas", []):  # moto reads no EnabledMfas at creation
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool["Id"],
            SoftwareTokenMfaConfiguration={"Enabled": True},
            MfaConfiguration=pool_props["MfaConfiguration"],
        )
    client_props = next(iter(resources(template, "AWS::Cognito::UserPoolClient").values()))["Properties"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="local-web",
        ExplicitAuthFlows=client_props.get("ExplicitAuthFlows", []) + ["ALLOW_ADMIN_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]
    for group in resources(template, "AWS::Cognito::UserPoolGroup").values():
        cognito.create_group(UserPoolId=pool["Id"], GroupName=group["Properties"]["GroupName"])
    return UserPool(logical_id, pool["Id"], client["ClientId"], frozenset(client_props.get("ExplicitAuthFlows", [])))


def create_directory(pool: UserPool, cognito: Any, endpoint: str, users: bool = True) -> StaffDirectory:
    """Token checks on the pool, as API Gateway's authorizer makes them, and the demo users."""
    if users:
        for username, user in DEMO_USERS.items():
            add_user(cognito, pool.user_pool_id, username, user, DEMO_PASSWORD)
    with urllib.request.urlopen(f"{endpoint}/{pool.user_pool_id}/.well-known/jwks.json") as response:
        keys = KeySet.import_key_set(json.load(response))
    issuer = f"https://cognito-idp.{cognito.meta.region_name}.amazonaws.com/{pool.user_pool_id}"
    return StaffDirectory(cognito, pool.user_pool_id, pool.client_id, issuer, keys, pool.web_auth_flows)


def add_user(cognito: Any, user_pool_id: str, username: str, user: DemoUser, password: str) -> None:
    attributes = [
        {"Name": "custom:organization", "Value": user.organization},
        {"Name": "custom:clinics", "Value": user.clinics},
    ]
    cognito.admin_create_user(UserPoolId=user_pool_id, Username=username, UserAttributes=attributes, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=user_pool_id, Username=username, Password=password, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=user_pool_id, Username=username, GroupName=user.role)


def generate_temporary_passwords() -> None:
    """moto's AdminCreateUser without a TemporaryPassword leaves the user without one; Cognito
    makes one that meets the pool's policy and emails it. Locally it is made the same way and
    kept on the user, where a test reads it as the member would read their email."""
    from moto.cognitoidp.models import CognitoIdpBackend

    original = CognitoIdpBackend.admin_create_user
    if getattr(original, "generates_passwords", False):
        return

    def admin_create_user(self: Any, user_pool_id: str, username: str, message_action: str, temporary_password: str, attributes: Any) -> Any:
        if not temporary_password and message_action != "RESEND":
            temporary_password = f"Tmp-{secrets.token_urlsafe(9)}-{secrets.randbelow(10)}a"
        return original(self, user_pool_id, username, message_action, temporary_password, attributes)

    admin_create_user.generates_passwords = True  # type: ignore[attr-defined]
    CognitoIdpBackend.admin_create_user = admin_create_user


def reuse_signing_key() -> None:
    """moto signs every pool's tokens with one bundled key, and derives it again from its JSON
    for each pool it creates (0.1 s of RSA arithmetic): the tests create hundreds of pools."""
    from types import SimpleNamespace

    from moto.cognitoidp import models

    if isinstance(models.jwk, SimpleNamespace):
        return
    key = models.jwk.RSAKey.import_key(models.load_resource("cognitoidp/resources/jwks-private.json"))
    models.jwk = SimpleNamespace(RSAKey=SimpleNamespace(import_key=lambda _bundled: key))


def temporary_password(user_pool_id: str, username: str) -> str:
    """What Cognito's invitation email tells the member: their temporary password (moto's)."""
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    backend = cognitoidp_backends[DEFAULT_ACCOUNT_ID][user_pool_id.split("_", 1)[0]]
    return backend.admin_get_user(user_pool_id, username).password
