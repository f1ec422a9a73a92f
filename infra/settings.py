"""Operator settings, read from cdk.json context (override with `-c key=value`).

Every clinic rule has a default here or in ClinicRules; synth fails with a clear message
when a setting is invalid, before anything reaches AWS."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs import Construct

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "functions"))
from clinic.domain.rules import ClinicRules

STAGES = ("dev", "prod")


@dataclass(frozen=True)
class StageSettings:
    stage: str
    clinic_rules: ClinicRules
    allowed_origin: str
    mfa_required: bool
    api_rate_limit: int
    api_burst_limit: int
    public_rate_limit: int
    public_burst_limit: int
    public_requests_per_ip: int
    api_reserved_concurrency: int
    workflow_reserved_concurrency: int
    log_retention_days: int
    alarm_email: str | None
    api_latency_p99_ms: int
    patient_link_base_url: str
    clinician_alert_emails: list[str]
    email_sender: str | None
    config_cache_seconds: int

    @property
    def production(self) -> bool:
        return self.stage == "prod"


def _context(scope: Construct, key: str, default: Any) -> Any:
    value = scope.node.try_get_context(key)
    if value is None:
        return default
    # `-c key=value` on the command line arrives as a string; cdk.json values keep their type.
    if isinstance(value, str) and isinstance(default, (dict, list, bool, int)) and not isinstance(default, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def load(scope: Construct) -> StageSettings:
    stage = _context(scope, "stage", "dev")
    if stage not in STAGES:
        raise ValueError(f"context 'stage' must be one of {STAGES}, got {stage!r}")
    per_stage = _context(scope, "stages", {}).get(stage, {})

    def setting(key: str, default: Any) -> Any:
        return per_stage.get(key, _context(scope, key, default))

    return StageSettings(
        stage=stage,
        clinic_rules=ClinicRules.model_validate(setting("clinicRules", {})),
        allowed_origin=setting("allowedOrigin", "http://localhost:8000"),
        mfa_required=bool(setting("mfaRequired", True)),
        api_rate_limit=int(setting("apiRateLimit", 50)),
        api_burst_limit=int(setting("apiBurstLimit", 100)),
        public_rate_limit=int(setting("publicRateLimit", 5)),
        public_burst_limit=int(setting("publicBurstLimit", 10)),
        public_requests_per_ip=int(setting("publicRequestsPerIp", 100)),
        api_reserved_concurrency=int(setting("apiReservedConcurrency", 20)),
        workflow_reserved_concurrency=int(setting("workflowReservedConcurrency", 10)),
        log_retention_days=int(setting("logRetentionDays", 365)),
        alarm_email=setting("alarmEmail", None),
        api_latency_p99_ms=int(setting("apiLatencyP99Ms", 3000)),
        patient_link_base_url=setting("patientLinkBaseUrl", "http://localhost:8000/patient"),
        clinician_alert_emails=list(setting("clinicianAlertEmails", [])),
        email_sender=setting("emailSender", None),
        config_cache_seconds=int(setting("configCacheSeconds", 60)),
    )
