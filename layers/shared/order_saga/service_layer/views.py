"""Read models built from the events: what the API shows of an order or a product.

An order is shown to one of two audiences. Operators see who did what: which operator
asked to cancel. Its customer sees that the shop cancelled, never which staff member (on
AWS an operator's id is a user pool subject or an IAM principal's digest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from order_saga.domain.events import CancellationRequested, current_data
from order_saga.domain.order import Order, requested_detail
from order_saga.domain.values import CENT
from order_saga.errors import OrderNotFound, ProductNotFound
from order_saga.service_layer.repository import load_stock, order_stream

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from order_saga.adapters.catalog import Product
    from order_saga.adapters.event_store import EventStore, RecordedEvent
    from order_saga.service_layer.dependencies import ApiDependencies

Audience = Literal["operator", "customer"]
REQUESTED = "OrderCancellationRequested"


def order_view(
    store: EventStore, order_id: str, *, audience: Audience = "operator"
) -> dict[str, Any]:
    records = store.load(order_stream(order_id))
    if not records:
        raise OrderNotFound(f"no order {order_id}")
    order = Order.rebuild(record.to_domain() for record in records)
    detail = order.cancel_detail or None
    if audience == "customer" and order.cancellation and order.cancel_reason == REQUESTED:
        # Worded afresh: an OrderCancelled of before named the operator in its detail.
        detail = requested_detail(order.cancellation)
    payment = order.payment
    requested = next((r for r in records if r.event_type == "CancellationRequested"), None)
    return {
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "status": order.status.value,
        "items": [item.model_dump(mode="json") for item in order.items],
        "shipping_address": order.shipping_address.model_dump(mode="json"),
        "total": str(order.total),
        "payment_id": payment.payment_id if payment else None,
        "payment_status": payment.status.value if payment else None,
        "refund_id": payment.refund_id if payment else None,
        "reservation_id": order.reservation.reservation_id if order.reservation else None,
        "cancellation_requested": (
            {
                "requested_by": _requested_by(order.cancellation, audience),
                "reason": order.cancellation.reason,
                "requested_at": requested.occurred_at.isoformat(),
            }
            if order.cancellation and requested
            else None
        ),
        "cancellation_reason": order.cancel_reason,
        "cancellation_detail": detail,
        "manual_review": (
            {
                "failed_step": order.compensation_failure.failed_step,
                "error": order.compensation_failure.error,
                "cause": order.compensation_failure.cause,
            }
            if order.compensation_failure
            else None
        ),
        "waiting_for_saga": waiting_for_saga(records),
        "created_at": records[0].occurred_at.isoformat(),
        "updated_at": records[-1].occurred_at.isoformat(),
        "version": order.version,
    }


def waiting_for_saga(records: list[RecordedEvent]) -> bool:
    """No step has acted on the order yet: its saga is still to start (from the stream, or
    the reconciler), or has started and not yet reached its first step."""
    return len(records) == 1 and records[0].event_type == "OrderCreated"


def _requested_by(request: CancellationRequested, audience: Audience) -> str:
    """Operators: the customer's id, or "operator <id>". The customer: their own id, or
    "shop" when an operator asked."""
    if request.requested_by_role == "operator":
        return f"operator {request.requested_by}" if audience == "operator" else "shop"
    return request.requested_by


def event_view(record: RecordedEvent, audience: Audience = "operator") -> dict[str, Any]:
    data = record.data
    if audience == "customer" and record.event_type == CancellationRequested.type_name():
        request = CancellationRequested.model_validate(
            current_data(record.event_type, record.schema_version, record.data)
        )
        if request.requested_by_role == "operator":
            data = {**data, "requested_by": "shop"}
            data.pop("requested_by_role", None)
    elif (
        audience == "customer"
        and record.event_type == "OrderCancelled"
        and data.get("reason") == REQUESTED
    ):
        data = {**data, "detail": _customer_detail(data.get("detail"))}
    return {
        "stream_id": record.stream_id,
        "version": record.version,
        "type": record.event_type,
        "schema_version": record.schema_version,
        "occurred_at": record.occurred_at.isoformat(),
        "correlation_id": record.correlation_id,
        "data": data,
    }


def _customer_detail(detail: object) -> str:
    """A requested cancellation's detail as its customer reads it: an operator named in
    it (as version 1 of the API wrote "requested by operator <id>") becomes the shop."""
    text = str(detail or "")
    head, colon, reason = text.partition(": ")
    if head.startswith("requested by operator "):
        return f"requested by the shop{colon}{reason}"
    return text


def order_events(
    store: EventStore, order_id: str, *, audience: Audience = "operator"
) -> list[dict[str, Any]]:
    records = store.load(order_stream(order_id))
    if not records:
        raise OrderNotFound(f"no order {order_id}")
    return [event_view(record, audience) for record in records]


def stock_level(store: EventStore, product_id: str) -> int:
    return stock_levels(store, [product_id])[product_id]


def stock_levels(store: EventStore, product_ids: Iterable[str]) -> dict[str, int]:
    """Units available by product: its stock counter (one batch read for them all), or,
    for a product stocked before the counters and not yet migrated, its stream."""
    wanted = list(dict.fromkeys(product_ids))
    levels = store.stock_levels(wanted)
    for product_id in wanted:
        if product_id not in levels:
            levels[product_id] = load_stock(store, product_id).available
    return levels


def product_view(deps: ApiDependencies, product_id: str) -> dict[str, Any]:
    product = deps.catalog.get(product_id)
    if product is None:
        raise ProductNotFound(f"no product {product_id}")
    return _product_view(deps.store, product)


def catalog_page(deps: ApiDependencies, limit: int, after: str | None = None) -> dict[str, Any]:
    """A page of the catalog with each product's stock (one batch read of their counters)."""
    products, next_after = deps.catalog.page(limit, after)
    levels = stock_levels(deps.store, [product.product_id for product in products])
    return {
        "products": [_product_view(deps.store, product, levels) for product in products],
        "next_cursor": next_after,
    }


def _product_view(
    store: EventStore, product: Product, levels: Mapping[str, int] | None = None
) -> dict[str, Any]:
    if levels is None:
        levels = stock_levels(store, [product.product_id])
    return {
        "product_id": product.product_id,
        "name": product.name,
        "unit_price": str(product.unit_price.quantize(CENT)),
        "available": levels[product.product_id],
    }
