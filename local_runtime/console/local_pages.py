"""The local-only pages of `make serve`: what the saga's side effects look like.

    GET  /local/notifications[?order_id=&limit=]  what customers were told
    GET  /local/events[?order_id=&limit=]         what was published on the event bus
    GET  /local/failures                          the stream consumers' failure queues
    GET  /local/manual-review                 orders waiting on the manual-review queue
    POST /local/manual-review/redrive         ops.redrive against the local queue

None of these exists on AWS: there, SNS, EventBridge, SQS and `python -m ops.redrive`
answer the same questions.

The lists are the newest ``limit`` entries (1 to 1000, default 100), oldest first; a
``limit`` that is not decimal digits in that range, or an ``order_id`` that is not an id,
is refused with 422. Each page answers in bounded time whatever the history
(local_runtime/console/inspection.py).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from local_runtime.console.inspection import events_view, failures_view, notifications_view
from local_runtime.emulator.api_gateway import LocalResponse

if TYPE_CHECKING:
    from collections.abc import Callable

    from local_runtime.emulator.api_gateway import LocalApiServer, LocalRequest
    from local_runtime.runtime import LocalRuntime


ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
LIMIT = re.compile(r"[0-9]{1,4}")
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


class Refused(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid request: {field}: {reason}")
        self.field, self.reason = field, reason

    def document(self) -> dict[str, Any]:
        return {
            "error": "InvalidRequest",
            "message": str(self),
            "details": [{"field": self.field, "reason": self.reason}],
        }


def _parameter(request: LocalRequest, name: str) -> str | None:
    values = parse_qs(request.query, keep_blank_values=True).get(name)
    if values is None:
        return None
    if len(values) > 1:
        raise Refused(name, "given more than once")
    return values[0]


def _order_id(request: LocalRequest) -> str | None:
    value = _parameter(request, "order_id")
    if value is not None and not ORDER_ID.fullmatch(value):
        raise Refused("order_id", "1 to 64 letters, digits, _ or -")
    return value


def _limit(request: LocalRequest) -> int:
    value = _parameter(request, "limit")
    if value is None:
        return DEFAULT_LIMIT
    if not LIMIT.fullmatch(value) or not 1 <= int(value) <= MAX_LIMIT:
        raise Refused("limit", f"a whole number from 1 to {MAX_LIMIT}, in decimal digits")
    return int(value)


def _get_only(
    view: Callable[[LocalRequest], Any],
) -> Callable[[LocalRequest], LocalResponse]:
    def page(request: LocalRequest) -> LocalResponse:
        if request.method != "GET":
            return LocalResponse.json(405, {"error": "MethodNotAllowed", "message": "GET only"})
        try:
            return LocalResponse.json(200, view(request))
        except Refused as refused:
            return LocalResponse.json(422, refused.document())

    return page


def mount(server: LocalApiServer, runtime: LocalRuntime) -> None:
    server.register(
        "/local/notifications",
        _get_only(
            lambda request: notifications_view(
                runtime, _order_id(request), limit=_limit(request), bounded=True
            )
        ),
    )
    server.register(
        "/local/events",
        _get_only(
            lambda request: events_view(
                runtime, _order_id(request), limit=_limit(request), bounded=True
            )
        ),
    )
    server.register(
        "/local/failures", _get_only(lambda request: failures_view(runtime, bounded=True))
    )

    def manual_review(request: LocalRequest) -> LocalResponse:
        if request.method == "POST" and request.path.endswith("/redrive"):
            return LocalResponse.json(200, [asdict(outcome) for outcome in runtime.redrive()])
        if request.method == "GET" and request.path == "/local/manual-review":
            return LocalResponse.json(200, runtime.manual_review_items())
        return LocalResponse.json(404, {"error": "NotFound", "message": request.path})

    server.register("/local/manual-review", manual_review)
