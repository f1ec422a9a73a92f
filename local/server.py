"""The whole service on 127.0.0.1: moto's AWS over HTTP, and an API Gateway stand-in that
verifies Cognito tokens and hands REST proxy events to the same handler Lambda runs."""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3

from infra import site_paths

from .aws import deploy, reset_functions, serialize_dynamodb
from .cognito import CognitoProxy
from .gateway import LambdaContext, gateway_error, rest_event
from .identity import InvalidToken, StaffDirectory, create_directory
from .stepfunctions import stop_all
from .template import synthesized

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
# The same page paths and npm files as the hosted site, plus the local stack's own pages.
PAGES = {**site_paths.PAGES, **site_paths.API_EXPLORER, **site_paths.LOCAL_ONLY}
STAFF_LINKS = re.compile(site_paths.STAFF_LINKS)
VENDOR = {f"/vendor/{name}": ROOT / "node_modules" / path for name, path in site_paths.VENDOR.items()}
COGNITO_PATH = "/local/cognito"  # the browser's Cognito endpoint locally (local/cognito.py says why a proxy)
MAX_BODY_BYTES = 1024 * 1024  # API Gateway refuses payloads over 10 MB; the clinic API needs far less
CORS_HEADERS = {
    "Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key",
    "Access-Control-Allow-Methods": "GET,POST,PUT,OPTIONS",
    "Access-Control-Max-Age": "600",
}



def _gateway_error(kind: str) -> tuple[int, dict[str, str], str]:
    """API Gateway's own answer, with the CORS header its gateway responses carry (any origin
    locally, as the API's ALLOWED_ORIGIN here)."""
    status, headers, body = gateway_error(kind)
    return status, {**headers, "Access-Control-Allow-Origin": "*"}, body

class LocalService:
    def __init__(
        self, *, port: int = 8000, aws_port: int = 0, seed: bool = True, speed: float = 1.0, start: datetime | None = None
    ):
        self.port = port
        self.aws_port = aws_port
        self.seed = seed
        self.speed = speed  # how much faster than real time the care workflow's clock runs
        self.start_at = start  # where the clock starts (default: now)
        self.directory: StaffDirectory | None = None
        self.cognito: CognitoProxy | None = None
        self._moto: Any = None
        self._http: ThreadingHTTPServer | None = None
        self._undo: list[Callable[[], None]] = []

    @property
    def url(self) -> str:
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def start(self) -> LocalService:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines drown the URLs
        # moto's interpreter logs every stopped Map iteration with its whole definition on Ctrl-C.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port, verbose=False)
        self._moto.start()
        endpoint = f"http://127.0.0.1:{self._moto._server.server_port}"
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "POWERTOOLS_TRACE_DISABLED": "1",
                "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true",  # a wrong MFA code is refused, as on AWS
            }
        )
        os.environ.pop("AWS_SESSION_TOKEN", None)
        template = synthesized()  # also puts functions/ on the path
        self._run_workflows(self._moto._server.server_port)
        serialize_dynamodb()
        self._http = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        deployment = deploy(template)
        environment = dict(deployment.environment)
        environment["ALLOWED_ORIGIN"] = "*"  # the local web client may be served from any port
        environment["PATIENT_LINK_BASE_URL"] = f"{self.url}/patient"  # the links in the outbox open this server's pages
        os.environ.update(environment)
        reset_functions()
        self.directory = create_directory(deployment.user_pool, boto3.client("cognito-idp"), endpoint)
        self.cognito = CognitoProxy(endpoint, self.directory)
        if self.seed:
            self._seed()
        threading.Thread(target=self._http.serve_forever, name="local-api", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._http:
            self._http.shutdown()
            self._http.server_close()
        if self._moto:
            from moto.moto_api._internal.models import moto_api_backend

            stop_all(boto3.client("stepfunctions"))
            self._moto.stop()
            moto_api_backend.reset()  # moto's state is per process: the next service starts empty
        while self._undo:
            self._undo.pop()()

    def _run_workflows(self, moto_port: int) -> None:
        """Executions really run: moto interprets the state machine, the interpreter calls
        the functions in this process, and its timers (and the service's clock) follow a
        clock `speed` times faster than real time."""
        from clinic.usecases import kernel
        from moto.core.config import default_user_config

        from .stepfunctions import (
            ScaledClock,
            install,
            install_lambda_handlers,
            uninstall,
            uninstall_lambda_handlers,
        )

        clock = self.clock = ScaledClock(self.speed, self.start_at)
        install(clock)
        install_lambda_handlers()
        sfn_config = default_user_config["stepfunctions"]
        previous = (sfn_config["execute_state_machine"], kernel.utc_now, os.environ.get("MOTO_PORT"))
        sfn_config["execute_state_machine"] = True
        kernel.utc_now = clock.now
        os.environ["MOTO_PORT"] = str(moto_port)  # where the interpreter calls the other services

        def undo() -> None:
            sfn_config["execute_state_machine"], kernel.utc_now = previous[0], previous[1]
            if previous[2] is None:
                os.environ.pop("MOTO_PORT", None)
            else:
                os.environ["MOTO_PORT"] = previous[2]
            uninstall_lambda_handlers()
            uninstall()

        self._undo.append(undo)

    def _seed(self) -> None:
        from clinic.composition import Wiring
        from clinic.settings import settings

        from .seed import seed

        seed(Wiring(settings(), boto3.session.Session()))

    def client_config(self) -> dict[str, str]:
        """The web client's runtime configuration: what the deployed site's /config.json holds
        (written at deploy time from the stack's outputs), plus where Cognito is locally."""
        assert self.directory is not None
        return {
            "apiUrl": self.url,
            "region": self.directory.user_pool_id.split("_", 1)[0],
            "userPoolId": self.directory.user_pool_id,
            "userPoolClientId": self.directory.client_id,
            "cognitoEndpoint": self.url + COGNITO_PATH,
        }

    def invoke(self, method: str, path: str, query: str, headers: dict[str, str], body: str | None) -> tuple[int, dict[str, str], str]:
        """What API Gateway does with one request: authorizer, then the Lambda proxy."""
        assert self.directory is not None
        if path.startswith("/public/"):  # patient links: no authorizer, as deployed
            return self._proxy(method, path, query, headers, body, claims=None)
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not token:
            return _gateway_error("UNAUTHORIZED")
        try:
            claims = self.directory.verify(token)
        except InvalidToken:
            return _gateway_error("UNAUTHORIZED")
        return self._proxy(method, path, query, headers, body, claims=claims)

    @staticmethod
    def _proxy(
        method: str, path: str, query: str, headers: dict[str, str], body: str | None, claims: dict[str, Any] | None
    ) -> tuple[int, dict[str, str], str]:
        from clinic.api.app import lambda_handler

        event = rest_event(method, path, body=body, claims=claims, headers=headers, query=query or None)
        response = lambda_handler(event, LambdaContext())
        reply_headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
        reply_headers.update(response.get("headers") or {})
        return response["statusCode"], reply_headers, response.get("body") or ""


def _handler_for(service: LocalService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines carry ids only, but stay quiet like API Gateway's access log would

        def do_OPTIONS(self) -> None:
            self._reply(204, {"Access-Control-Allow-Origin": "*", **CORS_HEADERS}, "")

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._reply(*_gateway_error("REQUEST_TOO_LARGE"))
                return
            body = self.rfile.read(length).decode("utf-8", errors="replace") if length else None
            if parts.path == "/local/sign-in" and method == "POST":
                self._sign_in(body)
                return
            if parts.path == COGNITO_PATH and method == "POST":
                assert service.cognito is not None
                self._reply(*service.cognito.handle(self.headers.get("X-Amz-Target", ""), body))
                return
            if parts.path == "/config.json" and method == "GET":
                self._reply(200, {"Cache-Control": "no-store"}, json.dumps(service.client_config()))
                return
            if parts.path.startswith("/local/") or parts.path == "/openapi.json":
                self._reply(*local_route(service, method, parts.path, body))
                return
            if method == "GET" and (file := static_file(parts.path)) is not None:
                self._file(file)
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, reply_headers, reply_body = service.invoke(method, parts.path, parts.query, headers, body)
            self._reply(status, {"Access-Control-Allow-Origin": "*", **reply_headers}, reply_body)

        def _sign_in(self, body: str | None) -> None:
            assert service.directory is not None
            try:
                credentials = json.loads(body or "{}")
                token = service.directory.sign_in(str(credentials["username"]), str(credentials["password"]))
            except Exception:  # noqa: BLE001 - wrong user, wrong password or malformed body: one answer for all
                self._reply(401, {}, json.dumps({"message": "wrong username or password"}))
                return
            self._reply(200, {}, json.dumps({"idToken": token}))

        def _file(self, path: Path) -> None:
            payload = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)

        def _reply(self, status: int, headers: dict[str, str], body: str) -> None:
            payload = body.encode()
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers, "Content-Length": str(len(payload))}
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def static_file(path: str) -> Path | None:
    """The web client's file for a GET path, or None when the path is the API's."""
    if path in PAGES:
        return WEB / PAGES[path]
    if STAFF_LINKS.match(path):
        return WEB / "index.html"
    if path in VENDOR:
        return VENDOR[path]
    if path.startswith("/web/"):
        file = (WEB / path.removeprefix("/web/")).resolve()
        if file.is_relative_to(WEB) and file.is_file():
            return file
    return None


