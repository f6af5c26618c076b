"""The service layer on in-memory adapters: each use case, and each one delivered twice."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest

from order_saga.adapters.payment_gateway import (
    CHARGE_LIMIT,
    DECLINED_TOKEN,
    UNAVAILABLE_TOKEN,
    SimulatedPaymentGateway,
)
from order_saga.adapters.saga_launcher import RecordingSagaLauncher
from order_saga.domain.commands import (
    CancelOrder,
    ConfirmOrder,
    CreateOrder,
    ProcessPayment,
    RefundPayment,
    ReleaseInventory,
    ReserveInventory,
    ShipOrder,
)
from order_saga.domain.order_status import OrderStatus
from order_saga.domain.payment import Payment, PaymentStatus
from order_saga.domain.values import Shortage, StockLine
from order_saga.errors import (
    GatewayUnavailable,
    IdempotencyKeyReused,
    InvalidTransition,
    OrderAlreadyExists,
    OrderConfirmedAfterAll,
    OrderNotFound,
    OutOfStock,
    PaymentDeclined,
    PriceMismatch,
    SagaStartThrottled,
    UnknownProduct,
)
from order_saga.service_layer.inventory import release_inventory, reserve_inventory
from order_saga.service_layer.orders import (
    cancel_order,
    confirm_order,
    create_order,
    place_order,
    ship_order,
)
from order_saga.service_layer.payments import charge_key, process_payment, refund_payment
from order_saga.service_layer.ports import Ports
from order_saga.service_layer.repository import load_order, order_stream, product_stream
from order_saga.service_layer.unit_of_work import UnitOfWork
from order_saga.service_layer.views import order_events, order_view, stock_level

Stocked = Callable[..., str]
Placed = Callable[..., str]
Command = Callable[..., CreateOrder]
NewId = Callable[[str], str]

LAMBDA_CAUSE = json.dumps(
    {
        "errorMessage": "not enough stock for order o-1 (sku-a: 3 requested, 1 available)",
        "errorType": "OutOfStock",
        "requestId": "5e1b7c1c-3a8f-4d3e-9c43-1b2d3c4d5e6f",
        "stackTrace": ['  File "/var/task/handler.py", line 1, in handler\n'],
    }
)


def event_types(ports: Ports, order_id: str) -> list[str]:
    return [record.event_type for record in ports.store.load(order_stream(order_id))]


def status_of(ports: Ports, order_id: str) -> OrderStatus:
    return load_order(ports.store, order_id).status


def payment_of(ports: Ports, order_id: str) -> Payment:
    payment = load_order(ports.store, order_id).payment
    assert payment is not None
    return payment


@pytest.fixture
def two_products(stocked: Stocked) -> tuple[str, str]:
    """19.99 with 10 units, 0.05 with 5 units."""
    return stocked("19.99", 10), stocked("0.05", 5)


@pytest.fixture
def paid(ports: Ports, placed: Placed, two_products: tuple[str, str]) -> str:
    """An order of 3 x 19.99 + 1 x 0.05 = 60.02, charged."""
    a, b = two_products
    order_id = placed((a, 3), (b, 1))
    process_payment(ProcessPayment(order_id=order_id), ports)
    return order_id


@pytest.fixture
def reserved(ports: Ports, paid: str) -> str:
    reserve_inventory(ReserveInventory(order_id=paid), ports)
    return paid


# -- create_order ---------------------------------------------------------------------------


@pytest.mark.parametrize("echoed", [None, "19.99", "19.990"])
def test_an_order_is_priced_from_the_catalog(
    ports: Ports, stocked: Stocked, create_command: Command, echoed: str | None
) -> None:
    a, b = stocked("19.99"), stocked("0.05")
    prices = {a: echoed} if echoed else {}

    order = create_order(create_command((a, 3), (b, 1), prices=prices), ports)

    assert order.total == Decimal("60.02")
    assert [(i.product_id, i.unit_price) for i in order.items] == [
        (a, Decimal("19.99")),
        (b, Decimal("0.05")),
    ]
    [created] = ports.store.load(order_stream(order.order_id))
    assert created.event_type == "OrderCreated"
    assert created.data["total"] == "60.02"


def test_a_price_that_differs_from_the_catalog_is_refused_naming_both(
    ports: Ports, stocked: Stocked, create_command: Command, saga: RecordingSagaLauncher
) -> None:
    a = stocked("19.99")
    command = create_command((a, 1), prices={a: "18.00"})

    with pytest.raises(PriceMismatch) as refused:
        create_order(command, ports)

    assert a in str(refused.value)
    assert "18.00" in str(refused.value) and "19.99" in str(refused.value)
    assert ports.store.load(order_stream(command.order_id)) == []
    assert saga.started == []


def test_an_unknown_product_is_refused_by_name(
    ports: Ports,
    stocked: Stocked,
    create_command: Command,
    saga: RecordingSagaLauncher,
    new_id: NewId,
) -> None:
    known, unknown = stocked(), new_id("sku")
    command = create_command((known, 1), (unknown, 1))

    with pytest.raises(UnknownProduct, match=unknown):
        create_order(command, ports)

    assert ports.store.load(order_stream(command.order_id)) == []
    assert saga.started == []


def test_creating_an_order_starts_its_saga_once(
    ports: Ports, stocked: Stocked, create_command: Command, saga: RecordingSagaLauncher
) -> None:
    command = create_command((stocked(), 1))

    create_order(command, ports)

    assert saga.started == [command.order_id]
    assert status_of(ports, command.order_id) is OrderStatus.PENDING


def test_the_same_order_placed_again_under_its_id_is_the_first_one(
    ports: Ports, stocked: Stocked, create_command: Command, saga: RecordingSagaLauncher
) -> None:
    first = create_command((stocked(), 1))
    placed = place_order(first, ports)
    again = place_order(first, ports)  # a retry whose first answer was lost

    assert placed.created and not again.created
    assert again.order.order_id == first.order_id and again.saga_started
    assert event_types(ports, first.order_id) == ["OrderCreated"]
    assert saga.started == [first.order_id]


def test_a_second_create_with_the_same_id_and_another_order_is_refused(
    ports: Ports, stocked: Stocked, create_command: Command, saga: RecordingSagaLauncher
) -> None:
    product = stocked()
    first = create_command((product, 1))
    create_order(first, ports)
    second = create_command((product, 2), order_id=first.order_id).model_copy(
        update={"customer_id": first.customer_id}
    )

    with pytest.raises(IdempotencyKeyReused, match=first.order_id):
        create_order(second, ports)

    assert event_types(ports, first.order_id) == ["OrderCreated"]
    assert load_order(ports.store, first.order_id).items[0].quantity == 1
    assert saga.started == [first.order_id]


@pytest.mark.parametrize(
    "use_case, command",
    [
        (process_payment, ProcessPayment),
        (refund_payment, RefundPayment),
        (reserve_inventory, ReserveInventory),
        (release_inventory, ReleaseInventory),
        (confirm_order, ConfirmOrder),
        (ship_order, ShipOrder),
    ],
)
def test_a_step_for_an_unknown_order_is_refused(
    ports: Ports, new_id: NewId, use_case: Callable, command: type
) -> None:
    order_id = new_id("order")

    with pytest.raises(OrderNotFound, match=order_id):
        use_case(command(order_id=order_id), ports)

    assert ports.store.load(order_stream(order_id)) == []


# -- process_payment ------------------------------------------------------------------------


def test_payment_charges_the_order_total_once_when_delivered_twice(
    ports: Ports, placed: Placed, two_products: tuple[str, str], gateway: SimulatedPaymentGateway
) -> None:
    a, b = two_products
    order_id = placed((a, 3), (b, 1))

    first = process_payment(ProcessPayment(order_id=order_id), ports)
    second = process_payment(ProcessPayment(order_id=order_id), ports)

    assert second == first
    assert first.amount == Decimal("60.02")
    [charge] = gateway.charges.values()
    assert (charge.payment_id, charge.amount) == (first.payment_id, Decimal("60.02"))
    assert event_types(ports, order_id) == ["OrderCreated", "PaymentProcessing", "PaymentCompleted"]
    assert status_of(ports, order_id) is OrderStatus.PAYMENT_COMPLETED


def test_a_declined_card_records_the_failure_once(
    ports: Ports, placed: Placed, stocked: Stocked, gateway: SimulatedPaymentGateway
) -> None:
    order_id = placed((stocked(), 1), token=DECLINED_TOKEN)

    with pytest.raises(PaymentDeclined):
        process_payment(ProcessPayment(order_id=order_id), ports)
    with pytest.raises(PaymentDeclined, match="declined"):
        process_payment(ProcessPayment(order_id=order_id), ports)

    assert event_types(ports, order_id) == ["OrderCreated", "PaymentProcessing", "PaymentFailed"]
    assert gateway.charges == {}
    assert gateway.declines == 1
    assert payment_of(ports, order_id).status is PaymentStatus.FAILED


def test_an_amount_over_the_charge_limit_is_declined(
    ports: Ports, placed: Placed, stocked: Stocked, gateway: SimulatedPaymentGateway
) -> None:
    order_id = placed((stocked(str(CHARGE_LIMIT / 2 + Decimal("0.01"))), 2))

    with pytest.raises(PaymentDeclined, match="limit"):
        process_payment(ProcessPayment(order_id=order_id), ports)

    assert gateway.charges == {}
    assert event_types(ports, order_id)[-1] == "PaymentFailed"


def test_an_amount_at_the_charge_limit_is_charged(
    ports: Ports, placed: Placed, stocked: Stocked
) -> None:
    order_id = placed((stocked(str(CHARGE_LIMIT / 2)), 2))

    result = process_payment(ProcessPayment(order_id=order_id), ports)

    assert result.amount == CHARGE_LIMIT


def test_an_unavailable_gateway_leaves_the_payment_processing(
    ports: Ports, placed: Placed, stocked: Stocked, gateway: SimulatedPaymentGateway
) -> None:
    order_id = placed((stocked(), 1), token=UNAVAILABLE_TOKEN)

    with pytest.raises(GatewayUnavailable):
        process_payment(ProcessPayment(order_id=order_id), ports)

    assert status_of(ports, order_id) is OrderStatus.PAYMENT_PROCESSING
    assert event_types(ports, order_id) == ["OrderCreated", "PaymentProcessing"]
    assert gateway.charges == {}


def test_refund_settles_a_charge_that_never_went_through_as_failed(
    ports: Ports, placed: Placed, stocked: Stocked, gateway: SimulatedPaymentGateway
) -> None:
    order_id = placed((stocked(), 1), token=UNAVAILABLE_TOKEN)
    with pytest.raises(GatewayUnavailable):
        process_payment(ProcessPayment(order_id=order_id), ports)

    result = refund_payment(RefundPayment(order_id=order_id), ports)

    assert (result.refund_id, result.amount) == (None, Decimal("0.00"))
    assert payment_of(ports, order_id).status is PaymentStatus.FAILED
    assert gateway.refunds == {}
    cancelled = cancel_order(CancelOrder(order_id=order_id, reason="GatewayUnavailable"), ports)
    assert cancelled.status == "CANCELLED"


def lose_the_answer_of_a_charge(ports: Ports, order_id: str) -> None:
    """The gateway charged the order but the step died before recording it."""
    with UnitOfWork(ports.store, order_id) as uow:
        order = uow.order(order_id)
        order.start_payment(charge_key(order_id))
        uow.commit()
    ports.gateway.charge(
        idempotency_key=charge_key(order_id), token=order.payment_method, amount=order.total
    )


def test_refund_settles_a_charge_whose_answer_was_lost_and_gives_it_back(
    ports: Ports, placed: Placed, stocked: Stocked, gateway: SimulatedPaymentGateway
) -> None:
    order_id = placed((stocked("19.99"), 2))
    lose_the_answer_of_a_charge(ports, order_id)

    result = refund_payment(RefundPayment(order_id=order_id), ports)

    assert result.amount == Decimal("39.98")
    assert event_types(ports, order_id)[-2:] == ["PaymentCompleted", "PaymentRefunded"]
    assert gateway.net_charged() == 0


def test_a_payment_retried_after_a_lost_answer_charges_once(
    ports: Ports, placed: Placed, stocked: Stocked, gateway: SimulatedPaymentGateway
) -> None:
    order_id = placed((stocked("19.99"), 2))
    lose_the_answer_of_a_charge(ports, order_id)

    result = process_payment(ProcessPayment(order_id=order_id), ports)

    assert len(gateway.charges) == 1
    assert result.amount == Decimal("39.98")
    assert status_of(ports, order_id) is OrderStatus.PAYMENT_COMPLETED


# -- reserve_inventory / release_inventory ------------------------------------------------


def test_reserving_takes_exactly_the_ordered_quantities(
    ports: Ports, paid: str, two_products: tuple[str, str]
) -> None:
    a, b = two_products

    result = reserve_inventory(ReserveInventory(order_id=paid), ports)

    assert result.lines == (
        StockLine(product_id=a, quantity=3),
        StockLine(product_id=b, quantity=1),
    )
    assert (stock_level(ports.store, a), stock_level(ports.store, b)) == (7, 4)
    assert status_of(ports, paid) is OrderStatus.INVENTORY_RESERVED


def test_reserving_twice_reserves_once(
    ports: Ports, paid: str, two_products: tuple[str, str]
) -> None:
    a, b = two_products

    first = reserve_inventory(ReserveInventory(order_id=paid), ports)
    second = reserve_inventory(ReserveInventory(order_id=paid), ports)

    assert second == first
    assert (stock_level(ports.store, a), stock_level(ports.store, b)) == (7, 4)
    assert event_types(ports, paid).count("InventoryReserved") == 1
    # the product's stream is not written: its counter decides, with the order's event
    assert [r.event_type for r in ports.store.load(product_stream(a))] == [
        "StockCounterOpened",
        "StockAdded",
    ]


def test_reserving_before_the_payment_is_refused(
    ports: Ports, placed: Placed, two_products: tuple[str, str]
) -> None:
    a, _ = two_products
    order_id = placed((a, 1))

    with pytest.raises(InvalidTransition):
        reserve_inventory(ReserveInventory(order_id=order_id), ports)

    assert stock_level(ports.store, a) == 10


def test_out_of_stock_records_the_failure_once_and_leaves_the_stock_alone(
    ports: Ports, placed: Placed, stocked: Stocked
) -> None:
    plenty, scarce = stocked("1.00", 10), stocked("2.00", 2)
    order_id = placed((plenty, 4), (scarce, 3))
    process_payment(ProcessPayment(order_id=order_id), ports)

    with pytest.raises(OutOfStock) as refused:
        reserve_inventory(ReserveInventory(order_id=order_id), ports)
    with pytest.raises(OutOfStock) as again:
        reserve_inventory(ReserveInventory(order_id=order_id), ports)

    expected = (Shortage(product_id=scarce, requested=3, available=2),)
    assert refused.value.shortages == again.value.shortages == expected
    assert event_types(ports, order_id).count("InventoryReservationFailed") == 1
    assert (stock_level(ports.store, plenty), stock_level(ports.store, scarce)) == (10, 2)
    assert status_of(ports, order_id) is OrderStatus.PAYMENT_COMPLETED


def test_release_gives_back_exactly_what_was_reserved_and_only_once(
    ports: Ports, reserved: str, two_products: tuple[str, str]
) -> None:
    a, b = two_products

    first = release_inventory(ReleaseInventory(order_id=reserved), ports)
    second = release_inventory(ReleaseInventory(order_id=reserved), ports)

    assert first.released == (
        StockLine(product_id=a, quantity=3),
        StockLine(product_id=b, quantity=1),
    )
    assert second.released == ()
    assert (stock_level(ports.store, a), stock_level(ports.store, b)) == (10, 5)
    assert event_types(ports, reserved).count("InventoryReleased") == 1


def test_releasing_an_order_that_reserved_nothing_is_a_no_op(ports: Ports, paid: str) -> None:
    before = event_types(ports, paid)

    assert release_inventory(ReleaseInventory(order_id=paid), ports).released == ()
    assert event_types(ports, paid) == before


# -- refund_payment -------------------------------------------------------------------------


def test_refund_gives_back_exactly_the_charge_once(
    ports: Ports, paid: str, gateway: SimulatedPaymentGateway
) -> None:
    first = refund_payment(RefundPayment(order_id=paid), ports)
    second = refund_payment(RefundPayment(order_id=paid), ports)

    assert first.amount == Decimal("60.02") and first.refund_id is not None
    assert (second.refund_id, second.amount) == (None, Decimal("0.00"))
    [refund] = gateway.refunds.values()
    assert refund.amount == Decimal("60.02")
    assert gateway.net_charged() == 0
    assert event_types(ports, paid).count("PaymentRefunded") == 1


def test_refunding_an_order_never_charged_moves_no_money(
    ports: Ports, placed: Placed, stocked: Stocked, gateway: SimulatedPaymentGateway
) -> None:
    order_id = placed((stocked(), 1))

    result = refund_payment(RefundPayment(order_id=order_id), ports)

    assert (result.refund_id, result.amount) == (None, Decimal("0.00"))
    # the compensation is on record, so no forward step may move the order on
    assert event_types(ports, order_id) == ["OrderCreated", "CompensationStarted"]
    with pytest.raises(InvalidTransition, match="being compensated"):
        process_payment(ProcessPayment(order_id=order_id), ports)
    assert gateway.refunds == {}


def test_a_late_confirmation_after_the_compensation_began_is_refused(
    ports: Ports, reserved: str, gateway: SimulatedPaymentGateway
) -> None:
    """A ConfirmOrder whose answer was lost may land after RefundPayment started: it
    must not confirm an order whose money is going back."""
    refund_payment(RefundPayment(order_id=reserved), ports)

    with pytest.raises(InvalidTransition, match="being compensated"):
        confirm_order(ConfirmOrder(order_id=reserved), ports)

    assert "OrderConfirmed" not in event_types(ports, reserved)
    assert gateway.net_charged() == Decimal("0.00")


def test_compensating_an_order_confirmed_after_all_moves_no_money_or_stock(
    ports: Ports, reserved: str, gateway: SimulatedPaymentGateway
) -> None:
    """ConfirmOrder's Catch (States.ALL, e.g. a crash after the confirmation was stored)
    leads to the compensation: the confirmed order must keep its charge and its stock."""
    confirm_order(ConfirmOrder(order_id=reserved), ports)

    refund = refund_payment(RefundPayment(order_id=reserved), ports)
    release = release_inventory(ReleaseInventory(order_id=reserved), ports)
    with pytest.raises(OrderConfirmedAfterAll):
        cancel_order(CancelOrder(order_id=reserved, reason="InjectedFault"), ports)

    assert refund.amount == Decimal("0.00")
    assert release.released == ()
    assert event_types(ports, reserved)[-1] == "OrderConfirmed"
    assert gateway.refunds == {}
    assert gateway.net_charged() == Decimal("60.02")


# -- cancel / confirm / ship ----------------------------------------------------------------


def test_cancel_is_refused_while_the_money_is_held(ports: Ports, paid: str) -> None:
    with pytest.raises(InvalidTransition, match="refunded"):
        cancel_order(CancelOrder(order_id=paid, reason="OutOfStock"), ports)

    assert status_of(ports, paid) is OrderStatus.PAYMENT_COMPLETED


def test_cancel_is_refused_while_the_stock_is_held(ports: Ports, reserved: str) -> None:
    refund_payment(RefundPayment(order_id=reserved), ports)

    with pytest.raises(InvalidTransition, match="inventory"):
        cancel_order(CancelOrder(order_id=reserved, reason="OutOfStock"), ports)

    assert status_of(ports, reserved) is OrderStatus.INVENTORY_RESERVED


def test_cancel_after_the_compensations_keeps_the_reason_and_the_lambda_error_message(
    ports: Ports, reserved: str
) -> None:
    refund_payment(RefundPayment(order_id=reserved), ports)
    release_inventory(ReleaseInventory(order_id=reserved), ports)

    result = cancel_order(
        CancelOrder(order_id=reserved, reason="OutOfStock", cause=LAMBDA_CAUSE), ports
    )

    assert (result.status, result.reason) == ("CANCELLED", "OutOfStock")
    order = load_order(ports.store, reserved)
    assert order.cancel_reason == "OutOfStock"
    assert order.cancel_detail == (
        "not enough stock for order o-1 (sku-a: 3 requested, 1 available)"
    )


@pytest.mark.parametrize(
    ("cause", "detail"),
    [
        (None, ""),
        ("", ""),
        ("the gateway timed out", "the gateway timed out"),
        ('["not", "an", "object"]', '["not", "an", "object"]'),
        (json.dumps({"errorType": "Boom"}), json.dumps({"errorType": "Boom"})),
        (json.dumps({"errorMessage": "x" * 5000}), "x" * 1000),
    ],
    ids=["none", "empty", "plain-text", "json-list", "no-message", "long-message"],
)
def test_the_cancellation_detail_is_read_from_any_cause(
    ports: Ports, placed: Placed, stocked: Stocked, cause: str | None, detail: str
) -> None:
    order_id = placed((stocked(), 1))

    cancel_order(CancelOrder(order_id=order_id, reason="Timeout", cause=cause), ports)

    assert load_order(ports.store, order_id).cancel_detail == detail


def test_cancel_never_strands_a_charge_whose_answer_was_lost(
    ports: Ports, placed: Placed, stocked: Stocked, gateway: SimulatedPaymentGateway
) -> None:
    """Cancel may refuse, or settle first; either way the charge must stay refundable."""
    order_id = placed((stocked("19.99"), 2))
    lose_the_answer_of_a_charge(ports, order_id)

    with contextlib.suppress(InvalidTransition):
        cancel_order(CancelOrder(order_id=order_id, reason="Timeout"), ports)
    refund_payment(RefundPayment(order_id=order_id), ports)

    assert gateway.net_charged() == 0


def test_cancelling_twice_cancels_once(ports: Ports, placed: Placed, stocked: Stocked) -> None:
    order_id = placed((stocked(), 1), token=DECLINED_TOKEN)
    with pytest.raises(PaymentDeclined):
        process_payment(ProcessPayment(order_id=order_id), ports)

    first = cancel_order(CancelOrder(order_id=order_id, reason="PaymentDeclined"), ports)
    second = cancel_order(CancelOrder(order_id=order_id, reason="Other"), ports)

    assert first.model_dump(exclude={"duration_ms", "changed"}) == second.model_dump(
        exclude={"duration_ms", "changed"}
    )
    assert (first.changed, second.changed) == (True, False)
    assert first.duration_ms is not None and first.duration_ms >= 0
    assert second.duration_ms is None  # only the call that cancelled measures the order
    assert second.reason == "PaymentDeclined"
    assert event_types(ports, order_id).count("OrderCancelled") == 1


def test_confirming_twice_confirms_once(ports: Ports, reserved: str) -> None:
    first = confirm_order(ConfirmOrder(order_id=reserved), ports)
    second = confirm_order(ConfirmOrder(order_id=reserved), ports)

    assert first.model_dump(exclude={"duration_ms", "changed"}) == second.model_dump(
        exclude={"duration_ms", "changed"}
    )
    assert (first.changed, second.changed) == (True, False)
    assert first.status == "CONFIRMED"
    assert first.duration_ms is not None and second.duration_ms is None
    assert event_types(ports, reserved).count("OrderConfirmed") == 1


def test_confirming_an_order_without_stock_is_refused(ports: Ports, paid: str) -> None:
    with pytest.raises(InvalidTransition):
        confirm_order(ConfirmOrder(order_id=paid), ports)

    assert status_of(ports, paid) is OrderStatus.PAYMENT_COMPLETED


def test_a_confirmed_order_ships(ports: Ports, reserved: str) -> None:
    confirm_order(ConfirmOrder(order_id=reserved), ports)

    result = ship_order(ShipOrder(order_id=reserved), ports)

    assert result.status == "SHIPPED"
    assert status_of(ports, reserved) is OrderStatus.SHIPPED


def test_only_a_confirmed_order_ships(ports: Ports, reserved: str) -> None:
    with pytest.raises(InvalidTransition):
        ship_order(ShipOrder(order_id=reserved), ports)

    assert "OrderShipped" not in event_types(ports, reserved)


def test_an_order_ships_once(ports: Ports, reserved: str) -> None:
    confirm_order(ConfirmOrder(order_id=reserved), ports)
    ship_order(ShipOrder(order_id=reserved), ports)

    with pytest.raises(InvalidTransition):
        ship_order(ShipOrder(order_id=reserved), ports)

    assert event_types(ports, reserved).count("OrderShipped") == 1


# -- views ----------------------------------------------------------------------------------


def test_the_view_of_a_confirmed_order(ports: Ports, reserved: str) -> None:
    confirm_order(ConfirmOrder(order_id=reserved), ports)
    order = load_order(ports.store, reserved)

    view = order_view(ports.store, reserved)

    assert view["order_id"] == reserved
    assert view["status"] == "CONFIRMED"
    assert view["total"] == "60.02"
    assert order.payment is not None and order.reservation is not None
    assert view["payment_id"] == order.payment.payment_id
    assert view["payment_status"] == "COMPLETED"
    assert view["refund_id"] is None
    assert view["reservation_id"] == order.reservation.reservation_id
    assert view["cancellation_reason"] is None
    assert view["version"] == 5
    assert [i["unit_price"] for i in view["items"]] == ["19.99", "0.05"]
    json.dumps(view)  # JSON-safe as it is


def test_the_view_of_a_cancelled_order(ports: Ports, reserved: str) -> None:
    refund_payment(RefundPayment(order_id=reserved), ports)
    release_inventory(ReleaseInventory(order_id=reserved), ports)
    cancel_order(CancelOrder(order_id=reserved, reason="OutOfStock", cause=LAMBDA_CAUSE), ports)

    view = order_view(ports.store, reserved)

    assert view["status"] == "CANCELLED"
    assert view["payment_status"] == "REFUNDED"
    assert view["refund_id"] is not None
    assert view["reservation_id"] is not None
    assert view["cancellation_reason"] == "OutOfStock"
    assert view["cancellation_detail"].startswith("not enough stock")


def test_the_view_of_a_new_order_has_no_payment_yet(
    ports: Ports, placed: Placed, stocked: Stocked
) -> None:
    order_id = placed((stocked(), 1))

    view = order_view(ports.store, order_id)

    assert (view["status"], view["payment_id"], view["payment_status"]) == ("PENDING", None, None)
    assert view["reservation_id"] is None
    assert view["version"] == 1


def test_the_events_of_an_order_are_listed_in_version_order(ports: Ports, reserved: str) -> None:
    confirm_order(ConfirmOrder(order_id=reserved), ports)

    events = order_events(ports.store, reserved)

    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["type"] for e in events] == [
        "OrderCreated",
        "PaymentProcessing",
        "PaymentCompleted",
        "InventoryReserved",
        "OrderConfirmed",
    ]
    assert {e["correlation_id"] for e in events} == {reserved}


@pytest.mark.parametrize("view", [order_view, order_events])
def test_the_views_of_an_unknown_order_are_refused(
    ports: Ports, new_id: NewId, view: Callable
) -> None:
    with pytest.raises(OrderNotFound):
        view(ports.store, new_id("order"))


def test_another_customers_id_is_refused_without_a_trace(
    ports: Ports, stocked: Stocked, create_command: Command
) -> None:
    first = create_command((stocked(), 1))
    create_order(first, ports)
    other = first.model_copy(update={"customer_id": "cust-someone-else"})

    with pytest.raises(OrderAlreadyExists):
        create_order(other, ports)

    assert load_order(ports.store, first.order_id).customer_id == first.customer_id


def test_an_order_whose_saga_start_failed_is_recorded_and_accepted(
    ports: Ports, stocked: Stocked, create_command: Command
) -> None:
    class Throttled(RecordingSagaLauncher):
        def start(self, order_id: str, name: str | None = None) -> str:
            raise SagaStartThrottled("Rate exceeded")

    command = create_command((stocked(), 1))

    placed = place_order(command, replace(ports, saga=Throttled()))

    assert placed.created and not placed.saga_started
    assert event_types(ports, command.order_id) == ["OrderCreated"]
