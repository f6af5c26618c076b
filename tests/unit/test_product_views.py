"""What the API shows of the catalog: catalog price and the stock the events add up to."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from order_saga.domain.commands import ProcessPayment, ReserveInventory
from order_saga.errors import ProductNotFound
from order_saga.service_layer.inventory import reserve_inventory
from order_saga.service_layer.payments import process_payment
from order_saga.service_layer.ports import Ports
from order_saga.service_layer.views import catalog_page, product_view

Stocked = Callable[..., str]
Placed = Callable[..., str]


def test_a_product_shows_its_catalog_price_and_the_stock_left_after_reservations(
    ports: Ports, stocked: Stocked, placed: Placed
) -> None:
    product_id = stocked("24.9", 50)
    order_id = placed((product_id, 3))
    process_payment(ProcessPayment(order_id=order_id), ports)
    reserve_inventory(ReserveInventory(order_id=order_id), ports)

    view = product_view(ports, product_id)

    assert view == {
        "product_id": product_id,
        "name": f"Product {product_id}",
        "unit_price": "24.90",
        "available": 47,
    }


def test_an_unknown_product_is_not_found_by_name(ports: Ports) -> None:
    with pytest.raises(ProductNotFound, match="sku-none"):
        product_view(ports, "sku-none")


def test_the_catalog_is_listed_a_page_at_a_time_with_a_cursor_to_go_on(
    ports: Ports, stocked: Stocked
) -> None:
    products = sorted(stocked("1.00", 5) for _ in range(3))

    first = catalog_page(ports, limit=2)
    second = catalog_page(ports, limit=2, after=first["next_cursor"])

    assert [p["product_id"] for p in first["products"]] == products[:2]
    assert first["next_cursor"] == products[1]
    assert [p["product_id"] for p in second["products"]] == products[2:]
    assert second["next_cursor"] is None
    assert {p["available"] for p in first["products"] + second["products"]} == {5}
