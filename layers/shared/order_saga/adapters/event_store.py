"""The event store port, and its in-memory adapter.

The concurrency guard is the uniqueness of (stream id, version): an append writes the
versions after the one the writer loaded, on the condition that none exists yet, so
two writers can never both append version N. Appends to several streams are atomic.

A stream may also have a snapshot: an aggregate's state at some version, so a load
replays only the events after it. Snapshots are a shortcut, never the truth: a store
keeps only the newest one per stream, and losing it loses nothing.

Beside the streams, each product has a stock counter: its units available, one small
record the inventory decides on. An append may change counters with its events
(``StockChange``), all in one atomic write: a reservation takes units on condition that
enough remain, and appends the order's InventoryReserved, or does neither. So the cost
of a reservation never depends on the product's history, and reservations of one
product never conflict on its stream (see docs/architecture.md, "Inventory").
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from order_saga.adapters.clock import utc_now
from order_saga.domain.events import current_data, event_class, event_from_data
from order_saga.errors import ConcurrencyError, InsufficientStock

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from order_saga.domain.events import DomainEvent

MAX_EVENTS_PER_APPEND = 100
"""DynamoDB's limit of items in one transaction."""


@dataclass(frozen=True)
class RecordedEvent:
    """A domain event as stored, with its place in its stream and its metadata."""

    stream_id: str
    version: int
    event_type: str
    schema_version: int
    occurred_at: datetime
    correlation_id: str
    data: dict[str, Any]

    def to_domain(self) -> DomainEvent:
        """The event as its class is today, read through the version it was stored with."""
        return event_from_data(self.event_type, self.data, self.schema_version)

    def current(self) -> RecordedEvent:
        """This record with its data in the current shape of its type (an event stored in an
        older shape is upcast; the store keeps it as written)."""
        schema_version = event_class(self.event_type).schema_version
        if schema_version == self.schema_version:
            return self
        data = current_data(self.event_type, self.schema_version, self.data)
        return replace(self, schema_version=schema_version, data=data)


@dataclass(frozen=True)
class Snapshot:
    """An aggregate's state after the first ``version`` events of its stream."""

    stream_id: str
    version: int
    schema_version: int
    """The shape of ``state``, as the aggregate numbers it."""
    state: dict[str, Any]
    taken_at: datetime


@dataclass(frozen=True)
class StreamAppend:
    """New events for one stream, written after ``expected_version``."""

    stream_id: str
    expected_version: int
    events: Sequence[DomainEvent] = field(default_factory=tuple)


@dataclass(frozen=True)
class StockChange:
    """A change to one product's stock counter, written with an append's events.

    ``take``: minus ``quantity``, on condition that many are available (else the append
    fails with InsufficientStock, giving what is available); ``give`` and ``add``: plus
    ``quantity`` to a counter that exists (else InsufficientStock with None: the product
    has no counter yet); ``open``: a new counter of ``quantity`` units, on condition it has
    none (else ConcurrencyError: another writer opened it first)."""

    product_id: str
    kind: str
    quantity: int

    KINDS = ("take", "give", "add", "open")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown stock change {self.kind!r}")
        if self.quantity < (0 if self.kind == "open" else 1):
            raise ValueError(f"a stock change of {self.quantity} units")

    @classmethod
    def take(cls, product_id: str, quantity: int) -> StockChange:
        return cls(product_id, "take", quantity)

    @classmethod
    def give(cls, product_id: str, quantity: int) -> StockChange:
        return cls(product_id, "give", quantity)

    @classmethod
    def add(cls, product_id: str, quantity: int) -> StockChange:
        return cls(product_id, "add", quantity)

    @classmethod
    def open(cls, product_id: str, quantity: int) -> StockChange:
        return cls(product_id, "open", quantity)


