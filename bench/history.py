"""A product's past orders, written where the inventory design keeps them, with the
store's own append path: as many events per call as one transaction takes."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from order_saga.adapters.event_store import MAX_EVENTS_PER_APPEND
from order_saga.domain.events import StockReserved
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.streams import load_stock, product_stream

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime


def add(runtime: LocalRuntime, product: str, past_orders: int, stock: int) -> None:
    """Stock ``stock`` units beyond what ``past_orders`` orders of one unit each took,
    and those orders: each holds its unit on the product's stock stream, as the stock
    never learns that an order was confirmed; the last long load left a snapshot."""
    assert runtime.ports is not None
    store = runtime.ports.store
    stock_product(runtime.ports, product, product, Decimal("4.50"), past_orders + stock)
    stream = product_stream(product)
    version = len(store.load(stream))
    for start in range(0, past_orders, MAX_EVENTS_PER_APPEND):
        events = [
            StockReserved(product_id=product, order_id=uuid.uuid4().hex, quantity=1)
            for _ in range(min(MAX_EVENTS_PER_APPEND, past_orders - start))
        ]
        store.append(stream, version, events, correlation_id="bench-history")
        version += len(events)
    load_stock(store, product)  # as the reservation after a long history would: a snapshot
