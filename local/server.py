"""The whole service on 127.0.0.1: moto's AWS over HTTP, and an API Gateway stand-in that
verifies Cognito tokens and hands REST proxy events to the same handler Lambda runs."""

from __future__ import annotations

import json
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import boto3

from .aws import deploy, reset_functions, serialize_dynamodb
from .gateway import LambdaContext, rest_event
from .identity import InvalidToken, StaffDirectory, create_directory
from .stepfunctions import stop_all
from .template import synthesized

MAX_BODY_BYTES = 1024 * 1024  # API Gateway refuses payloads over 10 MB; the clinic API needs far less
CORS_HEADERS = {
    "Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key",
    "Access-Control-Allow-Methods": "GET,POST,PUT,OPTIONS",
    "Access-Control-Max-Age": "600",
}


class LocalService:
    def __init__(self, *, port: int = 8000, aws_port: int = 0, seed: bool = True, speed: float = 1.0):
        self.port = port
        self.aws_port = aws_port
        self.seed = seed
        self.speed = speed  # how much faster than real time the care workflow's clock runs
        self.directory: StaffDirectory | None = None
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
            }
        )
        os.environ.pop("AWS_SESSION_TOKEN", None)
        template = synthesized()  # also puts functions/ on the path
        self._run_workflows(self._moto._server.server_port)
        serialize_dynamodb()
        environment = dict(deploy(template).environment)
        environment["ALLOWED_ORIGIN"] = "*"  # the local web client may be served from any port
        os.environ.update(environment)
        reset_functions()
        self.directory = create_directory(template, boto3.client("cognito-idp"), endpoint)
        if self.seed:
            self._seed()
        self._http = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        threading.Thread(target=self._http.serve_forever, name="local-api", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._http:
            self._http.shutdown()
            self._http.server_close()
        if self._moto:
            stop_all(boto3.client("stepfunctions"))
            self._moto.stop()
        while self._undo:
            self._undo.pop()()

    def _run_workflows(self, moto_port: int) -> None:
        """Executions really run: moto interprets the state machine, the interpreter calls
        the functions in this process, and its timers (and the service's clock) follow a
        clock `speed` times faster than real time."""
        from clinic import service as service_module
        from moto.core.config import default_user_config

        from .stepfunctions import ScaledClock, install, install_lambda_handlers, uninstall, uninstall_lambda_handlers

        clock = ScaledClock(self.speed)
        install(clock)
        install_lambda_handlers()
        sfn_config = default_user_config["stepfunctions"]
        previous = (sfn_config["execute_state_machine"], service_module.utc_now, os.environ.get("MOTO_PORT"))
        sfn_config["execute_state_machine"] = True
        service_module.utc_now = clock.now
        os.environ["MOTO_PORT"] = str(moto_port)  # where the interpreter calls the other services

        def undo() -> None:
            sfn_config["execute_state_machine"], service_module.utc_now = previous[0], previous[1]
            if previous[2] is None:
                os.environ.pop("MOTO_PORT", None)
            else:
                os.environ["MOTO_PORT"] = previous[2]
            uninstall_lambda_handlers()
            uninstall()

        self._undo.append(undo)

    def _seed(self) -> None:
        from clinic.adapters.dynamodb import DynamoRepository
        from clinic.adapters.stepfunctions import StepFunctionsEngine
        from clinic.service import ClinicService
        from clinic.settings import settings

        from .seed import seed

        config = settings()
        repository = DynamoRepository(boto3.resource("dynamodb").Table(config.table_name))
        engine = StepFunctionsEngine(boto3.client("stepfunctions"), config.state_machine_arn)
        seed(ClinicService(config.clinic_rules, repository, engine))

    def invoke(self, method: str, path: str, query: str, headers: dict[str, str], body: str | None) -> tuple[int, dict[str, str], str]:
        """What API Gateway does with one request: authorizer, then the Lambda proxy."""
        assert self.directory is not None
        if path.startswith("/public/"):  # patient links: no authorizer, as deployed
            return self._proxy(method, path, query, headers, body, claims=None)
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not token:
            return 401, {}, json.dumps({"message": "Unauthorized"})
        try:
            claims = self.directory.verify(token)
        except InvalidToken:
            return 401, {}, json.dumps({"message": "Unauthorized"})
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
                self._reply(413, {}, json.dumps({"message": "Request Too Long"}))
                return
            body = self.rfile.read(length).decode("utf-8", errors="replace") if length else None
            if parts.path == "/local/sign-in" and method == "POST":
                self._sign_in(body)
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, reply_headers, reply_body = service.invoke(method, parts.path, parts.query, headers, body)
            self._reply(status, {"Access-Control-Allow-Origin": "*", **reply_headers}, reply_body)

        def _sign_in(self, body: str | None) -> None:
            assert service.directory is not None
            try:
                credentials = json.loads(body or "{}")
                token = service.directory.sign_in(str(credentials["username"]), str(credentials["password"]))
            except Exception:  # wrong user, wrong password or malformed body: one answer for all
                self._reply(401, {}, json.dumps({"message": "wrong username or password"}))
                return
            self._reply(200, {}, json.dumps({"idToken": token}))

        def _reply(self, status: int, headers: dict[str, str], body: str) -> None:
            payload = body.encode()
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers, "Content-Length": str(len(payload))}
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler
