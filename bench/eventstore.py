"""How the event store's cost grows with a stream's history, with and without snapshots.

A product's stock stream gets one event per reservation and per release, for ever, and
every reservation loads the product's stock. For streams of 10, 100 and 1,000 events,
on the in-memory store and on DynamoDB (moto, with the local runtime's fixes), this
times appending one event and loading the stock the way the inventory step does
(``service_layer.repository.load_stock``), and counts the read units a load costs on
DynamoDB: first with snapshots switched off (every load replays the whole stream),
then on (a load replays only the events after the newest snapshot).
"""

from __future__ import annotations

import statistics
import time
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
from moto import mock_aws

from bench.meter import Meter
from local_runtime import patches
from local_runtime.emulator.tables import create_tables
from local_runtime.emulator.template import Template
from order_saga.adapters.dynamodb_event_store import DynamoDBEventStore
from order_saga.adapters.event_store import (
    MAX_EVENTS_PER_APPEND,
    InMemoryEventStore,
    Snapshot,
)
from order_saga.domain.events import StockAdded, StockReserved
from order_saga.service_layer.repository import load_stock, product_stream

if TYPE_CHECKING:
    from collections.abc import Iterator

    from order_saga.adapters.event_store import EventStore

LENGTHS = (10, 100, 1000)


class InMemoryWithoutSnapshots(InMemoryEventStore):
    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        return None

    def save_snapshot(self, snapshot: Snapshot) -> bool:
        return False


@contextmanager
def dynamodb_stores(meter: Meter) -> Iterator[tuple[EventStore, EventStore]]:
    """The same tables, without and with the snapshot table."""
    with mock_aws():
        patches.apply()
        session = boto3.Session(region_name="us-east-1")
        meter.attach(session)
        client = session.client("dynamodb")
        tables = create_tables(Template(), client, prefix=f"bench-{uuid.uuid4().hex[:8]}-")
        yield (
            DynamoDBEventStore(tables["EventStoreTable"], client),
            DynamoDBEventStore(
                tables["EventStoreTable"], client, snapshot_table=tables["SnapshotTable"]
            ),
        )


def fill(store: EventStore, product: str, length: int) -> None:
    """A stream of ``length`` events: stock added, then reservations of one unit."""
    stream = product_stream(product)
    events: list[Any] = [StockAdded(product_id=product, quantity=1_000_000)]
    events += [
        StockReserved(product_id=product, order_id=uuid.uuid4().hex, quantity=1)
        for _ in range(length - 1)
    ]
    for start in range(0, length, MAX_EVENTS_PER_APPEND):
        batch = events[start : start + MAX_EVENTS_PER_APPEND]
        store.append(stream, start, batch, correlation_id="bench")


def timed(action: Any, samples: int) -> float:
    """Median milliseconds of ``samples`` calls."""
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


class Appender:
    """Appends one reservation at a time to the end of a stream."""

    def __init__(self, store: EventStore, stream: str, version: int) -> None:
        self.store, self.stream, self.version = store, stream, version

    def __call__(self) -> None:
        event = StockReserved(product_id="x", order_id=uuid.uuid4().hex, quantity=1)
        self.store.append(self.stream, self.version, [event], correlation_id="bench")
        self.version += 1


def measure_store(
    name: str, snapshots: bool, store: EventStore, meter: Meter | None, samples: int
) -> list[dict[str, Any]]:
    rows = []
    for length in LENGTHS:
        product = f"sku-growth-{uuid.uuid4().hex[:8]}"
        fill(store, product, length)
        load_stock(store, product)  # a long replay may leave a snapshot behind
        if meter is not None:
            meter.reset()
        load_ms = timed(lambda p=product: load_stock(store, p), samples)
        reads = meter.reset().read_units / samples if meter is not None else None
        append_ms = timed(Appender(store, product_stream(product), length), samples)
        rows.append(
            {
                "store": name,
                "snapshots": snapshots,
                "events": length,
                "load_ms": round(load_ms, 2),
                "append_ms": round(append_ms, 2),
                "read_units_per_load": None if reads is None else str(reads.normalize()),
            }
        )
    return rows


def measure(samples: int = 15) -> list[dict[str, Any]]:
    rows = measure_store("in-memory", False, InMemoryWithoutSnapshots(), None, samples)
    rows += measure_store("in-memory", True, InMemoryEventStore(), None, samples)
    meter = Meter()
    with dynamodb_stores(meter) as (plain, snapshotting):
        rows += measure_store("DynamoDB (moto)", False, plain, meter, samples)
        rows += measure_store("DynamoDB (moto)", True, snapshotting, meter, samples)
    return rows
