"""A product's stock loads from its newest snapshot plus the events after it, and the
result is the same stock as replaying its whole history."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from order_saga.adapters.event_store import InMemoryEventStore, Snapshot
from order_saga.domain.events import StockAdded, StockReleased, StockReserved
from order_saga.domain.inventory import ProductStock
from order_saga.errors import StorageError
from order_saga.service_layer.repository import SNAPSHOT_AFTER, load_stock, product_stream

if TYPE_CHECKING:
    from order_saga.domain.events import DomainEvent


def history(product: str, reservations: int) -> list[DomainEvent]:
    """Stock added, then reservations of 1 to 3 units, every third one released."""
    events: list[DomainEvent] = [StockAdded(product_id=product, quantity=100_000)]
    for n in range(reservations):
        order = f"order-{n}"
        events.append(StockReserved(product_id=product, order_id=order, quantity=n % 3 + 1))
        if n % 3 == 0:
            events.append(StockReleased(product_id=product, order_id=order, quantity=n % 3 + 1))
    return events


def stored(events: list[DomainEvent], product: str) -> InMemoryEventStore:
    store = InMemoryEventStore()
    for start in range(0, len(events), 100):
        store.append(
            product_stream(product), start, events[start : start + 100], correlation_id="t"
        )
    return store


def same_stock(a: ProductStock, b: ProductStock) -> bool:
    return (a.product_id, a.version, a.available, a.reserved) == (
        b.product_id,
        b.version,
        b.available,
        b.reserved,
    )


def test_a_stock_restored_from_its_snapshot_is_the_stock_it_was() -> None:
    stock = ProductStock.rebuild(history("sku-a", 40))

    restored = ProductStock.from_snapshot(stock.snapshot(), stock.version)

    assert same_stock(restored, stock)
    assert restored.pending == []


def test_a_load_that_replays_a_long_history_leaves_a_snapshot_of_it() -> None:
    product = f"sku-{uuid.uuid4().hex[:8]}"
    events = history(product, SNAPSHOT_AFTER)
    store = stored(events, product)

    loaded = load_stock(store, product)

    snapshot = store.load_snapshot(product_stream(product))
    assert snapshot is not None
    assert snapshot.version == len(events) == loaded.version
    assert snapshot.schema_version == ProductStock.SNAPSHOT_SCHEMA
    assert same_stock(ProductStock.from_snapshot(snapshot.state, snapshot.version), loaded)


def test_a_short_history_is_replayed_without_a_snapshot() -> None:
    product = f"sku-{uuid.uuid4().hex[:8]}"
    store = stored(history(product, 10), product)

    load_stock(store, product)

    assert store.load_snapshot(product_stream(product)) is None


def test_snapshot_plus_later_events_is_the_same_stock_as_the_whole_history() -> None:
    product = f"sku-{uuid.uuid4().hex[:8]}"
    events = history(product, 300)
    store = stored(events, product)
    load_stock(store, product)  # leaves a snapshot at the end of the history
    later = [
        StockReserved(product_id=product, order_id="late-1", quantity=4),
        StockReleased(product_id=product, order_id="order-1", quantity=2),
    ]
    store.append(product_stream(product), len(events), later, correlation_id="t")

    loaded = load_stock(store, product)

    assert same_stock(loaded, ProductStock.rebuild(events + later))


def test_a_snapshot_of_another_shape_is_ignored_and_the_history_replayed() -> None:
    product = f"sku-{uuid.uuid4().hex[:8]}"
    events = history(product, 5)
    store = stored(events, product)
    store.save_snapshot(
        store.snapshot_of(
            product_stream(product),
            len(events),
            ProductStock.SNAPSHOT_SCHEMA + 1,
            {"something": "else"},
        )
    )

    loaded = load_stock(store, product)

    assert same_stock(loaded, ProductStock.rebuild(events))


class SnapshotsFail(InMemoryEventStore):
    def save_snapshot(self, snapshot: Snapshot) -> bool:
        raise StorageError("snapshot table unavailable")


def test_a_snapshot_that_cannot_be_saved_does_not_fail_the_load() -> None:
    product = f"sku-{uuid.uuid4().hex[:8]}"
    events = history(product, SNAPSHOT_AFTER)
    store = SnapshotsFail()
    for start in range(0, len(events), 100):
        store.append(
            product_stream(product), start, events[start : start + 100], correlation_id="t"
        )

    loaded = load_stock(store, product)

    assert same_stock(loaded, ProductStock.rebuild(events))
    assert store.load_snapshot(product_stream(product)) is None