def local_route(service: LocalService, method: str, path: str, body: str | None) -> tuple[int, dict[str, str], str]:
    """What only the local stack has: the outbox, the clock and the OpenAPI document."""
    if path == "/openapi.json" and method == "GET":
        from clinic.api.app import ENVIRONMENTS
        from clinic.api.openapi import document

        with ENVIRONMENTS.use() as api:
            schema = document(api.resolver)
        return 200, {"Access-Control-Allow-Origin": "*"}, json.dumps(schema)
    if path == "/local/outbox" and method == "GET":
        return 200, {}, json.dumps(outbox())
    if path == "/local/clock" and method in ("GET", "POST"):
        if method == "POST":
            try:
                minutes = float(json.loads(body or "{}")["advanceMinutes"])
                service.clock.advance(timedelta(minutes=minutes))
            except (KeyError, TypeError, ValueError):
                return 422, {}, json.dumps({"message": "send {\"advanceMinutes\": a number of minutes, not negative}"})
        return 200, {}, json.dumps({"now": service.clock.now().isoformat().replace("+00:00", "Z"), "speed": service.speed})
    return 404, {}, json.dumps({"message": "Not Found"})


def outbox() -> dict[str, list[dict[str, str]]]:
    """What would have reached phones and inboxes: SMS (patients, and clinicians' pagers),
    messages to SNS topics (the operator's alarm topic), and email, newest last."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    sns = sns_backends[DEFAULT_ACCOUNT_ID][region]
    sms = [{"to": phone, "text": text} for phone, text in sns.sms_messages.values()]
    topics = [
        {"to": topic.name, "subject": subject or "", "text": message}
        for topic in sns.topics.values()
        for _, message, subject, *_ in topic.sent_notifications
    ]
    emails = [
        {"to": ", ".join(m.destinations.get("ToAddresses", [])), "subject": m.subject, "text": m.body}
        for m in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
    ]
    return {"sms": sms, "topics": topics, "emails": emails}
