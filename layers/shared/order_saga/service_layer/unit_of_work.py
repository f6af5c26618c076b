"""The unit of work: the one commit point of a use case.

A use case loads its aggregates through a unit of work, lets them decide, and commits:
every event the aggregates recorded since they were loaded goes to the store in one
``append_streams`` (one TransactWriteItems on DynamoDB), each stream on condition that no
one appended since its load, and the aggregates are then marked stored. Nothing else in
the service layer writes events.

A use case may commit more than once where a write must land before something outside
happens (a charge, a refund); each such commit point says why where it is.

The stock counters a use case changes (``take_stock``, ``give_stock``, ...) are written in
the same commit as the events, all or nothing (adapters/event_store.py, StockChange).

Leaving the ``with`` block by an error drops what was not committed, as a rollback:
nothing was written. Leaving it normally with events still uncommitted is a bug in the use
case, and raises rather than losing them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from order_saga.adapters.event_store import StockChange, StreamAppend
from order_saga.service_layer.repository import load_order, load_stock, order_stream, product_stream

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType

    from order_saga.adapters.event_store import EventStore, RecordedEvent
    from order_saga.domain.aggregate import Aggregate
    from order_saga.domain.inventory import ProductStock
    from order_saga.domain.order import Order
    from order_saga.domain.values import StockLine


class UncommittedEvents(RuntimeError):
    """A use case returned with events its aggregates recorded and nobody committed."""


class UnitOfWork:
    def __init__(self, store: EventStore, correlation_id: str) -> None:
        self.store = store
        self.correlation_id = correlation_id
        """Stored with every event this unit commits (the order's id, say)."""
        self._seen: dict[str, Aggregate] = {}
        """Stream id -> the aggregate loaded (or added) from it, in load order."""
        self._stock: list[StockChange] = []
        """Counter changes to commit with the events."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        pending = self._pending_streams()
        if exc_type is None and pending:
            raise UncommittedEvents(f"events recorded and never committed: {', '.join(pending)}")

    # -- loading: every aggregate a use case changes comes through here ---------------------

    def order(self, order_id: str) -> Order:
        """The order rebuilt from its events; raises OrderNotFound."""
        stream = order_stream(order_id)
        seen = self._seen.get(stream)
        if seen is None:
            seen = self._seen[stream] = load_order(self.store, order_id)
        return seen  # type: ignore[return-value]

    def add_order(self, order: Order) -> None:
        """A new order: its stream must not exist yet (ConcurrencyError on commit)."""
        self._seen[order_stream(order.order_id)] = order

    def stock(self, product_id: str) -> ProductStock:
        stream = product_stream(product_id)
        seen = self._seen.get(stream)
        if seen is None:
            seen = self._seen[stream] = load_stock(self.store, product_id)
        return seen  # type: ignore[return-value]

    # -- stock counters: changed with the events, in the same commit -----------------------

    def take_stock(self, lines: Iterable[StockLine]) -> None:
        """Take each line's units, on condition enough are available."""
        self._stock += [StockChange.take(line.product_id, line.quantity) for line in lines]

    def give_stock(self, lines: Iterable[StockLine]) -> None:
        """Give back each line's units."""
        self._stock += [StockChange.give(line.product_id, line.quantity) for line in lines]

    def add_stock(self, product_id: str, quantity: int) -> None:
        self._stock.append(StockChange.add(product_id, quantity))

    def open_counter(self, product_id: str, available: int) -> None:
        self._stock.append(StockChange.open(product_id, available))

    # -- the commit point --------------------------------------------------------------------

    def commit(self) -> list[RecordedEvent]:
        """Write what every loaded aggregate recorded, all or nothing; raises
        ConcurrencyError (nothing written) when any of their streams moved meanwhile."""
        appends = [
            StreamAppend(stream, aggregate.version, tuple(aggregate.pending))
            for stream, aggregate in self._seen.items()
            if aggregate.pending
        ]
        if not appends:
            if self._stock:
                raise ValueError("stock counters change only with the events that say why")
            return []
        records = self.store.append_streams(
            appends, correlation_id=self.correlation_id, stock=self._stock
        )
        for aggregate in self._seen.values():
            aggregate.mark_stored()
        self._stock = []
        return records

    def _pending_streams(self) -> list[str]:
        return [stream for stream, aggregate in self._seen.items() if aggregate.pending]
