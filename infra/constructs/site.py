"""The hosted web client: web/ and the npm files its pages load, in a private S3 bucket that
only CloudFront reads (origin access control), with security headers on every reply and the
client's runtime configuration (/config.json) written at deploy time from the stack's own
values. Paths are the local server's (local/server.py), so the same pages work unchanged."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path

from aws_cdk import DefaultStackSynthesizer, Duration, RemovalPolicy, Stack, Stage, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from ..nag import accept
from ..site_paths import API_EXPLORER, EXPLORER_VENDOR, LOCAL_ONLY, PAGES, STAFF_LINKS, VENDOR
from .functions import MANAGED

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


def site_files(with_explorer: bool) -> dict[str, Path]:
    """Object key -> file: web/ under web/, the npm files under vendor/."""
    pages = {*PAGES.values(), *(API_EXPLORER.values() if with_explorer else ())}
    files = {
        f"web/{path.name}": path
        for path in sorted(WEB.iterdir())
        if path.is_file() and path.name not in LOCAL_ONLY.values() and (path.suffix != ".html" or path.name in pages)
    }
    for name, package_path in VENDOR.items():
        if with_explorer or name not in EXPLORER_VENDOR:
            files[f"vendor/{name}"] = ROOT / "node_modules" / package_path
    return files


def routes(with_explorer: bool) -> str:
    """A CloudFront Function (viewer request) that opens each page path's file, as the local server does."""
    pages = {path: f"/web/{file}" for path, file in {**PAGES, **(API_EXPLORER if with_explorer else {})}.items()}
    staff_links = STAFF_LINKS.replace("/", "\\/")
    return (
        f"var PAGES = {json.dumps(pages, sort_keys=True)};\n"
        f"var STAFF_LINKS = /{staff_links}/;\n"
        "function handler(event) {\n"
        "  var request = event.request;\n"
        "  if (PAGES[request.uri]) { request.uri = PAGES[request.uri]; }\n"
        "  else if (STAFF_LINKS.test(request.uri)) { request.uri = '/web/index.html'; }\n"
        "  return request;\n"
        "}\n"
    )


