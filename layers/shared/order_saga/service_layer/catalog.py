"""Stocking the shop: catalog entries and the stock that backs them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from order_saga.adapters.catalog import Product
from order_saga.service_layer.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from decimal import Decimal

    from order_saga.service_layer.ports import Ports


def stock_product(
    ports: Ports, product_id: str, name: str, unit_price: Decimal, quantity: int
) -> None:
    """Put the product in the catalog and add ``quantity`` units to its stock."""
    ports.catalog.put(Product(product_id=product_id, name=name, unit_price=unit_price))
    with UnitOfWork(ports.store, product_id) as uow:
        uow.stock(product_id).add(quantity)
        uow.commit()
