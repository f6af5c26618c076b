"""The order API on 127.0.0.1 (`make serve`: port 3000), as API Gateway would serve it.

Each request to a route of template.yaml's OrderApi becomes an API Gateway REST proxy
event (resource, path parameters, query, headers) for the real Api function, invoked
through the local runtime's Lambda service; the saga then runs in the same runtime. A path
or method the API does not define is refused as API Gateway refuses it (403
MISSING_AUTHENTICATION_TOKEN). The request's framing is read strictly first, as API
Gateway's front reads it (local_runtime/emulator/http_framing.py): a bad or conflicting
Content-Length, a short body, a chunked one (decoded), a body over 10 MB, a long URL or
headers, and a request line http.server cannot read are each answered with a status line
and the API's JSON error shape, never HTML and never a dropped connection.

Local-only pages hang off the same server: ``server.register("/local/...", page)``; a
page answers every path under its prefix and is matched before the API.

`python -m local_runtime serve` runs it with the console and the local pages
(local_runtime/tools/serve.py).
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from local_runtime.emulator.http_framing import (
    BODY_TIMEOUT_S,
    MAX_URL,
    BodyReader,
    FramingError,
    check_headers,
    content_length,
    refusal,
    refusal_body,
)

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

API = "OrderApi"
API_FUNCTION = "ApiFunction"
DEFAULT_PORT = 3000
# API Gateway's own answers, in the template's GatewayResponses shape.
MISSING_ROUTE = {
    "error": "MISSING_AUTHENTICATION_TOKEN",
    "message": "Missing Authentication Token",
    "details": [],
}
FUNCTION_FAILED = {
    "error": "API_CONFIGURATION_ERROR",
    "message": "Internal server error",
    "details": [],
}


@dataclass(frozen=True)
class LocalRequest:
    method: str
    path: str
    """Without the query string."""
    query: str
    headers: dict[str, str]
    """The last value of each header, as API Gateway's ``headers``."""
    body: bytes
    multi_headers: dict[str, list[str]] | None = None
    """Every value of each header, in order, as API Gateway's ``multiValueHeaders``."""


@dataclass
class LocalResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, document: Any) -> LocalResponse:
        return cls(status, json.dumps(document).encode())


LocalPage = Callable[[LocalRequest], LocalResponse]


@dataclass(frozen=True)
class Route:
    method: str
    resource: str
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, method: str, resource: str) -> Route:
        # "/orders/{order_id}" matches one whole path segment per parameter, as API Gateway.
        regex = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(resource))
        return cls(method, resource, re.compile(f"^{regex}/?$"))


