"""Read models built from the events: what the API shows of an order or a product."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from order_saga.domain.order import Order
from order_saga.domain.values import CENT
from order_saga.errors import OrderNotFound, ProductNotFound
from order_saga.service_layer.repository import load_stock, order_stream

if TYPE_CHECKING:
    from order_saga.adapters.catalog import Product
    from order_saga.adapters.event_store import EventStore, RecordedEvent
    from order_saga.service_layer.dependencies import ApiDependencies


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
        "manual_review": (
            {
                "failed_step": order.compensation_failure.failed_step,
                "error": order.compensation_failure.error,
                "cause": order.compensation_failure.cause,
            }
            if order.compensation_failure
            else None
        ),
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
    return load_stock(store, product_id).available


def product_view(deps: ApiDependencies, product_id: str) -> dict[str, Any]:
    product = deps.catalog.get(product_id)
    if product is None:
        raise ProductNotFound(f"no product {product_id}")
    return _product_view(deps.store, product)


def catalog_page(deps: ApiDependencies, limit: int, after: str | None = None) -> dict[str, Any]:
    """A page of the catalog with each product's stock (one stream read per product)."""
    products, next_after = deps.catalog.page(limit, after)
    return {
        "products": [_product_view(deps.store, product) for product in products],
        "next_cursor": next_after,
    }


def _product_view(store: EventStore, product: Product) -> dict[str, Any]:
    return {
        "product_id": product.product_id,
        "name": product.name,
        "unit_price": str(product.unit_price.quantize(CENT)),
        "available": stock_level(store, product.product_id),
    }
