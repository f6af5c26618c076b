"""A product's past orders, written where the inventory keeps them, with the store's own
append path (``append_streams``, as many items per call as one transaction takes).

Each past order is an order stream holding what its reservation wrote, an
InventoryReserved of one unit, and the product's stock counter gave that unit: per call,
99 orders and the counter's take of their 99 units, 100 items in one transaction (the
rest of each order's stream, never read by another order's reservation, is left out so
that 100,000 of them are written in minutes). The product's own stream holds only its
restock. Nothing here reads what it wrote: how much
a reservation costs afterwards is what the benchmark measures.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from order_saga.adapters.event_store import MAX_EVENTS_PER_APPEND, StockChange, StreamAppend
from order_saga.domain.events import InventoryReserved
from order_saga.domain.values import StockLine
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.repository import order_stream

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

PER_CALL = MAX_EVENTS_PER_APPEND - 1
"""Orders per append: one event each, and the counter."""


def add(runtime: LocalRuntime, product: str, past_orders: int, stock: int) -> None:
    """Stock ``past_orders + stock`` units, then ``past_orders`` orders of one unit each."""
    assert runtime.ports is not None
    store = runtime.ports.store
    price = Decimal("4.50")
    stock_product(runtime.ports, product, product, price, past_orders + stock)
    line = (StockLine(product_id=product, quantity=1),)
    for start in range(0, past_orders, PER_CALL):
        count = min(PER_CALL, past_orders - start)
        appends = []
        for _ in range(count):
            order_id = f"ord-past-{uuid.uuid4().hex[:16]}"
            reserved = InventoryReserved(order_id=order_id, reservation_id=order_id, lines=line)
            appends.append(StreamAppend(order_stream(order_id), 0, (reserved,)))
        store.append_streams(
            appends, correlation_id="bench-history", stock=[StockChange.take(product, count)]
        )
