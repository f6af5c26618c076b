"""A product's past orders, written where the inventory keeps them, with the store's own
append path (``append_streams``, as many items per call as one transaction takes).

Each past order is an order stream holding its OrderCreated and its InventoryReserved of
one unit, and the product's stock counter gave that unit: per call, 49 orders (98
events) and the counter's take of their 49 units, 99 items in one transaction. The
product's own stream holds only its restock. Nothing here reads what it wrote: how much
a reservation costs afterwards is what the benchmark measures.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from order_saga.adapters.event_store import MAX_EVENTS_PER_APPEND, StockChange, StreamAppend
from order_saga.domain.events import InventoryReserved, OrderCreated
from order_saga.domain.values import Address, OrderItem, StockLine
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.repository import order_stream

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

PER_CALL = (MAX_EVENTS_PER_APPEND - 1) // 2
"""Orders per append: two events each, and the counter."""
ADDRESS = Address(street="1 Main St", city="Seattle", state="WA", postal_code="98101", country="US")


def add(runtime: LocalRuntime, product: str, past_orders: int, stock: int) -> None:
    """Stock ``past_orders + stock`` units, then ``past_orders`` orders of one unit each."""
    assert runtime.ports is not None
    store = runtime.ports.store
    price = Decimal("4.50")
    stock_product(runtime.ports, product, product, price, past_orders + stock)
    created = OrderCreated(
        order_id="template",
        customer_id="cust-history",
        items=(OrderItem(product_id=product, quantity=1, unit_price=price),),
        shipping_address=ADDRESS,
        payment_method="tok_visa",
        total=price,
    )
    line = (StockLine(product_id=product, quantity=1),)
    for start in range(0, past_orders, PER_CALL):
        count = min(PER_CALL, past_orders - start)
        appends = []
        for _ in range(count):
            order_id = f"ord-past-{uuid.uuid4().hex[:16]}"
            events = (
                created.model_copy(update={"order_id": order_id}),
                InventoryReserved(order_id=order_id, reservation_id=order_id, lines=line),
            )
            appends.append(StreamAppend(order_stream(order_id), 0, events))
        store.append_streams(
            appends, correlation_id="bench-history", stock=[StockChange.take(product, count)]
        )
