"""Operator settings, read from cdk.json context (override with `-c key=value`).

Every clinic rule has a default here or in ClinicRules; synth fails with a clear message
when a setting is invalid, before anything reaches AWS."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from constructs import Construct

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "functions"))
from clinic.domain.escalations import LEVELS
from clinic.domain.rules import ClinicRules

STAGES = ("dev", "prod")


@dataclass(frozen=True)
class StageSettings:
    stage: str
    clinic_rules: ClinicRules
    allowed_origin: str | None  # None: the hosted site's own origin (the stack fills it in)
    mfa_required: bool
    api_rate_limit: int
    api_burst_limit: int
    public_rate_limit: int
    public_burst_limit: int
    public_requests_per_ip: int
    # None (the default): no reservation. Lambda keeps 10 of the account's concurrency unreserved,
    # so a reservation fails to deploy until the account's quota is above 10 plus every reservation.
    api_reserved_concurrency: int | None
    workflow_reserved_concurrency: int | None
    log_retention_days: int
    alarm_email: str | None
    api_latency_p99_ms: int
    patient_link_base_url: str | None  # None: the hosted site's /patient
    email_sender: str | None
    config_cache_seconds: int
    # Per stage (see `stages` in cdk.json): what a deleted stack keeps, how loud alarms are, the API's name.
    retain_data: bool = True
    error_alarm_threshold: int = 1
    api_domain_name: str | None = None
    api_certificate_arn: str | None = None
    site_domain_name: str | None = None
    site_certificate_arn: str | None = None

    @property
    def escalation_pages(self) -> int:
        """Pages before an unacknowledged escalation is handed off: `escalationRounds` of the whole chain."""
        return self.clinic_rules.care.escalation_rounds * len(LEVELS)


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

    allowed_origin = _site_url(stage, "allowedOrigin", setting("allowedOrigin", None))
    patient_link_base_url = _site_url(stage, "patientLinkBaseUrl", setting("patientLinkBaseUrl", None))
    return StageSettings(
        stage=stage,
        clinic_rules=ClinicRules.model_validate(setting("clinicRules", {})),
        allowed_origin=allowed_origin,
        mfa_required=bool(setting("mfaRequired", True)),
        api_rate_limit=int(setting("apiRateLimit", 50)),
        api_burst_limit=int(setting("apiBurstLimit", 100)),
        public_rate_limit=int(setting("publicRateLimit", 50)),
        public_burst_limit=int(setting("publicBurstLimit", 100)),
        public_requests_per_ip=int(setting("publicRequestsPerIp", 100)),
        api_reserved_concurrency=_optional_count("apiReservedConcurrency", setting("apiReservedConcurrency", None)),
        workflow_reserved_concurrency=_optional_count(
            "workflowReservedConcurrency", setting("workflowReservedConcurrency", None)
        ),
        log_retention_days=int(setting("logRetentionDays", 365)),
        alarm_email=setting("alarmEmail", None),
        api_latency_p99_ms=int(setting("apiLatencyP99Ms", 3000)),
        patient_link_base_url=patient_link_base_url,
        email_sender=setting("emailSender", None),
        config_cache_seconds=int(setting("configCacheSeconds", 60)),
        retain_data=_flag("retainData", setting("retainData", True)),
        error_alarm_threshold=_at_least_one("errorAlarmThreshold", setting("errorAlarmThreshold", 1)),
        **_domain("api", setting("apiDomainName", None), setting("apiCertificateArn", None)),
        # CloudFront takes certificates from us-east-1 only, whatever the stack's region.
        **_domain("site", setting("siteDomainName", None), setting("siteCertificateArn", None), region="us-east-1"),
    )


def _flag(key: str, value: Any) -> bool:
    # `-c retainData=false` arrives as the JSON false; a typo must not silently delete data.
    if not isinstance(value, bool):
        raise TypeError(f"context {key!r} must be true or false, got {value!r}")
    return value


def _at_least_one(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"context {key!r} must be a whole number of at least 1, got {value!r}")
    return value


def _optional_count(key: str, value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit():  # `-c key=20` arrives as text
        value = int(value)
    return None if value is None else _at_least_one(key, value)


def _site_url(stage: str, key: str, value: str | None) -> str | None:
    """Production links and origins must reach patients and staff: never this machine."""
    if value is None or stage != "prod":
        return value
    host = urlsplit(str(value)).hostname or ""
    if urlsplit(str(value)).scheme != "https" or host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost"):
        raise ValueError(
            f"context {key!r} must be an https URL that patients and staff can reach in prod, got {value!r} "
            "(leave it unset for the hosted site's own domain)"
        )
    return value


def _domain(kind: str, domain_name: str | None, certificate_arn: str | None, region: str = "") -> dict[str, str | None]:
    """A custom domain (`apiDomainName`, `siteDomainName`) needs its ACM certificate, and only then."""
    name_key, certificate_key = f"{kind}DomainName", f"{kind}CertificateArn"
    if bool(domain_name) != bool(certificate_arn):
        raise ValueError(f"context {name_key!r} and {certificate_key!r} go together: set both or neither")
    arn = str(certificate_arn or "")
    if certificate_arn and not (arn.startswith("arn:") and f":acm:{region}" in arn):
        where = f" in {region}" if region else ""
        raise ValueError(f"context {certificate_key!r} must be an ACM certificate ARN{where}, got {certificate_arn!r}")
    return {f"{kind}_domain_name": domain_name or None, f"{kind}_certificate_arn": certificate_arn or None}
