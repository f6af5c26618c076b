"""A customer's cancellation: recorded on the order, then the saga stops going forward and
its one compensation chain gives back money and stock. Domain first, then the use cases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest

from order_saga.adapters.event_store import InMemoryEventStore, RecordedEvent, StockChange
from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
from order_saga.domain.commands import (
    CancelOrder,
    ConfirmOrder,
    CreateOrder,
    ProcessPayment,
    RefundPayment,
    ReleaseInventory,
    RequestCancellation,
    ReserveInventory,
)
from order_saga.domain.events import CancellationRequested
from order_saga.domain.order import Order
from order_saga.domain.order_status import OrderStatus
from order_saga.errors import InvalidTransition, OrderCancellationRequested
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.inventory import release_inventory, reserve_inventory
from order_saga.service_layer.orders import (
    cancel_order,
    confirm_order,
    create_order,
    request_cancellation,
)
from order_saga.service_layer.payments import charge_key, process_payment, refund_payment
from order_saga.service_layer.ports import Ports
from order_saga.service_layer.repository import order_stream
from order_saga.service_layer.unit_of_work import UnitOfWork
from order_saga.service_layer.views import order_view, stock_level
from tests.unit.test_order import history

S = OrderStatus
Placed = Callable[..., str]
Stocked = Callable[..., str]

BEFORE_CONFIRMATION = [S.PENDING, S.PAYMENT_PROCESSING, S.PAYMENT_COMPLETED, S.INVENTORY_RESERVED]


def event_types(ports: Ports, order_id: str) -> list[str]:
    return [record.event_type for record in ports.store.load(order_stream(order_id))]


# -- the Order aggregate ------------------------------------------------------------------


@pytest.mark.parametrize("status", BEFORE_CONFIRMATION)
def test_a_request_before_confirmation_is_recorded_and_leaves_the_status(
    status: OrderStatus,
) -> None:
    order = Order.rebuild(history(status))

    assert order.request_cancellation("cust-1", "changed my mind") is True

    [event] = order.pending
    assert isinstance(event, CancellationRequested)
    assert (event.requested_by, event.reason) == ("cust-1", "changed my mind")
    assert order.status is status
    assert order.cancellation == event


@pytest.mark.parametrize("status", [S.CONFIRMED, S.SHIPPED])
def test_a_request_after_confirmation_is_refused_and_records_nothing(status: OrderStatus) -> None:
    order = Order.rebuild(history(status))

    with pytest.raises(InvalidTransition, match="can no longer be cancelled"):
        order.request_cancellation("cust-1")

    assert order.pending == []
    assert order.cancellation is None


def test_a_request_for_a_cancelled_order_records_nothing() -> None:
    order = Order.rebuild(history(S.CANCELLED))

    assert order.request_cancellation("cust-1") is False
    assert order.pending == []


def test_a_second_request_records_nothing_and_keeps_the_first() -> None:
    order = Order.rebuild(history(S.PAYMENT_COMPLETED))
    order.request_cancellation("cust-1", "first")
    order.mark_stored()

    assert order.request_cancellation("cust-1", "second") is False

    assert order.pending == []
    assert order.cancellation is not None and order.cancellation.reason == "first"


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (S.PENDING, lambda order: order.start_payment(f"{order.order_id}:charge")),
        (S.PAYMENT_COMPLETED, lambda order: order.reserve_inventory("res_1", ())),
        (S.INVENTORY_RESERVED, lambda order: order.confirm()),
    ],
    ids=["charge", "reserve", "confirm"],
)
def test_after_a_request_every_step_forward_is_refused_by_name(
    status: OrderStatus, step: Callable[[Order], object]
) -> None:
    order = Order.rebuild(history(status))
    order.request_cancellation("cust-1")
    order.mark_stored()

    with pytest.raises(OrderCancellationRequested, match="the customer asked to cancel"):
        step(order)

    assert order.pending == []
    assert order.status is status


def test_after_a_request_the_compensation_still_runs_to_cancelled() -> None:
    order = Order.rebuild(history(S.INVENTORY_RESERVED))
    order.request_cancellation("cust-1")

    order.refund_payment("re_1")
    order.release_inventory()
    order.cancel("OrderCancellationRequested")

    assert order.status is S.CANCELLED
    assert not order.holds_payment and not order.holds_inventory


def test_rebuilding_keeps_the_request() -> None:
    events = history(S.PAYMENT_COMPLETED)
    requested = CancellationRequested(
        order_id=Order.rebuild(events).order_id, requested_by="cust-1", reason="too slow"
    )

    rebuilt = Order.rebuild([*events, requested])

    assert rebuilt.cancellation == requested
    assert rebuilt.status is S.PAYMENT_COMPLETED


# -- the use cases on in-memory adapters ----------------------------------------------------


def ask_to_cancel(ports: Ports, order_id: str, reason: str = "") -> Order:
    return request_cancellation(
        RequestCancellation(order_id=order_id, requested_by="cust-1", reason=reason), ports
    )


def test_a_requested_order_is_never_charged(
    ports: Ports, placed: Placed, stocked: Stocked, gateway: SimulatedPaymentGateway
) -> None:
    order_id = placed((stocked(), 1))
    ask_to_cancel(ports, order_id)

    with pytest.raises(OrderCancellationRequested):
        process_payment(ProcessPayment(order_id=order_id), ports)

    assert gateway.charges == {}
    assert event_types(ports, order_id) == ["OrderCreated", "CancellationRequested"]


def test_a_charge_with_a_lost_answer_is_not_retried_after_a_request_but_refunded(
    ports: Ports, placed: Placed, stocked: Stocked, gateway: SimulatedPaymentGateway
) -> None:
    order_id = placed((stocked("19.99"), 2))
    with UnitOfWork(ports.store, order_id) as uow:
        order = uow.order(order_id)
        order.start_payment(charge_key(order_id))
        uow.commit()
    gateway.charge(idempotency_key=charge_key(order_id), token="tok_visa", amount=order.total)
    ask_to_cancel(ports, order_id)

    with pytest.raises(OrderCancellationRequested):
        process_payment(ProcessPayment(order_id=order_id), ports)
    refund_payment(RefundPayment(order_id=order_id), ports)

    assert len(gateway.charges) == 1
    assert gateway.net_charged() == 0


def test_a_requested_order_reserves_no_stock_and_records_no_shortage(
    ports: Ports, placed: Placed, stocked: Stocked
) -> None:
    product = stocked("5.00", 3)
    order_id = placed((product, 2))
    process_payment(ProcessPayment(order_id=order_id), ports)
    ask_to_cancel(ports, order_id)

    with pytest.raises(OrderCancellationRequested):
        reserve_inventory(ReserveInventory(order_id=order_id), ports)

    assert stock_level(ports.store, product) == 3
    assert "InventoryReservationFailed" not in event_types(ports, order_id)


def test_the_saga_compensation_gives_back_money_and_stock_and_keeps_the_customers_reason(
    ports: Ports, placed: Placed, stocked: Stocked, gateway: SimulatedPaymentGateway
) -> None:
    product = stocked("5.00", 3)
    order_id = placed((product, 2))
    process_payment(ProcessPayment(order_id=order_id), ports)
    reserve_inventory(ReserveInventory(order_id=order_id), ports)
    ask_to_cancel(ports, order_id, "found it cheaper")

    with pytest.raises(OrderCancellationRequested):
        confirm_order(ConfirmOrder(order_id=order_id), ports)
    refund_payment(RefundPayment(order_id=order_id), ports)
    release_inventory(ReleaseInventory(order_id=order_id), ports)
    cancel_order(
        CancelOrder(order_id=order_id, reason="OrderCancellationRequested", cause='{"x": 1}'),
        ports,
    )

    view = order_view(ports.store, order_id)
    assert view["status"] == "CANCELLED"
    assert view["cancellation_reason"] == "OrderCancellationRequested"
    assert view["cancellation_detail"] == "requested by the customer: found it cheaper"
    assert gateway.net_charged_for(order_id) == Decimal("0")
    assert stock_level(ports.store, product) == 3


def test_a_request_is_recorded_once_however_often_it_is_sent(
    ports: Ports, placed: Placed, stocked: Stocked
) -> None:
    order_id = placed((stocked(), 1))

    ask_to_cancel(ports, order_id, "first")
    ask_to_cancel(ports, order_id, "second")

    assert event_types(ports, order_id).count("CancellationRequested") == 1


class ConfirmingFirst(InMemoryEventStore):
    """A store where the saga's ConfirmOrder lands just before the request's write."""

    def __init__(self, ports: Ports) -> None:
        super().__init__()
        self.ports = ports
        self.raced = False

    def _write(self, records: list[RecordedEvent], stock: Sequence[StockChange] = ()) -> None:
        if not self.raced and records[0].event_type == "CancellationRequested":
            self.raced = True
            confirm_order(ConfirmOrder(order_id=records[0].data["order_id"]), self.ports)
        super()._write(records, stock)


def test_a_request_that_loses_the_race_to_confirmation_is_refused_after_reloading(
    ports: Ports, create_command: Callable[..., CreateOrder]
) -> None:
    store = ConfirmingFirst(ports)
    racing = Ports(store=store, catalog=ports.catalog, gateway=ports.gateway)
    store.ports = racing
    stock_product(racing, "sku-race", "Race", Decimal("5.00"), 1)
    order_id = create_order(create_command(("sku-race", 1)), racing).order_id
    process_payment(ProcessPayment(order_id=order_id), racing)
    reserve_inventory(ReserveInventory(order_id=order_id), racing)

    with pytest.raises(InvalidTransition, match="CONFIRMED"):
        ask_to_cancel(racing, order_id)

    assert store.raced
    assert event_types(racing, order_id)[-1] == "OrderConfirmed"
    assert "CancellationRequested" not in event_types(racing, order_id)


def test_the_view_shows_the_request_while_the_saga_compensates(
    ports: Ports, placed: Placed, stocked: Stocked
) -> None:
    order_id = placed((stocked(), 1))
    assert order_view(ports.store, order_id)["cancellation_requested"] is None

    ask_to_cancel(ports, order_id, "wrong size")

    view = order_view(ports.store, order_id)
    assert view["status"] == "PENDING"
    requested = view["cancellation_requested"]
    assert (requested["requested_by"], requested["reason"]) == ("cust-1", "wrong size")
    assert requested["requested_at"] == view["updated_at"]
