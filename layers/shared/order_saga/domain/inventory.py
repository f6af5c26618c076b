"""Inventory: stock per product, reserved for an order all together or not at all.

A product's stream holds its restocks. Its units available are kept by its stock counter
(the event store's StockChange), which a reservation takes from in the same write that
records the order's InventoryReserved: the decision is the counter's condition, so it
costs the same whatever the product's history. Products stocked before the counters
existed have reservations on their stream too (StockReserved, StockReleased), and
ProductStock replays them as it always did; ``open_counter`` records the moment the
counter took over (StockCounterOpened), after which the stream takes no reservation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from order_saga.domain.aggregate import Aggregate
from order_saga.domain.events import (
    DomainEvent,
    StockAdded,
    StockCounterOpened,
    StockReleased,
    StockReserved,
)
from order_saga.domain.values import MAX_QUANTITY, Shortage, StockLine
from order_saga.errors import InvalidStockOperation, OutOfStock

if TYPE_CHECKING:
    from collections.abc import Mapping


class ProductStock(Aggregate):
    """One product's stock. ``available`` never goes below zero."""

    SNAPSHOT_SCHEMA = 1
    """Bumped whenever ``snapshot()`` changes shape; older snapshots are then ignored."""

    def __init__(self) -> None:
        super().__init__()
        self.product_id = ""
        self.available = 0
        self.reserved: dict[str, int] = {}
        """Units each order holds by this stream, by order id (frozen once the counter
        opened: those orders release through the counter)."""
        self.counter_opened = False
        """The stock counter keeps the units available from StockCounterOpened on."""

    @classmethod
    def new(cls, product_id: str) -> ProductStock:
        stock = cls()
        stock.product_id = product_id
        return stock

    def add(self, quantity: int) -> None:
        if not 1 <= quantity <= 1_000_000:
            raise InvalidStockOperation(f"cannot add {quantity} units of {self.product_id}")
        self._record(StockAdded(product_id=self.product_id, quantity=quantity))

    def open_counter(self) -> StockCounterOpened:
        """Hand the units available over to the stock counter."""
        if self.counter_opened:
            raise InvalidStockOperation(f"{self.product_id} already has its stock counter")
        event = StockCounterOpened(
            product_id=self.product_id,
            available=self.available,
            held=sum(self.reserved.values()),
        )
        self._record(event)
        return event

    def check_reservation(self, order_id: str, quantity: int) -> None:
        """Raise for a reservation that is wrong whatever the stock (OutOfStock aside)."""
        if self.counter_opened:
            raise InvalidStockOperation(f"{self.product_id} is reserved through its counter")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidStockOperation(f"cannot reserve {quantity} units of {self.product_id}")
        if order_id in self.reserved:
            raise InvalidStockOperation(f"order {order_id} already holds {self.product_id}")

    def reserve(self, order_id: str, quantity: int) -> None:
        self.check_reservation(order_id, quantity)
        if quantity > self.available:
            raise OutOfStock(
                f"{self.product_id}: {quantity} requested, {self.available} available",
                shortages=(self.shortage(quantity),),
            )
        self._record(
            StockReserved(product_id=self.product_id, order_id=order_id, quantity=quantity)
        )

    def release(self, order_id: str) -> int:
        """Give back exactly what the order holds; returns how many units."""
        if self.counter_opened:
            raise InvalidStockOperation(f"{self.product_id} is released through its counter")
        quantity = self.reserved.get(order_id)
        if quantity is None:
            raise InvalidStockOperation(f"order {order_id} holds no {self.product_id}")
        self._record(
            StockReleased(product_id=self.product_id, order_id=order_id, quantity=quantity)
        )
        return quantity

    def snapshot(self) -> dict[str, Any]:
        """The stock's state as plain data, to store beside its stream: loading then
        replays only the events after it."""
        return {
            "product_id": self.product_id,
            "available": self.available,
            "reserved": dict(self.reserved),
            "counter_opened": self.counter_opened,
        }

    @classmethod
    def from_snapshot(cls, state: Mapping[str, Any], version: int) -> ProductStock:
        """The stock as it was at ``version``, from ``snapshot()``'s data."""
        stock = cls.new(str(state["product_id"]))
        stock.available = int(state["available"])
        stock.reserved = {str(order): int(units) for order, units in state["reserved"].items()}
        stock.counter_opened = bool(state.get("counter_opened", False))  # absent: before it
        stock.version = version
        return stock

    def shortage(self, requested: int) -> Shortage:
        return Shortage(product_id=self.product_id, requested=requested, available=self.available)

    def _apply(self, event: DomainEvent) -> None:
        match event:
            case StockAdded():
                self.product_id = event.product_id
                self.available += event.quantity
            case StockReserved():
                self.available -= event.quantity
                self.reserved[event.order_id] = event.quantity
            case StockReleased():
                self.available += event.quantity
                del self.reserved[event.order_id]
            case StockCounterOpened():
                self.counter_opened = True
            case _:
                raise TypeError(f"a product stream cannot hold {type(event).__name__}")


class Inventory:
    """The stocks an order touches, changed together: every line reserved, or none."""

    def __init__(self, stocks: Mapping[str, ProductStock]) -> None:
        self.stocks = dict(stocks)

    def reserve(self, order_id: str, lines: tuple[StockLine, ...]) -> None:
        for line in lines:
            self.stocks[line.product_id].check_reservation(order_id, line.quantity)
        shortages = tuple(
            self.stocks[line.product_id].shortage(line.quantity)
            for line in lines
            if line.quantity > self.stocks[line.product_id].available
        )
        if shortages:
            detail = ", ".join(
                f"{s.product_id}: {s.requested} requested, {s.available} available"
                for s in shortages
            )
            raise OutOfStock(f"not enough stock for order {order_id} ({detail})", shortages)
        for line in lines:
            self.stocks[line.product_id].reserve(order_id, line.quantity)

    def release(self, order_id: str, lines: tuple[StockLine, ...]) -> None:
        for line in lines:
            stock = self.stocks[line.product_id]
            if stock.reserved.get(order_id) != line.quantity:
                raise InvalidStockOperation(
                    f"order {order_id} holds {stock.reserved.get(order_id, 0)} of "
                    f"{line.product_id}, not the {line.quantity} it reserved"
                )
        for line in lines:
            self.stocks[line.product_id].release(order_id)

    def changed(self) -> list[ProductStock]:
        return [stock for stock in self.stocks.values() if stock.pending]
