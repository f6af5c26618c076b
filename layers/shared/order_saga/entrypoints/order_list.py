"""GET /orders: its strict query parameters and its page of order summaries.

Query strings arrive as text, and pydantic's lax integers would take " 10", "1_0", "+10"
or "10.0" for 10: ``limit`` accepts decimal digits only. Every other parameter is a closed
set (``status``), an id (``customer_id``) or the opaque cursor's alphabet; a parameter
this route does not know, or one given twice, is refused as well (422 InvalidRequest).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from order_saga.domain.order_status import OrderStatus
from order_saga.domain.values import SafeId
from order_saga.entrypoints.request_models import MoneyText
from order_saga.service_layer.order_summaries import MANUAL_REVIEW

DEFAULT_PAGE = 20
PARAMETERS = frozenset({"limit", "cursor", "status", "customer_id"})
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,512}$"

ListedStatus = StrEnum(  # type: ignore[misc]
    "ListedStatus", {**{s.name: s.value for s in OrderStatus}, MANUAL_REVIEW: MANUAL_REVIEW}
)
"""What ?status= may name: an order status, or MANUAL_REVIEW (operators)."""


def check_parameters(event: dict[str, Any]) -> None:
    """Refuse a query parameter the route does not know, one given more than once, and a
    limit that is not decimal digits (which pydantic's lax int would have taken)."""
    given = event.get("multiValueQueryStringParameters") or {}
    single = event.get("queryStringParameters") or {}
    problems = []
    for name in sorted(set(given) | set(single)):
        if name not in PARAMETERS:
            known = ", ".join(sorted(PARAMETERS))
            problems.append((name, f"unknown parameter; this route takes {known}"))
        elif len(given.get(name) or ()) > 1:
            problems.append((name, "given more than once"))
    limit = single.get("limit")
    if limit is not None and not (limit.isascii() and limit.isdigit()):
        problems.append(("limit", "write it in decimal digits only, such as 20"))
    if problems:
        # As Powertools reports a bad parameter: the same 422 InvalidRequest, with details.
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": reason, "type": "value_error"}
                for name, reason in problems
            ]
        )


class Body(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class OrderSummaryView(Body):
    order_id: SafeId
    customer_id: SafeId
    status: OrderStatus
    total: MoneyText
    item_count: int = Field(description="Units ordered, over all items.")
    created_at: datetime
    updated_at: datetime = Field(description="When the order last changed, as the list knows.")
    manual_review: bool = Field(description="A compensation gave up: an operator must act.")


class OrderPage(Body):
    orders: list[OrderSummaryView] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as ?cursor= (with the same filters) for the next page; null on the "
        "last one. A page may hold fewer than limit orders while there are more."
    )
