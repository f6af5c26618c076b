"""Stock per product, and an order's reservation across products: all of it or none."""

from __future__ import annotations

import uuid

import pytest

from order_saga.domain.events import StockAdded, StockReleased, StockReserved
from order_saga.domain.inventory import Inventory, ProductStock
from order_saga.domain.values import Shortage, StockLine
from order_saga.errors import InvalidStockOperation, OutOfStock


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def stock_of(available: int) -> ProductStock:
    """A product with ``available`` units, already stored (nothing pending)."""
    stock = ProductStock.new(new_id("sku"))
    if available:
        stock.add(available)
        stock.mark_stored()
    return stock


def line(stock: ProductStock, quantity: int) -> StockLine:
    return StockLine(product_id=stock.product_id, quantity=quantity)


def inventory_of(*stocks: ProductStock) -> Inventory:
    return Inventory({stock.product_id: stock for stock in stocks})


# -- ProductStock -----------------------------------------------------------------------


def test_adding_stock_makes_it_available() -> None:
    stock = ProductStock.new(new_id("sku"))

    stock.add(7)
    stock.add(3)

    assert stock.available == 10
    assert [type(e) for e in stock.pending] == [StockAdded, StockAdded]


@pytest.mark.parametrize("quantity", [0, -1, 1_000_001])
def test_adding_a_quantity_out_of_bounds_is_refused(quantity: int) -> None:
    stock = stock_of(5)

    with pytest.raises(InvalidStockOperation):
        stock.add(quantity)

    assert stock.available == 5
    assert stock.pending == []


def test_reserving_takes_the_units_out_of_what_is_available() -> None:
    stock = stock_of(10)
    order_id = new_id("order")

    stock.reserve(order_id, 4)

    assert stock.available == 6
    assert stock.reserved == {order_id: 4}
    assert stock.pending == [
        StockReserved(product_id=stock.product_id, order_id=order_id, quantity=4)
    ]


def test_reserving_everything_available_leaves_zero() -> None:
    stock = stock_of(3)

    stock.reserve(new_id("order"), 3)

    assert stock.available == 0


def test_reserving_more_than_available_is_out_of_stock_and_records_nothing() -> None:
    stock = stock_of(2)

    with pytest.raises(OutOfStock) as refused:
        stock.reserve(new_id("order"), 3)

    assert refused.value.shortages == (
        Shortage(product_id=stock.product_id, requested=3, available=2),
    )
    assert stock.product_id in str(refused.value)
    assert stock.available == 2
    assert stock.reserved == {}
    assert stock.pending == []


def test_a_product_never_stocked_has_nothing_to_reserve() -> None:
    stock = stock_of(0)

    with pytest.raises(OutOfStock):
        stock.reserve(new_id("order"), 1)

    assert stock.available == 0


@pytest.mark.parametrize("quantity", [0, -1, 1001])
def test_reserving_a_quantity_out_of_bounds_is_refused(quantity: int) -> None:
    stock = stock_of(5000)

    with pytest.raises(InvalidStockOperation):
        stock.reserve(new_id("order"), quantity)

    assert stock.available == 5000
    assert stock.pending == []


def test_an_order_reserves_a_product_once() -> None:
    stock = stock_of(10)
    order_id = new_id("order")
    stock.reserve(order_id, 2)

    with pytest.raises(InvalidStockOperation, match="already holds"):
        stock.reserve(order_id, 1)

    assert stock.available == 8
    assert stock.reserved == {order_id: 2}


def test_release_gives_back_exactly_what_the_order_reserved() -> None:
    stock = stock_of(10)
    mine, theirs = new_id("order"), new_id("order")
    stock.reserve(mine, 4)
    stock.reserve(theirs, 1)
    stock.mark_stored()

    given_back = stock.release(mine)

    assert given_back == 4
    assert stock.available == 9
    assert stock.reserved == {theirs: 1}
    assert stock.pending == [StockReleased(product_id=stock.product_id, order_id=mine, quantity=4)]


def test_releasing_for_an_order_that_holds_nothing_is_refused() -> None:
    stock = stock_of(10)

    with pytest.raises(InvalidStockOperation, match="holds no"):
        stock.release(new_id("order"))

    assert stock.available == 10
    assert stock.pending == []


