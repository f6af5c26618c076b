"""The invariant checker (ops/invariants/) on in-memory stores: it passes every history
the saga can write, lists orders in manual review apart, and names each way a store can
lose or create money or stock. The broken stores are written past the domain, straight
into the store or as records, as a bug or a bad migration would write them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from ops.invariants import (
    InvariantChecker,
    LedgerLine,
    check,
    check_store,
    gateway_ledger,
)
from order_saga.adapters.event_store import RecordedEvent
from order_saga.domain.commands import ProcessPayment
from order_saga.domain.events import (
    DomainEvent,
    OrderCancelled,
    OrderConfirmed,
    PaymentRefunded,
    StockAdded,
    StockReserved,
)
from order_saga.service_layer.payments import process_payment
from order_saga.service_layer.repository import order_stream, product_stream
from tests.unit.sagas import (
    cancelled_by_customer,
    every_path,
    in_manual_review,
    in_memory_ports,
    legacy_product,
    place,
    product,
    released,
    run_saga,
)

if TYPE_CHECKING:
    from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
    from order_saga.service_layer.ports import Ports


def gateway(ports: Ports) -> SimulatedPaymentGateway:
    return ports.gateway  # type: ignore[return-value]


def append(ports: Ports, stream_id: str, event: DomainEvent) -> None:
    """Write one event past the domain's rules, at the stream's next version."""
    version = len(ports.store.load(stream_id))
    ports.store.append(stream_id, version, [event], correlation_id="test")


def records(stream_id: str, *events: DomainEvent, versions: list[int] | None = None) -> list:
    at = datetime(2026, 11, 28, tzinfo=UTC)
    return [
        RecordedEvent(
            stream_id=stream_id,
            version=version,
            event_type=event.type_name(),
            schema_version=1,
            occurred_at=at,
            correlation_id="test",
            data=event.model_dump(mode="json"),
        )
        for version, event in zip(versions or range(1, len(events) + 1), events, strict=True)
    ]


def whole_store(ports: Ports) -> dict[str, list[RecordedEvent]]:
    return {stream: ports.store.load(stream) for stream in ports.store.stream_ids()}


def counters(ports: Ports) -> dict[str, int]:
    """Every product's stock counter."""
    products = [s.removeprefix("product#") for s in ports.store.stream_ids("product#")]
    return ports.store.stock_levels(products)


def test_every_path_the_saga_takes_leaves_a_store_that_keeps_every_invariant() -> None:
    ports = in_memory_ports()
    paths = every_path(ports)
    released(ports)
    cancelled_by_customer(ports)

    report = check_store(ports.store, gateway_ledger(gateway(ports)))

    assert report.violations == []
    assert report.ok
    assert report.orders == 5
    assert report.by_status == {"SHIPPED": 1, "CANCELLED": 4}
    assert report.kept == Decimal("24.00")  # the shipped order: 2 x 12.00
    assert report.charged - report.refunded == Decimal("24.00")
    assert report.charged == Decimal("24.00") + Decimal("30.00") + Decimal("14.00")
    assert report.ledger == LedgerLine(report.charged, report.refunded)
    assert (report.stock_kept, report.stock_in_review) == (2, 0)
    assert report.stock_added == report.stock_available + 2
    assert report.manual_review == []
    assert report.by_status["SHIPPED"] == 1 and paths["shipped"] not in report.summary()


def test_an_order_in_manual_review_is_listed_with_what_it_holds_not_counted_silently() -> None:
    ports = in_memory_ports()
    order_id = in_manual_review(ports)

    report = check_store(ports.store, gateway_ledger(gateway(ports)))

    assert report.ok, report.violations
    (item,) = report.manual_review
    assert (item.order_id, item.status, item.failed_step) == (
        order_id,
        "PAYMENT_COMPLETED",
        "RefundPayment",
    )
    assert item.money_held == item.ledger_held == Decimal("18.00")
    assert report.review_held == Decimal("18.00")
    assert report.kept == Decimal("0.00")
    assert "in manual review 18.00" in report.summary()


def test_an_order_left_half_way_is_stuck() -> None:
    ports = in_memory_ports()
    order_id = place(ports, [(product(ports, "5.00", 3), 1)])
    process_payment(ProcessPayment(order_id=order_id), ports)

    report = check_store(ports.store, gateway_ledger(gateway(ports)))

    assert report.violations == [
        f"order {order_id} is stuck in PAYMENT_COMPLETED (not in manual review)",
        # the charge is neither kept nor in review: money the invariant cannot place
        "money: charged 5.00 - refunded 0.00 is not kept 0.00 + in manual review 0.00",
        "gateway: charged 5.00 - refunded 0.00 is not kept 0.00 + in manual review 0.00",
    ]


def test_a_cancelled_order_still_charged_is_money_taken() -> None:
    ports = in_memory_ports()
    order_id = place(ports, [(product(ports, "6.00", 3), 1)])
    process_payment(ProcessPayment(order_id=order_id), ports)
    append(ports, order_stream(order_id), OrderCancelled(order_id=order_id, reason="bug"))

    report = check_store(ports.store)

    assert f"order {order_id} is CANCELLED but still holds 6.00" in report.violations
    assert not report.ok


def test_a_refund_recorded_twice_is_money_created_and_an_event_twice() -> None:
    ports = in_memory_ports()
    order_id = place(ports, [(product(ports, "8.00", 1), 2)])
    run_saga(ports, order_id)  # out of stock: charged, refunded, cancelled
    refund = PaymentRefunded(order_id=order_id, payment_id="pay", refund_id="re", amount="8.00")
    append(ports, order_stream(order_id), refund)

    violations = check_store(ports.store).violations

    assert f"order {order_id}: PaymentRefunded appears 2 times" in violations
    assert f"order {order_id}: refunded 24.00, charged 16.00" in violations


