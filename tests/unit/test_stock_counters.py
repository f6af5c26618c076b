"""Stock counters: a reservation decided by the counter's condition, with the order's event
in one write, at a cost that does not depend on the product's history; and stores written
before the counters (reservations on the product's stream) read and migrated correctly."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ops.invariants import check_store, gateway_ledger
from order_saga.adapters.event_store import StockChange, StreamAppend
from order_saga.domain.commands import ProcessPayment, ReleaseInventory, ReserveInventory
from order_saga.domain.events import OrderConfirmed, StockReserved
from order_saga.domain.inventory import Inventory
from order_saga.domain.values import StockLine
from order_saga.errors import ConcurrencyError, InsufficientStock, OutOfStock
from order_saga.service_layer.catalog import add_stock
from order_saga.service_layer.inventory import release_inventory, reserve_inventory
from order_saga.service_layer.payments import process_payment
from order_saga.service_layer.repository import (
    load_order,
    load_stock,
    order_stream,
    product_stream,
)
from order_saga.service_layer.views import stock_level, stock_levels
from tests.unit.sagas import in_memory_ports, legacy_product, place, product, run_saga

if TYPE_CHECKING:
    from order_saga.service_layer.ports import Ports


def paid(ports: Ports, lines: list[tuple[str, int]]) -> str:
    order_id = place(ports, lines)
    process_payment(ProcessPayment(order_id=order_id), ports)
    return order_id


def reserved_the_old_way(ports: Ports, lines: list[tuple[str, int]]) -> str:
    """An order paid and reserved as the code before the counters did: StockReserved on
    every product's stream and InventoryReserved on the order's, in one append."""
    order_id = paid(ports, lines)
    order = load_order(ports.store, order_id)
    stock_lines = tuple(StockLine(product_id=p, quantity=q) for p, q in lines)
    inventory = Inventory({p: load_stock(ports.store, p) for p, _ in lines})
    inventory.reserve(order_id, stock_lines)
    order.reserve_inventory("res-old", stock_lines)
    appends = (
        [order.pending_append(order_stream(order_id))] if hasattr(order, "pending_append") else []
    )
    appends = [StreamAppend(order_stream(order_id), order.version, tuple(order.pending))]
    appends += [
        StreamAppend(product_stream(s.product_id), s.version, tuple(s.pending))
        for s in inventory.changed()
    ]
    ports.store.append_streams(appends, correlation_id=order_id)
    return order_id


def counter(ports: Ports, product_id: str) -> int | None:
    return ports.store.stock_levels([product_id]).get(product_id)


def test_a_reservation_takes_from_the_counters_and_writes_no_product_stream() -> None:
    ports = in_memory_ports()
    a, b = product(ports, "1.00", 5), product(ports, "2.00", 3)
    order_id = paid(ports, [(a, 2), (b, 3)])
    streams_before = {p: len(ports.store.load(product_stream(p))) for p in (a, b)}

    reserve_inventory(ReserveInventory(order_id=order_id), ports)

    assert (counter(ports, a), counter(ports, b)) == (3, 0)
    assert {p: len(ports.store.load(product_stream(p))) for p in (a, b)} == streams_before
    assert "InventoryReserved" in [r.event_type for r in ports.store.load(order_stream(order_id))]


def test_one_line_short_takes_nothing_and_names_the_shortage_from_the_counter() -> None:
    ports = in_memory_ports()
    a, b = product(ports, "1.00", 5), product(ports, "2.00", 1)
    order_id = paid(ports, [(a, 2), (b, 3)])

    with pytest.raises(OutOfStock) as raised:
        reserve_inventory(ReserveInventory(order_id=order_id), ports)

    assert [(s.product_id, s.requested, s.available) for s in raised.value.shortages] == [(b, 3, 1)]
    assert (counter(ports, a), counter(ports, b)) == (5, 1)
    types = [r.event_type for r in ports.store.load(order_stream(order_id))]
    assert types[-1] == "InventoryReservationFailed" and "InventoryReserved" not in types


def test_a_release_gives_back_exactly_what_the_reservation_took_once() -> None:
    ports = in_memory_ports()
    a = product(ports, "1.00", 5)
    order_id = paid(ports, [(a, 2)])
    reserve_inventory(ReserveInventory(order_id=order_id), ports)

    first = release_inventory(ReleaseInventory(order_id=order_id), ports)
    again = release_inventory(ReleaseInventory(order_id=order_id), ports)

    assert [(line.product_id, line.quantity) for line in first.released] == [(a, 2)]
    assert again.released == ()
    assert counter(ports, a) == 5


def test_an_append_whose_order_stream_moved_changes_no_counter() -> None:
    ports = in_memory_ports()
    a = product(ports, "1.00", 5)
    order_id = paid(ports, [(a, 1)])
    order = load_order(ports.store, order_id)
    stale = StreamAppend(
        order_stream(order_id), order.version - 1, (OrderConfirmed(order_id=order_id),)
    )
    with pytest.raises(ConcurrencyError):
        ports.store.append_streams([stale], correlation_id="t", stock=[StockChange.take(a, 1)])

    assert counter(ports, a) == 5


def test_a_counter_is_never_taken_below_zero() -> None:
    ports = in_memory_ports()
    a = product(ports, "1.00", 1)
    order_id = paid(ports, [(a, 1)])
    order = load_order(ports.store, order_id)
    append = StreamAppend(
        order_stream(order_id), order.version, (OrderConfirmed(order_id=order_id),)
    )
    with pytest.raises(InsufficientStock) as refused:
        ports.store.append_streams([append], correlation_id="t", stock=[StockChange.take(a, 2)])

    assert refused.value.available == {a: 1}
    assert counter(ports, a) == 1


# -- stores written before the counters ------------------------------------------------------


def test_a_product_stocked_before_the_counters_is_read_from_its_stream_until_migrated() -> None:
    ports = in_memory_ports()
    old = legacy_product(ports, "3.00", 7)
    holder = reserved_the_old_way(ports, [(old, 2)])
    run_saga(ports, holder)  # it confirms: nothing about the stock changes

    assert counter(ports, old) is None
    assert stock_level(ports.store, old) == 5
    assert stock_levels(ports.store, [old]) == {old: 5}
    report = check_store(ports.store, gateway_ledger(ports.gateway))  # type: ignore[arg-type]
    assert report.violations == []
    assert (report.stock_added, report.stock_available, report.stock_kept) == (7, 5, 2)


def test_the_first_reservation_opens_the_counter_from_the_stream_then_takes_from_it() -> None:
    ports = in_memory_ports()
    old = legacy_product(ports, "3.00", 7)
    holder = reserved_the_old_way(ports, [(old, 2)])
    order_id = paid(ports, [(old, 4)])

    reserve_inventory(ReserveInventory(order_id=order_id), ports)

    assert counter(ports, old) == 1  # 7 - 2 held the old way - 4 now
    types = [r.event_type for r in ports.store.load(product_stream(old))]
    assert types == ["StockAdded", "StockReserved", "StockCounterOpened"]
    run_saga(ports, holder)  # the old order confirms, keeping its 2
    run_saga(ports, order_id)
    report = check_store(ports.store, gateway_ledger(ports.gateway))  # type: ignore[arg-type]
    assert report.violations == []
    assert (report.stock_added, report.stock_available, report.stock_kept) == (7, 1, 6)


def test_an_order_that_held_stock_the_old_way_releases_it_through_the_counter() -> None:
    ports = in_memory_ports()
    old = legacy_product(ports, "3.00", 7)
    holder = reserved_the_old_way(ports, [(old, 2)])

    release_inventory(ReleaseInventory(order_id=holder), ports)  # opens the counter first

    assert counter(ports, old) == 7
    assert stock_level(ports.store, old) == 7
    types = [r.event_type for r in ports.store.load(product_stream(old))]
    assert "StockReleased" not in types and types[-1] == "StockCounterOpened"


def test_a_restock_of_an_old_product_opens_its_counter_and_adds_to_it() -> None:
    ports = in_memory_ports()
    old = legacy_product(ports, "3.00", 7)
    reserved_the_old_way(ports, [(old, 2)])

    add_stock(ports.store, old, 10)

    assert counter(ports, old) == 15
    types = [r.event_type for r in ports.store.load(product_stream(old))]
    assert types == ["StockAdded", "StockReserved", "StockCounterOpened", "StockAdded"]


def test_an_old_writer_racing_the_migration_is_fenced_by_the_opening_event() -> None:
    ports = in_memory_ports()
    old = legacy_product(ports, "3.00", 7)
    stale = load_stock(ports.store, old)  # an old writer loaded the stream...
    order_id = paid(ports, [(old, 1)])
    reserve_inventory(ReserveInventory(order_id=order_id), ports)  # ...the counter opened
    stale.reserve("order-late", 1)

    with pytest.raises(ConcurrencyError):
        ports.store.append_streams(
            [StreamAppend(product_stream(old), stale.version, tuple(stale.pending))],
            correlation_id="late",
        )


def test_a_product_never_stocked_is_out_of_stock_with_nothing_available() -> None:
    ports = in_memory_ports()
    ghost = product(ports, "1.00", 1)
    order_id = paid(ports, [(ghost, 1)])
    ports.store._counters.pop(ghost)  # type: ignore[attr-defined]
    ports.store._streams.pop(product_stream(ghost))  # type: ignore[attr-defined]

    with pytest.raises(OutOfStock) as raised:
        reserve_inventory(ReserveInventory(order_id=order_id), ports)

    assert [(s.requested, s.available) for s in raised.value.shortages] == [(1, 0)]


# -- the invariants over counters --------------------------------------------------------------


def test_a_counter_that_disagrees_with_the_events_is_stock_lost_or_created() -> None:
    ports = in_memory_ports()
    a = product(ports, "1.00", 5)
    ports.store._counters[a] = 6  # type: ignore[attr-defined]  # a bug wrote past the domain

    violations = check_store(ports.store).violations

    assert f"product {a}: added 5 is not available 6 + kept 0 + in manual review 0" in violations


def test_a_negative_counter_and_a_reservation_on_a_migrated_stream_are_violations() -> None:
    ports = in_memory_ports()
    a = product(ports, "1.00", 0 + 1)
    ports.store._counters[a] = -1  # type: ignore[attr-defined]
    late = StockReserved(product_id=a, order_id="order-late", quantity=1)
    ports.store.append(product_stream(a), 2, [late], correlation_id="late")

    violations = check_store(ports.store).violations

    assert f"product {a}: -1 available" in violations
    assert any("StockReserved after its counter opened" in v for v in violations)
