"""`make serve`'s console: its page, files and JSON views over HTTP.

    GET  /console                               the page (console/index.html)
    GET  /console/static/<file>                 its script and style, and Mermaid from
                                                console/node_modules (npm ci, no CDN)
    GET  /console/api/state-machine             the graph of the state machine's definition
    GET  /console/api/executions[?status=&limit=]  the newest executions (limit 1 to 1000,
                                                default 100), newest first
    GET  /console/api/executions/<order_id>     one execution: steps, painted graph, history,
                                                and the order's domain events
    POST /console/api/sample-orders             {"kind": "success" | "declined" | "out_of_stock"}

The views are local_runtime/console/views.py's.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from local_runtime.console.views import DEFAULT_LIMIT, MAX_LIMIT, Console, ConsoleError
from local_runtime.emulator.api_gateway import LocalResponse
from order_saga import strict_json
from order_saga.strict_json import DuplicateKey

if TYPE_CHECKING:
    from local_runtime.emulator.api_gateway import LocalApiServer, LocalRequest
    from local_runtime.runtime import LocalRuntime

PREFIX = "/console"
LIMIT = re.compile(r"[0-9]{1,4}")
CONSOLE_DIR = Path(__file__).resolve().parents[2] / "console"
STATIC = {
    # URL name -> (file, content type). Only these are served: nothing else of the tree.
    "console.js": (CONSOLE_DIR / "console.js", "text/javascript; charset=utf-8"),
    "console.css": (CONSOLE_DIR / "console.css", "text/css; charset=utf-8"),
    "mermaid.min.js": (
        CONSOLE_DIR / "node_modules" / "mermaid" / "dist" / "mermaid.min.js",
        "text/javascript; charset=utf-8",
    ),
}


def _json(status: int, document: Any) -> LocalResponse:
    def fallback(value: object) -> str:
        if isinstance(value, Decimal | datetime):
            return str(value) if isinstance(value, Decimal) else value.isoformat()
        raise TypeError(f"{type(value).__name__} is not JSON")

    response = LocalResponse(status, json.dumps(document, default=fallback).encode())
    response.headers["Cache-Control"] = "no-store"
    return response


def _file(request: LocalRequest, path: Path, content_type: str) -> LocalResponse:
    """A file of the console, revalidated by ETag: an unchanged Mermaid (3.5 MB) is not
    sent again, and an edited script is picked up on the next reload."""
    if not path.is_file():
        return _json(
            503,
            {
                "error": "NotInstalled",
                "message": f"{path.name} is missing: `make serve` installs the console's "
                "packages (npm ci in console/)",
            },
        )
    stat = path.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    sent = {key.lower(): value for key, value in request.headers.items()}
    if sent.get("if-none-match") == etag:
        return LocalResponse(304, b"", content_type, headers)
    return LocalResponse(200, path.read_bytes(), content_type, headers)


def _query(request: LocalRequest, name: str) -> str | None:
    values = parse_qs(request.query).get(name)
    return values[0] if values and values[0] else None


def _limit(request: LocalRequest) -> int:
    """``limit``, strictly: decimal digits for a number from 1 to MAX_LIMIT, or 422."""
    values = parse_qs(request.query, keep_blank_values=True).get("limit")
    if values is None:
        return DEFAULT_LIMIT
    value = values[0]
    if len(values) > 1 or not LIMIT.fullmatch(value) or not 1 <= int(value) <= MAX_LIMIT:
        raise ConsoleError(
            422, "InvalidLimit", f"limit must be a whole number from 1 to {MAX_LIMIT}"
        )
    return int(value)


def handle(console: Console, request: LocalRequest) -> LocalResponse:
    path = request.path.rstrip("/") or "/"
    method = request.method
    try:
        if path == PREFIX and method in ("GET", "HEAD"):
            return _file(request, CONSOLE_DIR / "index.html", "text/html; charset=utf-8")
        if path.startswith(f"{PREFIX}/static/") and method in ("GET", "HEAD"):
            found = STATIC.get(path.removeprefix(f"{PREFIX}/static/"))
            return _file(request, *found) if found else _not_found(request)
        if path == f"{PREFIX}/api/state-machine" and method == "GET":
            return _json(200, console.state_machine())
        if path == f"{PREFIX}/api/executions" and method == "GET":
            return _json(200, console.executions(_query(request, "status"), _limit(request)))
        if path.startswith(f"{PREFIX}/api/executions/") and method == "GET":
            order_id = unquote(path.removeprefix(f"{PREFIX}/api/executions/"))
            return _json(200, console.execution(order_id))
        if path == f"{PREFIX}/api/sample-orders" and method == "POST":
            return _json(*console.submit_sample(_json_body(request).get("kind")))
        return _not_found(request)
    except ConsoleError as refused:
        return _json(refused.status, refused.document())


def _json_body(request: LocalRequest) -> dict[str, Any]:
    try:
        document = strict_json.loads(request.body or b"{}")
    except DuplicateKey as duplicate:
        raise ConsoleError(400, "MalformedJson", f"the body is not JSON: {duplicate}") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ConsoleError(400, "MalformedJson", "the body is not JSON") from None
    if not isinstance(document, dict):
        raise ConsoleError(400, "MalformedJson", "the body is not a JSON object")
    return document


def _not_found(request: LocalRequest) -> LocalResponse:
    return _json(404, {"error": "NotFound", "message": f"{request.method} {request.path}"})


def mount(server: LocalApiServer, runtime: LocalRuntime) -> Console:
    console = Console(runtime)
    server.register(PREFIX, lambda request: handle(console, request))
    return console
