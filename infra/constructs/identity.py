"""Staff sign-in: a Cognito user pool with one group per role. Patients never sign in;
they reach their surveys through single-use links."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from ..nag import accept

GROUPS = {
    "front-desk": "Books, reschedules, cancels, checks patients in",
    "clinician": "Records dosing and vitals, discharges, answers safety pages",
    "admin": "Configures the clinic: chairs, providers, opening hours",
}


class StaffIdentity(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, mfa_required: bool, retain: bool, site_url: str) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED if mfa_required else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Whose data a staff member reaches (api/auth.py reads them from the ID token): the
            # practice, and "*" or the clinic ids they work at. Set by staff management only.
            custom_attributes={
                "organization": cognito.StringAttribute(min_len=3, max_len=40, mutable=True),
                "clinics": cognito.StringAttribute(min_len=1, max_len=2048, mutable=True),
            },
            deletion_protection=retain,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        # The web client signs in with SRP (the password never leaves the browser) and refreshes;
        # signing out revokes the refresh token. Claims such as custom attributes are readable,
        # never writable by the signed-in user: only an admin sets them.
        self.client = self.user_pool.add_client(
            "WebClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            enable_token_revocation=True,
            # Reads every attribute (unset: custom ones added later reach the ID token too).
            write_attributes=cognito.ClientAttributes().with_standard_attributes(given_name=True, family_name=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[f"{site_url}/"],
                logout_urls=[f"{site_url}/"],
            ),
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
        )
        accept(
            self.user_pool,
            {
                "AwsSolutions-COG8": "The Plus feature plan (threat protection) is a per-user cost left to the "
                "operator; the pool has no self sign-up, requires TOTP MFA in production and a 12-character password.",
            },
        )
        for name, description in GROUPS.items():
            cognito.CfnUserPoolGroup(
                self, f"Group-{name}", user_pool_id=self.user_pool.user_pool_id, group_name=name, description=description
            )