class LocalApiServer(ThreadingHTTPServer):
    # The default backlog of 5 resets connections under load (fuzzing, benchmarks).
    request_queue_size = 1024
    daemon_threads = True

    def __init__(
        self, runtime: LocalRuntime, host: str = "127.0.0.1", port: int = DEFAULT_PORT
    ) -> None:
        super().__init__((host, port), _Handler)
        self.runtime = runtime
        self.routes = [Route.of(m, r) for m, r in runtime.template.api_routes(API)]
        self.pages: dict[str, LocalPage] = {}
        self.log_requests = False
        self.body_timeout = BODY_TIMEOUT_S
        """How long a request's body may take to arrive in full (http_framing)."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name="api")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def register(self, prefix: str, page: LocalPage) -> None:
        """Serve every path under ``prefix`` (e.g. "/local/notifications") with ``page``."""
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ValueError(f"a prefix starts with / and does not end with one: {prefix!r}")
        self.pages[prefix] = page

    def page_for(self, path: str) -> LocalPage | None:
        for prefix in sorted(self.pages, key=len, reverse=True):
            if path == prefix or path.startswith(prefix + "/"):
                return self.pages[prefix]
        return None

    def route_for(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            matched = route.pattern.match(path)
            if matched and route.method == method:
                return route, matched.groupdict()
        return None

    def start(self) -> LocalApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    # -- the API ---------------------------------------------------------------------------

    def call_api(self, request: LocalRequest, client_ip: str) -> LocalResponse:
        found = self.route_for(request.method, request.path)
        if found is None:
            # What API Gateway answers (in the template's error shape) for no such route.
            return LocalResponse.json(403, MISSING_ROUTE)
        route, parameters = found
        try:
            body: str | None = request.body.decode() if request.body else None
            binary = False
        except UnicodeDecodeError:
            body, binary = base64.b64encode(request.body).decode(), True
        event = proxy_event(
            request.method,
            f"{request.path}?{request.query}" if request.query else request.path,
            body,
            request.headers,
            resource=route.resource,
            path_parameters=parameters or None,
            source_ip=client_ip,
            base64_body=binary,
            multi_headers=request.multi_headers,
        )
        result, error = self.runtime.functions.invoke(API_FUNCTION, event)
        if error:
            return LocalResponse.json(502, FUNCTION_FAILED)
        return _from_proxy_result(result)


def _from_proxy_result(result: dict[str, Any]) -> LocalResponse:
    headers: dict[str, str] = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(str(v) for v in values)
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    content_type = headers.pop("Content-Type", "application/json")
    return LocalResponse(int(result["statusCode"]), body, content_type, headers)


class _Handler(BaseHTTPRequestHandler):
    server: LocalApiServer
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        started = time.perf_counter()
        try:
            response = self._respond()
        except FramingError as refused:
            self.close_connection = True  # what is left of the body stays unread
            response = LocalResponse.json(refused.status, refused.document())
        except Exception:
            # A bug of ours or of a page: logged, and answered, never a dropped connection.
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            response = LocalResponse.json(500, refusal(500))
        self._send(response)
        self._log(response.status, started)

    def _respond(self) -> LocalResponse:
        url = urlsplit(self.path)
        check_headers(self.headers)
        length = content_length(self.headers)
        body = BodyReader(self.rfile, self.connection, self.server.body_timeout).read(length)
        # A field's value has no leading or trailing whitespace (RFC 9112, 5): http.server
        # strips only the leading, so "X-Customer-Id: cust-1 " kept a space on one side.
        fields_all: dict[str, list[str]] = {}
        for key, value in self.headers.items():
            fields_all.setdefault(key, []).append(value.strip(" \t"))
        fields = {key: values[-1] for key, values in fields_all.items()}
        request = LocalRequest(
            method=self.command,
            path=url.path,
            query=url.query,
            headers=fields,
            body=body,
            multi_headers=fields_all,
        )
        page = self.server.page_for(url.path)
        if page is not None:
            return page(request)
        return self.server.call_api(request, self.client_address[0])

    def _log(self, status: int, started: float) -> None:
        if self.server.log_requests:
            elapsed = (time.perf_counter() - started) * 1000
            line = f"{self.command} {self.path}" if self.command else repr(self.requestline[:80])
            print(f"{line} -> {status} ({elapsed:.0f} ms)", flush=True)

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":
            # "GET /" with no version: http.server would answer without a status line.
            self.send_error(400, "the request line has no HTTP version")
            return False
        if len(self.path) > MAX_URL:
            self.send_error(414, f"the URL is over {MAX_URL} characters")
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (400 bad request line, 414, 431, 505), in the API's
        JSON error shape and always with a status line, then the connection is closed."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            self.request_version = self.protocol_version  # a status line and headers, always
        body = refusal_body(code, message)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(code, time.perf_counter())

    def __getattr__(self, name: str) -> Any:
        # Every method (TRACE, QUERY, ...) goes the same way: the API decides, as API
        # Gateway does, instead of http.server's 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _send(self, response: LocalResponse) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # _handle logs one line per request when asked to


def proxy_event(
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    base64_body: bool = False,
    multi_headers: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as `sam local start-api` would build it.
    ``resource`` is the matched route ("/orders/{order_id}"); the path stays as sent;
    ``multi_headers`` every value of a header sent more than once (``headers`` keeps the
    last, as API Gateway's)."""
    path_only, _, query = path.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for key, value in pairs:
        multi_query.setdefault(key, []).append(value)
    all_headers = dict(headers)
    if body is not None and not any(key.lower() == "content-type" for key in headers):
        all_headers["Content-Type"] = "application/json"
    return {
        "resource": resource or path_only,
        "path": path_only,
        "httpMethod": method.upper(),
        "headers": all_headers,
        "multiValueHeaders": {
            key: list((multi_headers or {}).get(key) or [value])
            for key, value in all_headers.items()
        },
        "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters,
        "requestContext": {
            "httpMethod": method.upper(),
            "path": path_only,
            "resourcePath": resource or path_only,
            "stage": "local",
            "requestId": f"local-{time.monotonic_ns()}",
            "identity": {"sourceIp": source_ip},
            "authorizer": {},
        },
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": base64_body,
    }