def test_a_stock_rebuilt_from_its_events_has_the_same_levels() -> None:
    stock = ProductStock.new(new_id("sku"))
    order_id = new_id("order")
    stock.add(10)
    stock.reserve(order_id, 3)
    stock.reserve(new_id("order"), 2)
    stock.release(order_id)

    rebuilt = ProductStock.rebuild(stock.pending)

    assert (rebuilt.product_id, rebuilt.available) == (stock.product_id, 8)
    assert rebuilt.reserved == stock.reserved
    assert rebuilt.version == 4


# -- Inventory: several products at once -------------------------------------------------


def test_inventory_reserves_every_line() -> None:
    a, b = stock_of(5), stock_of(5)
    order_id = new_id("order")

    inventory_of(a, b).reserve(order_id, (line(a, 2), line(b, 5)))

    assert (a.available, b.available) == (3, 0)
    assert a.reserved == {order_id: 2}
    assert b.reserved == {order_id: 5}


def test_one_short_product_reserves_nothing_and_names_it() -> None:
    a, short, c = stock_of(5), stock_of(1), stock_of(5)
    inventory = inventory_of(a, short, c)

    with pytest.raises(OutOfStock) as refused:
        inventory.reserve(new_id("order"), (line(a, 2), line(short, 3), line(c, 1)))

    assert refused.value.shortages == (
        Shortage(product_id=short.product_id, requested=3, available=1),
    )
    assert short.product_id in str(refused.value)
    assert [s.pending for s in (a, short, c)] == [[], [], []]
    assert (a.available, short.available, c.available) == (5, 1, 5)
    assert inventory.changed() == []


def test_every_short_product_is_listed() -> None:
    a, b, c = stock_of(0), stock_of(5), stock_of(2)

    with pytest.raises(OutOfStock) as refused:
        inventory_of(a, b, c).reserve(new_id("order"), (line(a, 1), line(b, 1), line(c, 9)))

    assert refused.value.shortages == (
        Shortage(product_id=a.product_id, requested=1, available=0),
        Shortage(product_id=c.product_id, requested=9, available=2),
    )
    assert a.product_id in str(refused.value) and c.product_id in str(refused.value)
    assert b.pending == []


def test_a_stock_refusing_for_another_reason_still_reserves_nothing() -> None:
    """All or nothing holds whatever the refusal: here the order already holds ``b``."""
    a, b = stock_of(5), stock_of(5)
    order_id = new_id("order")
    b.reserve(order_id, 1)
    b.mark_stored()
    inventory = inventory_of(a, b)

    with pytest.raises(InvalidStockOperation):
        inventory.reserve(order_id, (line(a, 1), line(b, 1)))

    assert a.pending == []
    assert a.available == 5
    assert inventory.changed() == []


def test_changed_lists_the_stocks_with_new_events() -> None:
    a, b = stock_of(5), stock_of(5)
    inventory = inventory_of(a, b)

    inventory.reserve(new_id("order"), (line(b, 1),))

    assert inventory.changed() == [b]


def test_inventory_release_gives_back_every_line() -> None:
    a, b = stock_of(5), stock_of(5)
    order_id = new_id("order")
    inventory = inventory_of(a, b)
    lines = (line(a, 2), line(b, 3))
    inventory.reserve(order_id, lines)

    inventory.release(order_id, lines)

    assert (a.available, b.available) == (5, 5)
    assert a.reserved == b.reserved == {}


def test_inventory_release_refuses_lines_that_differ_from_the_reservation() -> None:
    a, b = stock_of(5), stock_of(5)
    order_id = new_id("order")
    inventory = inventory_of(a, b)
    inventory.reserve(order_id, (line(a, 2), line(b, 3)))
    for stock in (a, b):
        stock.mark_stored()

    with pytest.raises(InvalidStockOperation, match="not the 4"):
        inventory.release(order_id, (line(a, 2), line(b, 4)))

    assert (a.available, b.available) == (3, 2)
    assert a.pending == b.pending == []


def test_inventory_release_refuses_an_order_that_holds_nothing() -> None:
    a = stock_of(5)

    with pytest.raises(InvalidStockOperation):
        inventory_of(a).release(new_id("order"), (line(a, 1),))

    assert a.available == 5
    assert a.pending == []
