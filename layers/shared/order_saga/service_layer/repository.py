"""The repository: where each aggregate's events live (its stream id in the event store),
and loading aggregates from them."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING

from order_saga.domain.inventory import ProductStock
from order_saga.domain.order import Order
from order_saga.errors import OrderNotFound, StorageError

if TYPE_CHECKING:
    from order_saga.adapters.event_store import EventStore


SNAPSHOT_AFTER = 25
"""Events a stock load may replay before it leaves a snapshot. Small, because a
snapshot is cheap while the product's open reservations are few, and every event
replayed is read (and paid for) on every reservation until the next snapshot."""


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
    """The product's stock, from its newest snapshot and the events after it. A load
    that had to replay SNAPSHOT_AFTER events or more leaves a snapshot behind, so a
    popular product's load stays bounded however long its history grows."""
    stream = product_stream(product_id)
    snapshot = store.load_snapshot(stream)
    if snapshot is not None and snapshot.schema_version == ProductStock.SNAPSHOT_SCHEMA:
        stock = ProductStock.from_snapshot(snapshot.state, snapshot.version)
    else:
        stock = ProductStock()
    replayed = store.load_events(stream, after_version=stock.version)
    stock.replay(replayed)
    stock.product_id = product_id
    if len(replayed) >= SNAPSHOT_AFTER:
        _leave_snapshot(store, stream, stock)
    return stock


def _leave_snapshot(store: EventStore, stream: str, stock: ProductStock) -> None:
    snapshot = store.snapshot_of(stream, stock.version, stock.SNAPSHOT_SCHEMA, stock.snapshot())
    # A snapshot only spares the next loads some reading; the events are the truth.
    with suppress(StorageError):
        store.save_snapshot(snapshot)
