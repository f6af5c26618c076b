"""The sample shop the demo and the local API start with, and where its sample orders go."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.repository import product_stream

if TYPE_CHECKING:
    from order_saga.service_layer.ports import Ports

SAMPLE_PRODUCTS = (
    # product id, name, unit price, units in stock
    ("sku-espresso-beans", "Espresso beans, 1 kg", Decimal("24.90"), 50),
    ("sku-pour-over-kettle", "Pour-over kettle", Decimal("59.00"), 60),
    ("sku-burr-grinder", "Burr grinder", Decimal("149.99"), 3),
)

ADDRESS = {
    "street": "1 Main St",
    "city": "Seattle",
    "state": "WA",
    "postal_code": "98101",
    "country": "US",
}
"""The shipping address of every sample order (demo, console, bench, reliability, tests)."""


def seed(ports: Ports) -> list[str]:
    """Stock each sample product that has no stock history yet; returns those it stocked.
    Seeding twice (the demo, then the local server, or a re-run on AWS) adds nothing."""
    stocked = []
    for product_id, name, price, quantity in SAMPLE_PRODUCTS:
        if ports.store.load(product_stream(product_id)):
            continue
        stock_product(ports, product_id, name, price, quantity)
        stocked.append(product_id)
    return stocked
