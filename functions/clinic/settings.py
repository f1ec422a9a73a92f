"""What a Lambda needs from its environment, validated once at cold start.
Names and settings only: never PHI."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field

from .domain.rules import ClinicRules


class ServiceSettings(BaseModel):
    table_name: str = Field(min_length=3)
    state_machine_arn: str = Field(min_length=20)
    idempotency_table_name: str = ""  # the API's only
    user_pool_id: str = ""  # the API's only: staff management's Cognito calls
    email_sender: str | None = None
    patient_link_base_url: str = "http://localhost:8000/patient"
    clinic_rules: ClinicRules = Field(default_factory=ClinicRules)
    allowed_origin: str = "*"
    config_cache_seconds: float = Field(default=60, ge=0, le=3600)
    staff_standing_seconds: float = Field(default=30, ge=0, le=300)  # api/standing.py says why 30

    @classmethod
    def from_environment(cls) -> ServiceSettings:
        rules = os.environ.get("CLINIC_RULES")
        return cls(
            table_name=os.environ.get("TABLE_NAME", ""),
            state_machine_arn=os.environ.get("STATE_MACHINE_ARN", ""),
            idempotency_table_name=os.environ.get("IDEMPOTENCY_TABLE_NAME", ""),
            user_pool_id=os.environ.get("USER_POOL_ID", ""),
            email_sender=os.environ.get("EMAIL_SENDER") or None,
            patient_link_base_url=os.environ.get("PATIENT_LINK_BASE_URL", "http://localhost:8000/patient"),
            clinic_rules=ClinicRules.model_validate_json(rules) if rules else ClinicRules(),
            allowed_origin=os.environ.get("ALLOWED_ORIGIN", "*"),
            config_cache_seconds=float(os.environ.get("CONFIG_CACHE_SECONDS", "60")),
            staff_standing_seconds=float(os.environ.get("STAFF_STANDING_SECONDS", "30")),
        )


@cache
def settings() -> ServiceSettings:
    return ServiceSettings.from_environment()