class EventStore(ABC):
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        *,
        correlation_id: str,
    ) -> list[RecordedEvent]:
        return self.append_streams(
            [StreamAppend(stream_id, expected_version, events)], correlation_id=correlation_id
        )

    def append_streams(
        self,
        appends: Sequence[StreamAppend],
        *,
        correlation_id: str,
        stock: Sequence[StockChange] = (),
    ) -> list[RecordedEvent]:
        """Append to every stream and change every counter, or do nothing: raises
        ConcurrencyError when any stream has moved past its expected version, and
        InsufficientStock when a counter's condition fails (see StockChange)."""
        records = self._records(appends, correlation_id)
        products = [change.product_id for change in stock]
        if len(set(products)) != len(products):
            raise ValueError("each product's counter may change once in an append")
        if len(records) + len(stock) > MAX_EVENTS_PER_APPEND:
            raise ValueError(
                f"an append writes at most {MAX_EVENTS_PER_APPEND} items, events and counters"
            )
        self._write(records, sorted(stock, key=lambda change: change.product_id))
        return records

    @abstractmethod
    def stock_levels(self, product_ids: Iterable[str]) -> dict[str, int]:
        """The units available of each product that has a counter (the others left out)."""

    @abstractmethod
    def load(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        """The stream's events after ``after_version``, in version order; empty for a
        stream never written."""

    def load_events(self, stream_id: str, after_version: int = 0) -> list[DomainEvent]:
        return [record.to_domain() for record in self.load(stream_id, after_version)]

    @abstractmethod
    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        """The stream's newest snapshot, if it has one."""

    @abstractmethod
    def save_snapshot(self, snapshot: Snapshot) -> bool:
        """Keep the snapshot unless the stream has one as new or newer; True if kept."""

    def snapshot_of(
        self, stream_id: str, version: int, schema_version: int, state: dict[str, Any]
    ) -> Snapshot:
        return Snapshot(stream_id, version, schema_version, state, self._clock())

    @abstractmethod
    def stream_ids(self, prefix: str = "") -> list[str]:
        """Every stream written so far whose id starts with ``prefix``, sorted. Reads the
        whole store: for checks and operators (ops/invariants/), never for a request."""

    @abstractmethod
    def _write(self, records: list[RecordedEvent], stock: Sequence[StockChange] = ()) -> None:
        """Write all records and counter changes atomically, each record on condition its
        (stream, version) is new, each change on its own (StockChange)."""

    def _records(self, appends: Sequence[StreamAppend], correlation_id: str) -> list[RecordedEvent]:
        streams = [append.stream_id for append in appends]
        if len(set(streams)) != len(streams):
            raise ValueError("each stream may appear once in an append")
        count = sum(len(append.events) for append in appends)
        if not 1 <= count <= MAX_EVENTS_PER_APPEND:
            raise ValueError(f"an append holds 1 to {MAX_EVENTS_PER_APPEND} events, not {count}")
        now = self._clock()
        records = []
        for append in appends:
            if append.expected_version < 0:
                raise ValueError(f"expected version of {append.stream_id} is negative")
            for offset, event in enumerate(append.events, start=1):
                records.append(
                    RecordedEvent(
                        stream_id=append.stream_id,
                        version=append.expected_version + offset,
                        event_type=event.type_name(),
                        schema_version=event.schema_version,
                        occurred_at=now,
                        correlation_id=correlation_id,
                        data=event.model_dump(mode="json"),
                    )
                )
        return records


class InMemoryEventStore(EventStore):
    """The store for unit tests and for anything that needs no persistence."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(clock)
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def load(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        with self._lock:
            return list(self._streams.get(stream_id, ())[max(after_version, 0) :])

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        with self._lock:
            return self._snapshots.get(stream_id)

    def save_snapshot(self, snapshot: Snapshot) -> bool:
        with self._lock:
            kept = self._snapshots.get(snapshot.stream_id)
            if kept is not None and kept.version >= snapshot.version:
                return False
            self._snapshots[snapshot.stream_id] = snapshot
            return True

    def stream_ids(self, prefix: str = "") -> list[str]:
        with self._lock:
            return sorted(stream for stream in self._streams if stream.startswith(prefix))

    def stock_levels(self, product_ids: Iterable[str]) -> dict[str, int]:
        with self._lock:
            return {p: self._counters[p] for p in product_ids if p in self._counters}

    def _write(self, records: list[RecordedEvent], stock: Sequence[StockChange] = ()) -> None:
        with self._lock:
            for record in records:
                if len(self._streams.get(record.stream_id, ())) >= record.version:
                    raise ConcurrencyError(
                        f"stream {record.stream_id} already has version {record.version}"
                    )
            counters = apply_stock_changes(self._counters, stock)
            for record in records:
                self._streams.setdefault(record.stream_id, []).append(record)
            self._counters = counters


def apply_stock_changes(counters: dict[str, int], stock: Sequence[StockChange]) -> dict[str, int]:
    """The counters after the changes, as a new dict; raises as the store would
    (ConcurrencyError for a counter opened twice, InsufficientStock for the others)."""
    after = dict(counters)
    short: dict[str, int | None] = {}
    for change in stock:
        current = after.get(change.product_id)
        if change.kind == "open":
            if current is not None:
                raise ConcurrencyError(f"the stock counter of {change.product_id} exists")
            after[change.product_id] = change.quantity
        elif current is None:
            short[change.product_id] = None
        elif change.kind == "take" and current < change.quantity:
            short[change.product_id] = current
        else:
            sign = -1 if change.kind == "take" else 1
            after[change.product_id] = current + sign * change.quantity
    if short:
        raise InsufficientStock(short)
    return after
