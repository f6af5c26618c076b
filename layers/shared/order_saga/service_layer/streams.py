"""Where each aggregate's events live, and loading and saving them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from order_saga.adapters.event_store import StreamAppend
from order_saga.domain.inventory import ProductStock
from order_saga.domain.order import Order
from order_saga.errors import OrderNotFound

if TYPE_CHECKING:
    from collections.abc import Iterable

    from order_saga.adapters.event_store import EventStore


def order_stream(order_id: str) -> str:
    return f"order#{order_id}"


def product_stream(product_id: str) -> str:
    return f"product#{product_id}"


def load_order(store: EventStore, order_id: str) -> Order:
    records = store.load(order_stream(order_id))
    if not records:
        raise OrderNotFound(f"no order {order_id}")
    order = Order.rebuild(record.to_domain() for record in records)
    order.created_at = records[0].occurred_at
    return order


def load_stock(store: EventStore, product_id: str) -> ProductStock:
    stock = ProductStock.rebuild(store.load_events(product_stream(product_id)))
    stock.product_id = product_id
    return stock


def order_append(order: Order) -> StreamAppend:
    return StreamAppend(order_stream(order.order_id), order.version, tuple(order.pending))


def stock_appends(stocks: Iterable[ProductStock]) -> list[StreamAppend]:
    return [
        StreamAppend(product_stream(s.product_id), s.version, tuple(s.pending))
        for s in stocks
        if s.pending
    ]


def save_order(store: EventStore, order: Order) -> None:
    store.append_streams([order_append(order)], correlation_id=order.order_id)
    order.mark_stored()
