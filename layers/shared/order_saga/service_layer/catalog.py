"""Stocking the shop: catalog entries and the stock that backs them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from order_saga.adapters.catalog import Product
from order_saga.service_layer.conflicts import retry_on_conflict
from order_saga.service_layer.stock_counters import open_counters
from order_saga.service_layer.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from decimal import Decimal

    from order_saga.adapters.event_store import EventStore
    from order_saga.service_layer.ports import Ports


def stock_product(
    ports: Ports, product_id: str, name: str, unit_price: Decimal, quantity: int
) -> None:
    """Put the product in the catalog and add ``quantity`` units to its stock."""
    ports.catalog.put(Product(product_id=product_id, name=name, unit_price=unit_price))
    add_stock(ports.store, product_id, quantity)


@retry_on_conflict
def add_stock(store: EventStore, product_id: str, quantity: int) -> None:
    """StockAdded on the product's stream and the units on its counter, in one write (the
    counter opened first for a product stocked before the counters)."""
    open_counters(store, [product_id])
    with UnitOfWork(store, product_id) as uow:
        stock = uow.stock(product_id)
        if stock.version == 0:  # a new product: its counter opens with its first units
            stock.open_counter()
            stock.add(quantity)
            uow.open_counter(product_id, quantity)
        else:
            stock.add(quantity)
            uow.add_stock(product_id, quantity)
        uow.commit()