def test_a_reservation_beyond_the_stock_is_an_oversell() -> None:
    ports = in_memory_ports()
    sku = legacy_product(ports, "2.00", 1)
    order_id = place(ports, [(sku, 2)])
    append(ports, product_stream(sku), StockReserved(product_id=sku, order_id=order_id, quantity=2))

    violations = check_store(ports.store).violations

    assert f"product {sku} v2: oversold, -1 available" in violations
    assert (
        f"product {sku}: order {order_id} holds 2 by the product's stream, 0 by its own"
        in violations
    )


def test_stock_held_for_an_order_that_does_not_exist_is_stock_lost() -> None:
    ports = in_memory_ports()
    sku = legacy_product(ports, "2.00", 5)
    append(ports, product_stream(sku), StockReserved(product_id=sku, order_id="ghost", quantity=1))

    report = check_store(ports.store)

    assert f"product {sku}: 1 held by order ghost, which does not exist" in report.violations
    assert f"product {sku}: added 5 is not available 4 + kept 0 + in manual review 0" in (
        report.violations
    )


def test_a_confirmation_that_skips_payment_breaks_the_status_machine() -> None:
    ports = in_memory_ports()
    order_id = place(ports, [(product(ports, "1.00", 5), 1)])
    append(ports, order_stream(order_id), OrderConfirmed(order_id=order_id))

    violations = check_store(ports.store).violations

    assert (
        f"order {order_id} v2: OrderConfirmed moved it from PENDING to CONFIRMED, which "
        "TRANSITIONS forbid" in violations
    )
    assert f"order {order_id} is CONFIRMED but holds 0.00 of its 1.00" in violations


def test_the_gateway_charging_an_order_the_store_never_charged_is_caught() -> None:
    ports = in_memory_ports()
    order_id = place(ports, [(product(ports, "3.00", 5), 1)])
    run_saga(ports, order_id)
    gateway(ports).charge(
        idempotency_key="order-elsewhere:charge", token="tok_visa", amount=Decimal("9.00")
    )
    lost = place(ports, [(product(ports, "4.00", 5), 1)], token="tok_chargeDeclined")
    run_saga(ports, lost)
    gateway(ports).charges[f"{lost}:charge"] = dataclasses.replace(
        gateway(ports).charges[f"{order_id}:charge"], amount=Decimal("4.00")
    )

    violations = check_store(ports.store, gateway_ledger(gateway(ports))).violations

    assert "gateway: 9.00 moved for order order-elsewhere, unknown" in violations
    assert "gateway: charged 16.00 - refunded 0.00 is not kept 3.00 + in manual review 0.00" in (
        violations
    )
    assert f"order {lost}: the gateway holds 4.00, the store says 0.00" in violations


def test_a_gap_a_duplicate_version_and_an_unreadable_event_are_each_named() -> None:
    added = StockAdded(product_id="sku-1", quantity=3)
    streams = {
        "product#sku-1": records("product#sku-1", added, added, versions=[1, 3]),
        "product#sku-2": [
            dataclasses.replace(r, data={"quantity": "lots"})
            for r in records("product#sku-2", StockAdded(product_id="sku-2", quantity=1))
        ],
        "cart#c1": records("cart#c1", added),
    }

    violations = check(streams).violations

    assert "product#sku-1: versions [1, 3] do not run from 1 without a gap" in violations
    assert any(v.startswith("product#sku-2 v1: unreadable StockAdded") for v in violations)
    assert "cart#c1: a stream of no known kind" in violations


def test_checking_again_reloads_only_the_streams_named_and_agrees_with_a_full_check() -> None:
    ports = in_memory_ports()
    checker = InvariantChecker()
    first = place(ports, [(product(ports, "5.00", 3), 1)])
    checker.refresh(ports.store)
    assert checker.report(counters=checker.counters(ports.store)).violations == [
        f"order {first} is stuck in PENDING (not in manual review)"
    ]

    run_saga(ports, first)
    second = place(ports, [(product(ports, "5.00", 3), 1)])
    run_saga(ports, second)
    checker.refresh(ports.store, [order_stream(first), order_stream(second)])
    checker.refresh(ports.store, [s for s in ports.store.stream_ids() if s.startswith("product#")])

    incremental = checker.report(gateway_ledger(gateway(ports)), checker.counters(ports.store))
    full = check(whole_store(ports), gateway_ledger(gateway(ports)), counters(ports))
    assert incremental.ok and full.ok
    assert incremental.summary() == full.summary()


def test_the_read_model_holds_every_order_with_the_store_status_and_nothing_else() -> None:
    from order_saga.adapters.read_model import InMemoryReadModel
    from order_saga.service_layer.projection import rebuild

    ports = in_memory_ports()
    orders = every_path(ports)
    model = InMemoryReadModel()
    rebuild(ports.store, model)
    assert check_store(ports.store, read_model=model.scan()).ok

    shipped = model.get(orders["shipped"])
    model.put(dataclasses.replace(shipped, status="CONFIRMED"), rewrite=True)
    model.delete(orders["declined"])
    model.put(dataclasses.replace(shipped, order_id="ord-nowhere"))
    found = check_store(ports.store, read_model=model.scan()).violations

    assert sorted(found) == sorted(
        [
            f"read model: order {orders['declined']} (CANCELLED) is missing",
            f"read model: order {orders['shipped']} is CONFIRMED there, SHIPPED in the store",
            "read model: order ord-nowhere is not in the store",
        ]
    )
