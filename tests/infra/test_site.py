"""The hosted web client: a private bucket behind CloudFront, security headers, the same page
paths as the local server, the runtime configuration, and the sign-in client it talks to."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from infra.settings import load
from local.server import PAGES as LOCAL_PAGES
from local.server import VENDOR as LOCAL_VENDOR
from local.template import resources
from tests.infra.conftest import CONTEXT, SITE, SITE_CERTIFICATE

ROOT = Path(__file__).resolve().parents[2]


def _one(template: dict[str, Any], kind: str) -> dict[str, Any]:
    (resource,) = resources(template, kind).values()
    return resource["Properties"]


def _route(template: dict[str, Any], uris: list[str]) -> list[str]:
    """Runs the deployed CloudFront Function's code in Node on each request path."""
    code = _one(template, "AWS::CloudFront::Function")["FunctionCode"]
    script = code + f"console.log(JSON.stringify({json.dumps(uris)}.map(u => handler({{request: {{uri: u}}}}).uri)));"
    return json.loads(subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout)


def test_the_bucket_is_private_and_only_this_distribution_reads_it(prod) -> None:
    bucket = _one(prod, "AWS::S3::Bucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True
    }
    statements = _one(prod, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    (read,) = [s for s in statements if s["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and read["Action"] == "s3:GetObject"
    distribution_id = next(iter(resources(prod, "AWS::CloudFront::Distribution")))
    assert {"Ref": distribution_id} in read["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Join"][1]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)
    config = _one(prod, "AWS::CloudFront::Distribution")["DistributionConfig"]
    (origin,) = config["Origins"]
    assert "OriginAccessControlId" in origin and origin["S3OriginConfig"].get("OriginAccessIdentity", "") == ""
    assert _one(prod, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["Aliases"] == [SITE] and config["ViewerCertificate"]["AcmCertificateArn"] == SITE_CERTIFICATE
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"


def test_every_reply_carries_csp_hsts_no_framing_and_no_referrer(prod) -> None:
    policy = _one(prod, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    headers = policy["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True, "Preload": True, "Override": True
    }
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
    assert headers["ContentTypeOptions"] == {"Override": True}
    csp = json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"):
        assert directive in csp, directive
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0] and "unsafe-eval" not in csp
    assert '"Ref": "ApiRestApi' in csp and "https://api.example-clinic.com" in csp and "https://cognito-idp." in csp
    policy_id = next(iter(resources(prod, "AWS::CloudFront::ResponseHeadersPolicy")))
    behavior = _one(prod, "AWS::CloudFront::Distribution")["DistributionConfig"]["DefaultCacheBehavior"]
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}


def test_inline_scripts_of_the_shipped_pages_run_and_no_other(prod, dev) -> None:
    """Each inline <script> is allowed by its hash: a page edited without a deploy is blocked, not run."""
    for template, pages in ((prod, ("confirm.html", "offer.html")), (dev, ("confirm.html", "offer.html", "docs.html"))):
        csp = json.dumps(_one(template, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"])
        allowed = set(re.findall(r"'sha256-[A-Za-z0-9+/=]+'", csp))
        expected = set()
        for page in pages:
            for script in re.findall(r"<script>(.*?)</script>|<script type=\"module\">(.*?)</script>", (ROOT / "web" / page).read_text(), re.S):
                body = script[0] or script[1]
                expected.add("'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'")
        assert expected and allowed == expected


def test_page_paths_open_the_same_files_as_on_the_local_server_and_the_explorer_is_dev_only(prod, dev) -> None:
    shared = {path: f"/web/{file}" for path, file in LOCAL_PAGES.items() if path not in ("/outbox", "/docs")}
    links = ["/patient/escalations/1a2b-3c", "/patient/tasks/9z"]
    assets = ["/web/app.js", "/vendor/chart.js", "/config.json"]
    uris = [*shared, *links, *assets, "/docs"]
    expected = [*shared.values(), "/web/index.html", "/web/index.html", *assets]
    assert _route(prod, uris) == [*expected, "/docs"]  # no page: the bucket has no such file
    assert _route(dev, uris) == [*expected, "/web/docs.html"]


def test_every_file_the_pages_load_is_shipped_from_where_the_local_server_serves_it(prod, dev) -> None:
    for template, explorer in ((prod, False), (dev, True)):
        (deployment,) = resources(template, "Custom::CDKBucketDeployment").values()
        site_asset = deployment["Properties"]["SourceObjectKeys"][0].removesuffix(".zip")
        shipped = {p.relative_to(_asset_dir(site_asset)).as_posix() for p in _asset_dir(site_asset).rglob("*") if p.is_file()}
        assert ("web/docs.html" in shipped, "vendor/swagger-ui-bundle.js" in shipped) == (explorer, explorer)
        assert "web/outbox.html" not in shipped  # the local outbox only
        loaded = set()
        for name in shipped:
            if name.endswith((".html", ".js")) and name.startswith("web/"):
                loaded |= set(re.findall(r"[\"'](/(?:web|vendor)/[\w.-]+)[\"']", (ROOT / name).read_text()))
        assert loaded and {path.lstrip("/") for path in loaded} <= shipped
        for path, file in LOCAL_VENDOR.items():  # the same npm file under the same path
            key = path.lstrip("/")
            if key in shipped:
                assert (_asset_dir(site_asset) / key).read_bytes() == file.read_bytes(), key


def _asset_dir(asset_hash: str) -> Path:
    found = list(Path(tempfile.gettempdir()).glob(f"cdk.out*/asset.{asset_hash}"))  # where each synth wrote its assets
    assert found, asset_hash
    return found[0]


def test_the_api_answers_the_site_and_patient_links_open_it_unless_set(prod, dev) -> None:
    for template, origin in ((prod, f"https://{SITE}"), (dev, None)):
        api = next(f["Properties"] for f in resources(template, "AWS::Lambda::Function").values() if f["Properties"]["Handler"] == "clinic.api.app.lambda_handler")
        variables = api["Environment"]["Variables"]
        if origin:
            assert (variables["ALLOWED_ORIGIN"], variables["PATIENT_LINK_BASE_URL"]) == (origin, f"{origin}/patient")
        else:  # CloudFront's own domain
            distribution = next(iter(resources(template, "AWS::CloudFront::Distribution")))
            domain = {"Fn::GetAtt": [distribution, "DomainName"]}
            assert variables["ALLOWED_ORIGIN"] == {"Fn::Join": ["", ["https://", domain]]}
            assert variables["PATIENT_LINK_BASE_URL"] == {"Fn::Join": ["", ["https://", domain, "/patient"]]}
    assert "SiteUrl" in prod["Outputs"] and prod["Outputs"]["SiteUrl"]["Value"] == f"https://{SITE}/"


@pytest.mark.parametrize(
    ("context", "named"),
    [
        ({"patientLinkBaseUrl": "http://localhost:8000/patient"}, "patientLinkBaseUrl"),
        ({"allowedOrigin": "https://127.0.0.1:8443"}, "allowedOrigin"),
        ({"allowedOrigin": "http://desk.example-clinic.com"}, "allowedOrigin"),
        ({"siteDomainName": SITE}, "siteCertificateArn"),
        ({"siteDomainName": SITE, "siteCertificateArn": SITE_CERTIFICATE.replace("us-east-1", "eu-west-1")}, "us-east-1"),
    ],
)
def test_prod_refuses_links_to_this_machine_and_a_site_certificate_cloudfront_cannot_use(context, named) -> None:
    with pytest.raises(ValueError, match=named):
        load(App(context={**CONTEXT, "stage": "prod", **context}))
    if "siteDomainName" not in context:
        assert load(App(context={**CONTEXT, "stage": "dev", **context}))  # dev may point anywhere


def test_the_sign_in_client_uses_srp_and_refresh_revokes_tokens_and_returns_to_the_site(prod) -> None:
    client = _one(prod, "AWS::Cognito::UserPoolClient")
    assert set(client["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert client["EnableTokenRevocation"] is True and client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["CallbackURLs"] == [f"https://{SITE}/"] and client["LogoutURLs"] == [f"https://{SITE}/"]
    assert client["WriteAttributes"] and not any(a.startswith("custom:") for a in client["WriteAttributes"])
    assert "ReadAttributes" not in client  # every attribute, custom ones included, reaches the ID token
