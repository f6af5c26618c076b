"""The order API on 127.0.0.1 (`make serve`: port 3000), as API Gateway would serve it.

Each request to a route of template.yaml's OrderApi becomes an API Gateway REST proxy
event (resource, path parameters, query, headers) for the real Api function, invoked
through the local runtime's Lambda service; the saga then runs in the same runtime. A path
or method the API does not define is refused as API Gateway refuses it (403
MISSING_AUTHENTICATION_TOKEN), and so is a body over API Gateway's 10 MB.

Local-only pages hang off the same server: ``server.register("/local/...", page)``; a
page answers every path under its prefix and is matched before the API.

`python -m local_runtime serve` runs it with the console and the local pages
(local_runtime/tools/serve.py).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

API = "OrderApi"
API_FUNCTION = "ApiFunction"
DEFAULT_PORT = 3000
MAX_PAYLOAD = 10 * 1024 * 1024
"""API Gateway's limit for a request body; the Api function refuses far less (64 KB)."""
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
TOO_LARGE = {"error": "REQUEST_TOO_LARGE", "message": "Request Too Long", "details": []}


@dataclass(frozen=True)
class LocalRequest:
    method: str
    path: str
    """Without the query string."""
    query: str
    headers: dict[str, str]
    body: bytes


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
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD:
            self.close_connection = True  # the body stays unread
            response = LocalResponse.json(413, TOO_LARGE)
        else:
            request = LocalRequest(
                method=self.command,
                path=url.path,
                query=url.query,
                headers={key: value for key, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            page = self.server.page_for(url.path)
            if page is not None:
                response = page(request)
            else:
                response = self.server.call_api(request, self.client_address[0])
        self._send(response)
        if self.server.log_requests:
            elapsed = (time.perf_counter() - started) * 1000
            print(f"{self.command} {self.path} -> {response.status} ({elapsed:.0f} ms)", flush=True)

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
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as `sam local start-api` would build it.
    ``resource`` is the matched route ("/orders/{order_id}"); the path stays as sent."""
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
        "multiValueHeaders": {key: [value] for key, value in all_headers.items()},
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