def content_security_policy(files: dict[str, Path], connect_to: list[str]) -> str:
    """Scripts only from the site itself, or inline ones whose hash is known at synth (so a
    changed inline script is blocked until the next deploy computes its hash). Inline styles
    are allowed: the day board positions its blocks with style attributes, and CSS runs no code."""
    hashes = sorted(
        {
            "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
            for key, path in files.items()
            if key.endswith(".html")
            for script in INLINE_SCRIPT.findall(path.read_text())
        }
    )
    return "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self'", *hashes]),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            " ".join(["connect-src 'self'", *connect_to]),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class WebSite(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ship_api_explorer: bool,
        domain_name: str | None,
        certificate_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._files = site_files(ship_api_explorer)
        # Only the static client lives here (no PHI): rebuilt from the repository on every deploy.
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self._domain_name = domain_name
        routes_function = cloudfront.Function(
            self,
            "Routes",
            code=cloudfront.FunctionCode.from_inline(routes(ship_api_explorer)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Opens each page path's file, as the local server does",
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{Stack.of(self).stack_name} web client",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                function_associations=[
                    cloudfront.FunctionAssociation(function=routes_function, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)
                ],
            ),
            domain_names=[domain_name] if domain_name else None,
            certificate=acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn) if certificate_arn else None,
            # With CloudFront's own certificate its policy is fixed; with the site's, TLS 1.2 at least.
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate_arn else None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        self._accept_findings()

    @property
    def origin(self) -> str:
        """https://<the site's domain>: the custom one when given, else CloudFront's own."""
        return f"https://{self._domain_name or self.distribution.distribution_domain_name}"

    def secure(self, *, connect_to: list[str]) -> None:
        """Security headers on every reply, with `connect_to` (the API's and Cognito's origins)
        the only other places the pages may call. Added once the API exists, which needs the
        site's origin first (CORS, patient links)."""
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            # CloudFront is global: the region keeps one account's stacks of the same name apart.
            response_headers_policy_name=f"{Stack.of(self).stack_name}-{Stack.of(self).region}-headers",
            comment="CSP, HSTS, no framing, no referrer",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(self._files, connect_to), override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, preload=True, override=True
                ),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy", value="camera=(), microphone=(), geolocation=()", override=True
                    )
                ]
            ),
        )
        distribution = self.distribution.node.default_child
        assert isinstance(distribution, cloudfront.CfnDistribution)
        distribution.add_property_override(
            "DistributionConfig.DefaultCacheBehavior.ResponseHeadersPolicyId", self.headers.response_headers_policy_id
        )

    def _accept_findings(self) -> None:
        accept(
            self.distribution,
            {
                "AwsSolutions-CFR1": "Staff and patients may travel; the API it calls has its own firewall.",
                "AwsSolutions-CFR2": "Serves only the static client (no PHI, GET and HEAD); the API it calls sits "
                "behind the stack's WAF web ACL.",
                "AwsSolutions-CFR3": "Static files only: the requests that matter (the API's) are logged by API "
                "Gateway and WAF.",
                "AwsSolutions-CFR4": "Without a custom domain CloudFront's own certificate sets the TLS floor; with "
                "`siteDomainName` the floor is TLS 1.2 (2021).",
            },
        )
        accept(
            self.bucket,
            {
                "AwsSolutions-S1": "Holds only the static client, rewritten on every deploy; reads come through "
                "CloudFront only.",
                "HIPAA.Security-S3BucketLoggingEnabled": "Holds no PHI: the static client only.",
                "HIPAA.Security-S3BucketReplicationEnabled": "Rebuilt from the repository on every deploy; a "
                "replica would hold nothing that cannot be redeployed.",
                "HIPAA.Security-S3BucketVersioningEnabled": "Each deploy replaces the client from the repository, "
                "which keeps its history.",
                "HIPAA.Security-S3DefaultEncryptionKMS": "S3-managed encryption: the files are public web assets, "
                "and CloudFront's origin access control reads SSE-S3 without a key policy.",
            },
        )


    def publish(self, config: dict[str, str]) -> None:
        """Uploads the client and writes /config.json from `config` (resolved at deploy time)."""
        staging = Path(Stage.of(self).outdir) / f"site-{Stack.of(self).stack_name}"  # type: ignore[union-attr]
        shutil.rmtree(staging, ignore_errors=True)
        for key, path in self._files.items():
            (staging / key).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, staging / key)
        s3_deployment.BucketDeployment(
            self,
            "Files",
            sources=[s3_deployment.Source.asset(str(staging)), s3_deployment.Source.json_data("config.json", config)],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            retain_on_delete=False,  # a deleted stack empties the bucket, so the bucket can go too
            memory_limit=256,
        )
        self._accept_deployment_findings()

    def _accept_deployment_findings(self) -> None:
        """CDK's BucketDeployment runs its own Lambda (one per stack) at deploy time only. It reads
        the CDK bootstrap's asset bucket, whose name holds the account and region: the finding
        names them as cdk-nag prints them, literal when the CLI set them, placeholders when not."""
        stack = Stack.of(self)
        handler = next(child for child in stack.node.children if child.node.id.startswith("Custom::CDKBucketDeployment"))
        account, region = (
            f"<AWS::{name}>" if Token.is_unresolved(value) else value
            for name, value in (("AccountId", stack.account), ("Region", stack.region))
        )
        assets = f"cdk-{DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-{account}-{region}"
        bucket_id = stack.resolve(self.bucket.node.default_child.logical_id)  # type: ignore[union-attr]
        accept(
            handler,
            {
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{assets}/*]": "Reads the deployed "
                "client's files from the CDK asset bucket, granted by CDK.",
                f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]": "Writes the client's files to the site "
                "bucket only.",
                f"AwsSolutions-IAM4[Policy::{MANAGED}/AWSLambdaBasicExecutionRole]": "CDK's deployment function "
                "writes only its own logs.",
                "AwsSolutions-IAM5[Action::s3:GetBucket*]": "CDK's grant on the asset and site buckets only.",
                "AwsSolutions-IAM5[Action::s3:GetObject*]": "CDK's grant on the asset and site buckets only.",
                "AwsSolutions-IAM5[Action::s3:List*]": "CDK's grant on the asset and site buckets only.",
                "AwsSolutions-IAM5[Action::s3:DeleteObject*]": "Removes files a deploy no longer ships, in the site "
                "bucket only.",
                "AwsSolutions-IAM5[Action::s3:Abort*]": "CDK's grant on the site bucket only.",
                "AwsSolutions-IAM5[Resource::*]": "CloudFront invalidation takes no resource.",
                "AwsSolutions-L1": "CDK pins the deployment function's runtime with its AWS CLI layer.",
                "HIPAA.Security-IAMNoInlinePolicy": "CDK writes the deployment function's grants inline.",
                "HIPAA.Security-LambdaConcurrency": "Runs once per deploy, from CloudFormation.",
                "HIPAA.Security-LambdaDLQ": "Invoked synchronously by CloudFormation, which reports its failure.",
                "HIPAA.Security-LambdaInsideVPC": "Reaches only S3 and CloudFront's public endpoints.",
            },
        )
