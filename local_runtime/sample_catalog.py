"""The sample shop the demo and the local API start with."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from order_saga.service_layer.catalog import stock_product

if TYPE_CHECKING:
    from order_saga.service_layer.ports import Ports

SAMPLE_PRODUCTS = (
    # product id, name, unit price, units in stock
    ("sku-espresso-beans", "Espresso beans, 1 kg", Decimal("24.90"), 50),
    ("sku-pour-over-kettle", "Pour-over kettle", Decimal("59.00"), 60),
    ("sku-burr-grinder", "Burr grinder", Decimal("149.99"), 3),
)


def seed(ports: Ports) -> None:
    for product_id, name, price, quantity in SAMPLE_PRODUCTS:
        stock_product(ports, product_id, name, price, quantity)
