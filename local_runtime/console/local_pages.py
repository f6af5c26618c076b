"""The local-only pages of `make serve`: what the saga's side effects look like.

    GET  /local/notifications[?order_id=...]  what customers were told
    GET  /local/events[?order_id=...]         what was published on the event bus
    GET  /local/failures                      the stream consumers' failure queues
    GET  /local/manual-review                 orders waiting on the manual-review queue
    POST /local/manual-review/redrive         ops.redrive against the local queue

None of these exists on AWS: there, SNS, EventBridge, SQS and `python -m ops.redrive`
answer the same questions.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from local_runtime.console.inspection import events_view, failures_view, notifications_view
from local_runtime.emulator.api_gateway import LocalResponse

if TYPE_CHECKING:
    from collections.abc import Callable

    from local_runtime.emulator.api_gateway import LocalApiServer, LocalRequest
    from local_runtime.runtime import LocalRuntime


def _order_id(request: LocalRequest) -> str | None:
    values = parse_qs(request.query).get("order_id")
    return values[0] if values else None


def _get_only(
    view: Callable[[LocalRequest], Any],
) -> Callable[[LocalRequest], LocalResponse]:
    def page(request: LocalRequest) -> LocalResponse:
        if request.method != "GET":
            return LocalResponse.json(405, {"error": "MethodNotAllowed", "message": "GET only"})
        return LocalResponse.json(200, view(request))

    return page


def mount(server: LocalApiServer, runtime: LocalRuntime) -> None:
    server.register(
        "/local/notifications",
        _get_only(lambda request: notifications_view(runtime, _order_id(request))),
    )
    server.register(
        "/local/events", _get_only(lambda request: events_view(runtime, _order_id(request)))
    )
    server.register("/local/failures", _get_only(lambda request: failures_view(runtime)))

    def manual_review(request: LocalRequest) -> LocalResponse:
        if request.method == "POST" and request.path.endswith("/redrive"):
            return LocalResponse.json(200, [asdict(outcome) for outcome in runtime.redrive()])
        if request.method == "GET" and request.path == "/local/manual-review":
            return LocalResponse.json(200, runtime.manual_review_items())
        return LocalResponse.json(404, {"error": "NotFound", "message": request.path})

    server.register("/local/manual-review", manual_review)
