"""Read models built from the events: what the API shows of an order or a product."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from order_saga.domain.inventory import ProductStock
from order_saga.domain.order import Order
from order_saga.errors import OrderNotFound
from order_saga.service_layer.streams import order_stream, product_stream

if TYPE_CHECKING:
    from order_saga.adapters.event_store import EventStore, RecordedEvent


def order_view(store: EventStore, order_id: str) -> dict[str, Any]:
    records = store.load(order_stream(order_id))
    if not records:
        raise OrderNotFound(f"no order {order_id}")
    order = Order.rebuild(record.to_domain() for record in records)
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
                "requested_by": order.cancellation.requested_by,
                "reason": order.cancellation.reason,
                "requested_at": requested.occurred_at.isoformat(),
            }
            if order.cancellation and requested
            else None
        ),
        "cancellation_reason": order.cancel_reason,
        "cancellation_detail": order.cancel_detail or None,
        "created_at": records[0].occurred_at.isoformat(),
        "updated_at": records[-1].occurred_at.isoformat(),
        "version": order.version,
    }


def event_view(record: RecordedEvent) -> dict[str, Any]:
    return {
        "stream_id": record.stream_id,
        "version": record.version,
        "type": record.event_type,
        "schema_version": record.schema_version,
        "occurred_at": record.occurred_at.isoformat(),
        "correlation_id": record.correlation_id,
        "data": record.data,
    }


def order_events(store: EventStore, order_id: str) -> list[dict[str, Any]]:
    records = store.load(order_stream(order_id))
    if not records:
        raise OrderNotFound(f"no order {order_id}")
    return [event_view(record) for record in records]


def stock_level(store: EventStore, product_id: str) -> int:
    return ProductStock.rebuild(store.load_events(product_stream(product_id))).available
