"""The clinic stack: wires one construct per concern."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from .constructs.api import ClinicApi
from .constructs.data import ClinicData
from .constructs.encryption import ClinicKey
from .constructs.identity import StaffIdentity
from .constructs.monitoring import Operations
from .settings import StageSettings


class ClinicStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: StageSettings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        key = ClinicKey(self, "Encryption").key
        data = ClinicData(self, "Data", key=key)
        identity = StaffIdentity(self, "Identity", mfa_required=settings.mfa_required, production=settings.production)
        api = ClinicApi(
            self,
            "Api",
            settings=settings,
            key=key,
            table=data.table,
            idempotency_table=data.idempotency_table,
            user_pool=identity.user_pool,
        )
        Operations(self, "Operations", settings=settings, key=key, functions=[api.function], rest_api=api.rest_api)
        CfnOutput(self, "ApiUrl", value=api.rest_api.url)
        CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=identity.client.user_pool_client_id)
