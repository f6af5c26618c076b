"""Which request fields an error is about, named as the API names them ("items.0.quantity",
"header.idempotency-key"): the ``details`` of an ErrorBody."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from order_saga.entrypoints.response_models import Problem
from order_saga.errors import IdempotencyKeyReused, PriceMismatch, SagaError, UnknownProduct

if TYPE_CHECKING:
    from order_saga.entrypoints.request_models import CreateOrderRequest


def problems_for(error: SagaError, request: CreateOrderRequest | None) -> list[Problem]:
    """The fields a refusal is about: a reused Idempotency-Key, or the items a catalog
    refusal names, by their place in the request."""
    if isinstance(error, IdempotencyKeyReused):
        return [Problem(field="header.idempotency-key", reason="used before with another body")]
    if request is None:
        return []
    if isinstance(error, UnknownProduct):
        unknown = set(error.product_ids)
        return [
            Problem(field=f"items.{index}.product_id", reason="not in the catalog")
            for index, item in enumerate(request.items)
            if item.product_id in unknown
        ]
    if isinstance(error, PriceMismatch):
        reasons = dict(error.mismatches)
        return [
            Problem(field=f"items.{index}.unit_price", reason=reasons[item.product_id])
            for index, item in enumerate(request.items)
            if item.product_id in reasons
        ]
    return []


def field_name(location: tuple[Any, ...]) -> str:
    """pydantic's ("body", "items", 0, "quantity") as "items.0.quantity"; a path or query
    parameter by its name; a header as "header.<name>"."""
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "path", "query"):
        parts = parts[1:]
    return ".".join(parts) or "body"
