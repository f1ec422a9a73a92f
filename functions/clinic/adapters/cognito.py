"""Staff accounts in the Cognito user pool: the admin calls staff management makes, and
nothing else (the API's role may make exactly these, on this pool only: infra/constructs/api.py).

The role is the account's one role group; the organization and clinics are the custom
attributes the ID token carries (only these admin calls can write them)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..domain.errors import Conflict, InvalidRequest, TemporarilyUnavailable, UsernameTaken
from ..domain.staff import StaffMember
from ..domain.tenancy import clinics_text

ROLE_GROUPS = ("front-desk", "clinician", "admin")
# What a retry after a pause can cure: the caller gets 503 with Retry-After.
_TRANSIENT = frozenset({"TooManyRequestsException", "LimitExceededException", "InternalErrorException", "ThrottlingException"})


class CognitoAccounts:
    def __init__(self, client: Any, user_pool_id: str):
        self.client = client
        self.pool = user_pool_id

    def create(self, member: StaffMember, organization_id: str) -> None:
        """The account, with a temporary password Cognito emails to the member."""
        attributes = {
            "email": member.email,
            "email_verified": "true",  # the admin vouches for it; the password goes there
            "given_name": member.given_name,
            "family_name": member.family_name,
            "custom:organization": organization_id,
            "custom:clinics": clinics_text(_clinics(member)),
        }
        self._call(
            "admin_create_user",
            Username=member.username,
            UserAttributes=[{"Name": name, "Value": value} for name, value in attributes.items()],
            DesiredDeliveryMediums=["EMAIL"],
        )

    def organization_of(self, username: str) -> str | None:
        try:
            user = self._call("admin_get_user", Username=username)
        except ClientError as error:
            if error.response["Error"]["Code"] == "UserNotFoundException":
                return None
            raise
        return next((a["Value"] for a in user.get("UserAttributes", []) if a["Name"] == "custom:organization"), None)

    def set_access(self, member: StaffMember) -> None:
        """The member's one role group (out of any other role's) and clinics attribute."""
        self._call(
            "admin_update_user_attributes",
            Username=member.username,
            UserAttributes=[{"Name": "custom:clinics", "Value": clinics_text(_clinics(member))}],
        )
        for group in ROLE_GROUPS:
            if group != member.role:
                self._call("admin_remove_user_from_group", Username=member.username, GroupName=group)
        self._call("admin_add_user_to_group", Username=member.username, GroupName=member.role)

    def set_enabled(self, username: str, enabled: bool) -> None:
        self._call("admin_enable_user" if enabled else "admin_disable_user", Username=username)

    def sign_out(self, username: str) -> None:
        self._call("admin_user_global_sign_out", Username=username)

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, operation)(UserPoolId=self.pool, **kwargs)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "UsernameExistsException":
                raise UsernameTaken() from None
            if code == "AliasExistsException":  # staff sign in by email too: one account per address, pool-wide
                raise Conflict("email: another account already uses this address; use another") from None
            if code in _TRANSIENT:
                raise TemporarilyUnavailable("the sign-in service is busy; retry shortly") from error
            if code == "InvalidParameterException":  # its message may quote the value: not passed on
                raise InvalidRequest("email", "the sign-in service refused this address; check it") from None
            raise


def _clinics(member: StaffMember) -> frozenset[str] | None:
    return None if member.clinics is None else frozenset(member.clinics)
