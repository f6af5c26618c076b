"""The Order aggregate: its status machine, its invariants, and rebuilding it from events."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest

from order_saga.domain.events import (
    DomainEvent,
    InventoryReleased,
    InventoryReserved,
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderShipped,
    PaymentCompleted,
    PaymentFailed,
    PaymentProcessing,
    PaymentRefunded,
)
from order_saga.domain.order import Order
from order_saga.domain.order_status import TRANSITIONS, OrderStatus
from order_saga.domain.values import Address, OrderItem, StockLine
from order_saga.errors import DomainError, InvalidTransition

S = OrderStatus

ALLOWED: dict[OrderStatus, set[OrderStatus]] = {
    S.PENDING: {S.PAYMENT_PROCESSING, S.CANCELLED},
    S.PAYMENT_PROCESSING: {S.PAYMENT_COMPLETED, S.CANCELLED},
    S.PAYMENT_COMPLETED: {S.INVENTORY_RESERVED, S.CANCELLED},
    S.INVENTORY_RESERVED: {S.CONFIRMED, S.CANCELLED},
    S.CONFIRMED: {S.SHIPPED},
    S.SHIPPED: set(),
    S.CANCELLED: set(),
}
TARGETS = [status for status in S if status is not S.PENDING]  # no command leads to PENDING
PAIRS = [(source, target) for source in S for target in TARGETS]
ALLOWED_PAIRS = [(s, t) for s, t in PAIRS if t in ALLOWED[s]]
FORBIDDEN_PAIRS = [(s, t) for s, t in PAIRS if t not in ALLOWED[s]]

TOTAL = Decimal("60.02")
ITEMS = (
    OrderItem(product_id="sku-a", quantity=3, unit_price=Decimal("19.99")),
    OrderItem(product_id="sku-b", quantity=1, unit_price=Decimal("0.05")),
)
LINES = tuple(StockLine(product_id=i.product_id, quantity=i.quantity) for i in ITEMS)
ADDRESS = Address(street="1 Main St", city="Seattle", state="WA", postal_code="98101", country="US")


def history(status: OrderStatus, compensated: bool = False) -> list[DomainEvent]:
    """The events of a fresh order that has reached ``status``.

    ``compensated`` settles what a not yet finished order holds at that point: a charge
    with no outcome is recorded as failed, a completed one refunded, stock released
    (cancel refuses while it holds any of them).
    """
    order_id = f"order-{uuid.uuid4().hex[:16]}"
    payment_id, reservation_id = f"pay_{uuid.uuid4().hex}", f"res_{uuid.uuid4().hex}"
    created = OrderCreated(
        order_id=order_id,
        customer_id="cust-1",
        items=ITEMS,
        shipping_address=ADDRESS,
        payment_method="tok_visa",
        total=TOTAL,
    )
    path: list[tuple[OrderStatus, DomainEvent]] = [
        (S.PENDING, created),
        (
            S.PAYMENT_PROCESSING,
            PaymentProcessing(order_id=order_id, amount=TOTAL, idempotency_key=f"{order_id}:c"),
        ),
        (
            S.PAYMENT_COMPLETED,
            PaymentCompleted(order_id=order_id, payment_id=payment_id, amount=TOTAL),
        ),
        (
            S.INVENTORY_RESERVED,
            InventoryReserved(order_id=order_id, reservation_id=reservation_id, lines=LINES),
        ),
        (S.CONFIRMED, OrderConfirmed(order_id=order_id)),
        (S.SHIPPED, OrderShipped(order_id=order_id)),
    ]
    if status is S.CANCELLED:
        return [created, OrderCancelled(order_id=order_id, reason="CustomerRequest")]
    passed = path[: [step for step, _ in path].index(status) + 1]
    events = [event for _, event in passed]
    if compensated and status not in (S.CONFIRMED, S.SHIPPED):
        if status is S.PAYMENT_PROCESSING:
            events.append(
                PaymentFailed(order_id=order_id, amount=TOTAL, reason="declined", declined=True)
            )
        if any(s is S.PAYMENT_COMPLETED for s, _ in passed):
            events.append(refunded(order_id, payment_id))
        if any(s is S.INVENTORY_RESERVED for s, _ in passed):
            events.append(released(order_id, reservation_id))
    return events


def refunded(order_id: str, payment_id: str) -> PaymentRefunded:
    return PaymentRefunded(order_id=order_id, payment_id=payment_id, refund_id="re_1", amount=TOTAL)


def released(order_id: str, reservation_id: str) -> InventoryReleased:
    return InventoryReleased(order_id=order_id, reservation_id=reservation_id, lines=LINES)


def create(items: tuple[OrderItem, ...], address: Address = ADDRESS) -> Order:
    return Order.create(
        order_id=f"order-{uuid.uuid4().hex[:16]}",
        customer_id="cust-1",
        items=items,
        shipping_address=address,
        payment_method="tok_visa",
    )


COMMANDS: dict[OrderStatus, tuple[Callable[[Order], object], type[DomainEvent]]] = {
    S.PAYMENT_PROCESSING: (lambda o: o.start_payment(f"{o.order_id}:charge"), PaymentProcessing),
    S.PAYMENT_COMPLETED: (lambda o: o.complete_payment("pay_new"), PaymentCompleted),
    S.INVENTORY_RESERVED: (lambda o: o.reserve_inventory("res_new", LINES), InventoryReserved),
    S.CONFIRMED: (lambda o: o.confirm(), OrderConfirmed),
    S.SHIPPED: (lambda o: o.ship(), OrderShipped),
    S.CANCELLED: (lambda o: o.cancel("CustomerRequest"), OrderCancelled),
}


def test_the_domain_allows_exactly_the_documented_transitions() -> None:
    assert {s: set(targets) for s, targets in TRANSITIONS.items()} == ALLOWED


@pytest.mark.parametrize(("source", "target"), ALLOWED_PAIRS, ids=str)
def test_an_allowed_transition_reaches_the_target_with_one_event(
    source: OrderStatus, target: OrderStatus
) -> None:
    order = Order.rebuild(history(source, compensated=target is S.CANCELLED))
    command, event_type = COMMANDS[target]

    command(order)

    assert order.status is target
    assert [type(event) for event in order.pending] == [event_type]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN_PAIRS, ids=str)
def test_a_forbidden_transition_is_refused_and_records_nothing(
    source: OrderStatus, target: OrderStatus
) -> None:
    events = history(source, compensated=True)
    order = Order.rebuild(events)
    command, _ = COMMANDS[target]

    with pytest.raises(DomainError) as refused:
        command(order)

    assert isinstance(refused.value, InvalidTransition)
    assert f"from {source} to {target}" in str(refused.value)
    assert order.pending == []
    assert order.status is source
    assert order.version == len(events)


@pytest.mark.parametrize("status", [S.PAYMENT_COMPLETED, S.INVENTORY_RESERVED])
def test_cancel_refuses_while_the_payment_is_held(status: OrderStatus) -> None:
    order = Order.rebuild(history(status))

    with pytest.raises(InvalidTransition, match="refunded"):
        order.cancel("OutOfStock")

    assert order.pending == []
    assert order.status is status


def test_cancel_refuses_while_the_inventory_is_held_even_after_the_refund() -> None:
    events = history(S.INVENTORY_RESERVED)
    completed = next(e for e in events if isinstance(e, PaymentCompleted))
    order = Order.rebuild([*events, refunded(completed.order_id, completed.payment_id)])
    assert order.holds_payment is False

    with pytest.raises(InvalidTransition, match="release its inventory"):
        order.cancel("PaymentFailed")

    assert order.pending == []
    assert order.status is S.INVENTORY_RESERVED


def test_cancel_refuses_while_a_charge_has_no_recorded_outcome() -> None:
    """The charge may have gone through with its answer lost: settle it, then cancel."""
    order = Order.rebuild(history(S.PAYMENT_PROCESSING))

    with pytest.raises(InvalidTransition, match="settle it first"):
        order.cancel("Timeout")

    assert order.pending == []
    assert order.status is S.PAYMENT_PROCESSING


def test_cancel_records_the_reason_and_detail() -> None:
    order = Order.rebuild(history(S.INVENTORY_RESERVED, compensated=True))

    order.cancel("OutOfStock", "sku-a: 3 requested, 1 available")

    assert order.cancel_reason == "OutOfStock"
    assert order.cancel_detail == "sku-a: 3 requested, 1 available"


def test_the_domain_computes_the_total_from_the_items(
    items: tuple[OrderItem, ...], address: Address
) -> None:
    order = create(items, address)

    assert order.total == Decimal("60.02")
    assert isinstance(order.total, Decimal)
    assert [type(event) for event in order.pending] == [OrderCreated]
    assert order.pending[0].total == Decimal("60.02")  # type: ignore[attr-defined]


@pytest.mark.parametrize("count", [0, 101])
def test_create_rejects_an_order_without_items_or_with_too_many(
    count: int, address: Address
) -> None:
    items = tuple(
        OrderItem(product_id=f"sku-{n}", quantity=1, unit_price=Decimal("1.00"))
        for n in range(count)
    )

    with pytest.raises(DomainError, match=str(count)):
        create(items, address)


def test_create_accepts_one_hundred_items(address: Address) -> None:
    items = tuple(
        OrderItem(product_id=f"sku-{n}", quantity=1, unit_price=Decimal("1.00")) for n in range(100)
    )

    order = create(items, address)

    assert order.total == Decimal("100.00")


def test_create_rejects_the_same_product_twice(address: Address) -> None:
    items = (
        OrderItem(product_id="sku-a", quantity=1, unit_price=Decimal("1.00")),
        OrderItem(product_id="sku-a", quantity=2, unit_price=Decimal("1.00")),
    )

    with pytest.raises(DomainError, match="only once"):
        create(items, address)


@pytest.mark.parametrize("status", list(S))
def test_rebuild_reproduces_the_status_and_counts_the_events(status: OrderStatus) -> None:
    events = history(status)

    order = Order.rebuild(events)

    assert order.status is status
    assert order.version == len(events)
    assert order.pending == []


def test_rebuild_reproduces_what_the_events_say() -> None:
    events = history(S.INVENTORY_RESERVED, compensated=True)

    order = Order.rebuild(events)

    assert order.order_id == events[0].order_id  # type: ignore[attr-defined]
    assert order.total == TOTAL
    assert order.items == ITEMS
    assert order.holds_payment is False
    assert order.holds_inventory is False
    assert order.payment is not None and order.payment.refunded == TOTAL


def test_mark_stored_moves_the_pending_events_into_the_version() -> None:
    events = history(S.PAYMENT_COMPLETED)
    order = Order.rebuild(events)
    order.reserve_inventory("res_1", LINES)
    assert order.version == len(events)
    assert len(order.pending) == 1

    order.mark_stored()

    assert order.version == len(events) + 1
    assert order.pending == []


def test_a_new_order_is_pending_with_its_creation_not_yet_stored(
    items: tuple[OrderItem, ...], address: Address
) -> None:
    order = create(items, address)

    assert order.status is S.PENDING
    assert order.version == 0
    order.mark_stored()
    assert (order.version, order.pending) == (1, [])


@pytest.mark.parametrize("status", [S.CONFIRMED, S.SHIPPED, S.CANCELLED])
def test_a_finished_order_can_be_neither_refunded_nor_released(status: OrderStatus) -> None:
    order = Order.rebuild(history(status))

    with pytest.raises(InvalidTransition):
        order.refund_payment("re_late")
    with pytest.raises(InvalidTransition):
        order.release_inventory()

    assert order.pending == []


def test_only_a_paid_order_can_fail_its_reservation() -> None:
    order = Order.rebuild(history(S.PAYMENT_PROCESSING))

    with pytest.raises(InvalidTransition):
        order.fail_reservation(())

    assert order.pending == []
