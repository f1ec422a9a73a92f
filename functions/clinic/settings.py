"""What a Lambda needs from its environment, validated once at cold start.
Names and settings only: never PHI."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field

from .domain.rules import ClinicRules


class ServiceSettings(BaseModel):
    table_name: str = Field(min_length=3)
    idempotency_table_name: str = Field(min_length=3)
    clinic_rules: ClinicRules = Field(default_factory=ClinicRules)
    allowed_origin: str = "*"

    @classmethod
    def from_environment(cls) -> ServiceSettings:
        rules = os.environ.get("CLINIC_RULES")
        return cls(
            table_name=os.environ.get("TABLE_NAME", ""),
            idempotency_table_name=os.environ.get("IDEMPOTENCY_TABLE_NAME", ""),
            clinic_rules=ClinicRules.model_validate_json(rules) if rules else ClinicRules(),
            allowed_origin=os.environ.get("ALLOWED_ORIGIN", "*"),
        )


@cache
def settings() -> ServiceSettings:
    return ServiceSettings.from_environment()
