"""Saga hardening: the deadline, manual review, compensations that meet a confirmed order,
the caught-error input of the last steps, and the simulated gateway's faults.

All in memory: the clock is whatever each test hands to ``Ports``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from order_saga.adapters.event_store import InMemoryEventStore, utc_now
from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
from order_saga.domain.commands import (
    CancelOrder,
    ConfirmOrder,
    ForwardCommand,
    ProcessPayment,
    RecordCompensationFailure,
    RefundPayment,
    ReleaseInventory,
    ReserveInventory,
    ShipOrder,
)
from order_saga.domain.events import CompensationFailed
from order_saga.domain.order_status import OrderStatus
from order_saga.entrypoints.parsing import parse
from order_saga.errors import (
    GatewayUnavailable,
    InvalidRequest,
    InvalidTransition,
    OrderConfirmedAfterAll,
    SagaTimedOut,
)
from order_saga.service_layer import inventory, orders, payments
from order_saga.service_layer.ports import Ports
from order_saga.service_layer.repository import load_order, order_stream
from order_saga.service_layer.views import stock_level

S = OrderStatus
STOCK = 10
QUANTITY = 2


@dataclass
class Placed:
    """An order of QUANTITY units of one product stocked with STOCK units."""

    order_id: str
    product_id: str


STAGES = ("pending", "paid", "reserved", "confirmed", "shipped")
STATUS_AT = {
    "pending": S.PENDING,
    "paid": S.PAYMENT_COMPLETED,
    "reserved": S.INVENTORY_RESERVED,
    "confirmed": S.CONFIRMED,
    "shipped": S.SHIPPED,
}


@pytest.fixture
def order_at(
    ports: Ports, stocked: Callable[..., str], placed: Callable[..., str]
) -> Callable[[str], Placed]:
    """Place an order and run the saga's forward steps (no deadline) up to ``stage``."""

    def order_at(stage: str) -> Placed:
        product_id = stocked(quantity=STOCK)
        order_id = placed((product_id, QUANTITY))
        steps = [
            lambda: payments.process_payment(ProcessPayment(order_id=order_id), ports),
            lambda: inventory.reserve_inventory(ReserveInventory(order_id=order_id), ports),
            lambda: orders.confirm_order(ConfirmOrder(order_id=order_id), ports),
            lambda: orders.ship_order(ShipOrder(order_id=order_id), ports),
        ]
        for step in steps[: STAGES.index(stage)]:
            step()
        return Placed(order_id=order_id, product_id=product_id)

    return order_at


def at(ports: Ports, moment: datetime, saga_timeout: timedelta | None = None) -> Ports:
    """The same adapters, with the clock stopped at ``moment``."""
    return replace(ports, clock=lambda: moment, saga_timeout=saga_timeout or ports.saga_timeout)


def written(ports: Ports) -> dict[str, int]:
    """How many events each stream holds: compared before and after to see writes."""
    store = ports.store
    assert isinstance(store, InMemoryEventStore)
    return {stream: len(store.load(stream)) for stream in store.stream_ids()}


def gateway_ledger(gateway: SimulatedPaymentGateway) -> tuple[dict[str, Any], dict[str, Any]]:
    return dict(gateway.charges), dict(gateway.refunds)


def order_events(ports: Ports, order_id: str) -> list[str]:
    return [record.event_type for record in ports.store.load(order_stream(order_id))]


def lambda_cause(message: str, error_type: str) -> str:
    """A caught error's Cause as Step Functions reports a Lambda exception."""
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": []})


# -- the saga's deadline --------------------------------------------------------------

Forward = tuple[type[ForwardCommand], Callable[[Any, Ports], BaseModel], str, OrderStatus]
FORWARD: dict[str, Forward] = {
    "ProcessPayment": (ProcessPayment, payments.process_payment, "pending", S.PAYMENT_COMPLETED),
    "ReserveInventory": (
        ReserveInventory,
        inventory.reserve_inventory,
        "paid",
        S.INVENTORY_RESERVED,
    ),
    "ConfirmOrder": (ConfirmOrder, orders.confirm_order, "reserved", S.CONFIRMED),
}


@pytest.mark.parametrize("step", FORWARD)
@pytest.mark.parametrize("saga_timeout", [timedelta(seconds=30), timedelta(minutes=15)])
def test_a_forward_step_past_the_deadline_raises_saga_timed_out_and_writes_nothing(
    step, saga_timeout, ports, gateway, order_at
):
    command, use_case, stage, _ = FORWARD[step]
    order = order_at(stage)
    started = utc_now()
    late = at(ports, started + saga_timeout + timedelta(microseconds=1), saga_timeout)
    streams_before, ledger_before = written(ports), gateway_ledger(gateway)
    calls_before = gateway.calls

    with pytest.raises(SagaTimedOut):
        use_case(command(order_id=order.order_id, saga_started_at=started), late)

    assert written(ports) == streams_before
    assert gateway_ledger(gateway) == ledger_before
    assert gateway.calls == calls_before
    assert load_order(ports.store, order.order_id).status is STATUS_AT[stage]
    assert stock_level(ports.store, order.product_id) == (
        STOCK - QUANTITY if stage == "reserved" else STOCK
    )


@pytest.mark.parametrize("step", FORWARD)
def test_a_forward_step_at_exactly_the_deadline_still_runs(step, ports, order_at):
    command, use_case, stage, reached = FORWARD[step]
    order = order_at(stage)
    started = utc_now()
    on_time = at(ports, started + ports.saga_timeout)

    use_case(command(order_id=order.order_id, saga_started_at=started), on_time)

    assert load_order(ports.store, order.order_id).status is reached


@pytest.mark.parametrize("step", FORWARD)
def test_a_forward_step_without_a_saga_start_never_times_out(step, ports, order_at):
    command, use_case, stage, reached = FORWARD[step]
    order = order_at(stage)
    ten_years_on = at(ports, utc_now() + timedelta(days=3650), timedelta(seconds=1))

    use_case(command(order_id=order.order_id), ten_years_on)

    assert load_order(ports.store, order.order_id).status is reached


def test_confirming_a_confirmed_order_past_the_deadline_changes_nothing_and_does_not_time_out(
    ports, order_at
):
    order = order_at("confirmed")
    started = utc_now()
    late = at(ports, started + ports.saga_timeout * 2)
    before = written(ports)

    result = orders.confirm_order(
        ConfirmOrder(order_id=order.order_id, saga_started_at=started), late
    )

    assert result.changed is False
    assert result.status == S.CONFIRMED
    assert result.duration_ms is None
    assert written(ports) == before


def test_a_saga_start_without_a_time_zone_is_an_invalid_request(new_id):
    with pytest.raises(InvalidRequest, match="saga_started_at"):
        parse(
            ProcessPayment, {"order_id": new_id("order"), "saga_started_at": "2025-01-01T00:00:00"}
        )


def test_the_state_machines_execution_start_time_parses_as_an_aware_saga_start(new_id):
    command = parse(
        ConfirmOrder, {"order_id": new_id("order"), "saga_started_at": "2025-03-04T05:06:07.089Z"}
    )

    assert command.saga_started_at == datetime(2025, 3, 4, 5, 6, 7, 89000, tzinfo=UTC)


# -- cancelling ------------------------------------------------------------------------


def test_an_order_cancelled_for_saga_timed_out_records_the_reason_timeout(ports, order_at):
    order = order_at("pending")
    started = utc_now()
    late = at(ports, started + ports.saga_timeout + timedelta(seconds=1))
    with pytest.raises(SagaTimedOut) as timed_out:
        payments.process_payment(
            ProcessPayment(order_id=order.order_id, saga_started_at=started), late
        )

    caught = {
        "Error": type(timed_out.value).__name__,
        "Cause": lambda_cause(str(timed_out.value), "SagaTimedOut"),
    }
    result = orders.cancel_order(CancelOrder(order_id=order.order_id, error=caught), ports)

    cancelled = load_order(ports.store, order.order_id)
    assert result.reason == "timeout"
    assert cancelled.status is S.CANCELLED
    assert cancelled.cancel_reason == "timeout"
    assert cancelled.cancel_detail == str(timed_out.value)


def test_an_order_cancelled_for_a_business_error_keeps_the_errors_name_as_reason(ports, order_at):
    order = order_at("pending")

    orders.cancel_order(CancelOrder(order_id=order.order_id, reason="PaymentDeclined"), ports)

    assert load_order(ports.store, order.order_id).cancel_reason == "PaymentDeclined"


def test_cancelling_a_cancelled_order_again_changes_nothing(ports, order_at):
    order = order_at("pending")
    first = orders.cancel_order(CancelOrder(order_id=order.order_id, reason="OutOfStock"), ports)
    before = written(ports)

    again = orders.cancel_order(CancelOrder(order_id=order.order_id, reason="SagaTimedOut"), ports)

    assert first.changed is True
    assert again.changed is False
    assert again.reason == "OutOfStock"
    assert written(ports) == before


def test_only_the_call_that_finalises_an_order_reports_its_duration(ports, order_at):
    confirmed, cancelled = order_at("reserved"), order_at("pending")

    first_confirm = orders.confirm_order(ConfirmOrder(order_id=confirmed.order_id), ports)
    again_confirm = orders.confirm_order(ConfirmOrder(order_id=confirmed.order_id), ports)
    first_cancel = orders.cancel_order(
        CancelOrder(order_id=cancelled.order_id, reason="OutOfStock"), ports
    )
    again_cancel = orders.cancel_order(
        CancelOrder(order_id=cancelled.order_id, reason="OutOfStock"), ports
    )

    assert first_confirm.duration_ms is not None and first_confirm.duration_ms >= 0
    assert first_cancel.duration_ms is not None and first_cancel.duration_ms >= 0
    assert again_confirm.duration_ms is None
    assert again_cancel.duration_ms is None


def test_an_order_duration_runs_from_its_creation_to_the_ports_clock(ports, order_at):
    order = order_at("reserved")
    created = load_order(ports.store, order.order_id).created_at
    assert created is not None

    result = orders.confirm_order(
        ConfirmOrder(order_id=order.order_id), at(ports, created + timedelta(seconds=2.5))
    )

    assert result.duration_ms == pytest.approx(2500)


# -- manual review ---------------------------------------------------------------------


def test_a_refund_that_gives_up_puts_the_order_in_manual_review_until_it_is_cancelled(
    ports, gateway, order_at
):
    order = order_at("paid")
    gateway.fail_next(3)
    for _ in range(3):  # the state machine's three attempts
        with pytest.raises(GatewayUnavailable):
            payments.refund_payment(RefundPayment(order_id=order.order_id), ports)
    failure = {
        "Error": "GatewayUnavailable",
        "Cause": lambda_cause("gateway down", "GatewayUnavailable"),
    }

    recorded = orders.record_compensation_failure(
        RecordCompensationFailure(
            order_id=order.order_id, failed_step="RefundPayment", error=failure
        ),
        ports,
    )
    in_review = load_order(ports.store, order.order_id)
    assert recorded.changed is True
    assert recorded.reason == "GatewayUnavailable"
    assert in_review.in_manual_review
    assert in_review.compensation_failure is not None
    assert in_review.compensation_failure.failed_step == "RefundPayment"
    assert in_review.compensation_failure.cause == "gateway down"

    # An operator re-drives the rest of the compensation.
    payments.refund_payment(RefundPayment(order_id=order.order_id), ports)
    inventory.release_inventory(ReleaseInventory(order_id=order.order_id), ports)
    orders.cancel_order(CancelOrder(order_id=order.order_id, reason="OutOfStock"), ports)

    cancelled = load_order(ports.store, order.order_id)
    assert cancelled.status is S.CANCELLED
    assert not cancelled.in_manual_review
    assert gateway.net_charged_for(order.order_id) == Decimal("0.00")


def test_a_compensation_failure_is_recorded_once_however_often_it_is_reported(ports, order_at):
    order = order_at("paid")
    command = RecordCompensationFailure(
        order_id=order.order_id, failed_step="ReleaseInventory", error="StorageError"
    )

    first = orders.record_compensation_failure(command, ports)
    second = orders.record_compensation_failure(
        command.model_copy(update={"failed_step": "CancelOrder"}), ports
    )

    assert (first.changed, second.changed) == (True, False)
    assert order_events(ports, order.order_id).count(CompensationFailed.type_name()) == 1
    failure = load_order(ports.store, order.order_id).compensation_failure
    assert failure is not None and failure.failed_step == "ReleaseInventory"


@pytest.mark.parametrize("stage", ["confirmed", "shipped", "cancelled"])
def test_a_terminal_order_records_no_compensation_failure(stage, ports, order_at):
    order = order_at("pending" if stage == "cancelled" else stage)
    if stage == "cancelled":
        orders.cancel_order(CancelOrder(order_id=order.order_id, reason="OutOfStock"), ports)
    before = written(ports)

    result = orders.record_compensation_failure(
        RecordCompensationFailure(
            order_id=order.order_id, failed_step="RefundPayment", error="GatewayUnavailable"
        ),
        ports,
    )

    assert result.changed is False
    assert written(ports) == before
    assert not load_order(ports.store, order.order_id).in_manual_review


@pytest.mark.parametrize("stage", ["confirmed", "shipped"])
def test_the_order_aggregate_refuses_manual_review_once_terminal(stage, ports, order_at):
    order = load_order(ports.store, order_at(stage).order_id)

    with pytest.raises(InvalidTransition):
        order.record_compensation_failure("RefundPayment", "GatewayUnavailable")
    assert order.pending == []


# -- compensations meeting an order confirmed after all -------------------------------


@pytest.mark.parametrize("stage", ["confirmed", "shipped"])
def test_compensating_a_finished_order_moves_no_money_or_stock_and_cancel_keeps_it(
    stage, ports, gateway, order_at
):
    order = order_at(stage)
    kept = load_order(ports.store, order.order_id)
    before, ledger_before = written(ports), gateway_ledger(gateway)

    refund = payments.refund_payment(RefundPayment(order_id=order.order_id), ports)
    release = inventory.release_inventory(ReleaseInventory(order_id=order.order_id), ports)
    with pytest.raises(OrderConfirmedAfterAll):
        orders.cancel_order(CancelOrder(order_id=order.order_id, reason="States.Timeout"), ports)

    assert (refund.refund_id, refund.amount) == (None, Decimal("0.00"))
    assert release.released == ()
    assert written(ports) == before
    assert gateway_ledger(gateway) == ledger_before
    assert gateway.net_charged_for(order.order_id) == kept.total
    assert stock_level(ports.store, order.product_id) == STOCK - QUANTITY
    assert load_order(ports.store, order.order_id).status is STATUS_AT[stage]


# -- the caught-error input of CancelOrder and RecordCompensationFailure --------------


def test_cancel_order_reads_the_state_machines_caught_error_with_its_cause(new_id):
    order_id = new_id("order")
    cause = lambda_cause("card declined", "PaymentDeclined")

    command = parse(
        CancelOrder, {"order_id": order_id, "error": {"Error": "PaymentDeclined", "Cause": cause}}
    )

    assert (command.order_id, command.reason, command.cause) == (order_id, "PaymentDeclined", cause)


def test_cancel_order_reads_a_caught_error_without_a_cause(new_id):
    command = parse(
        CancelOrder, {"order_id": new_id("order"), "error": {"Error": "States.Timeout"}}
    )

    assert (command.reason, command.cause) == ("States.Timeout", None)


def test_record_compensation_failure_reads_the_caught_error_with_and_without_a_cause(new_id):
    order_id = new_id("order")
    base = {"order_id": order_id, "failed_step": "ReleaseInventory"}

    with_cause = parse(
        RecordCompensationFailure,
        {**base, "error": {"Error": "StorageError", "Cause": "throttled"}},
    )
    without = parse(RecordCompensationFailure, {**base, "error": {"Error": "States.TaskFailed"}})

    assert (with_cause.error, with_cause.cause) == ("StorageError", "throttled")
    assert (without.error, without.cause) == ("States.TaskFailed", None)
    assert with_cause.failed_step == without.failed_step == "ReleaseInventory"


def test_the_flat_reason_and_cause_fields_still_parse(new_id):
    command = parse(
        CancelOrder, {"order_id": new_id("order"), "reason": "OutOfStock", "cause": "none left"}
    )

    assert (command.reason, command.cause) == ("OutOfStock", "none left")


@pytest.mark.parametrize(
    ("command", "extra"),
    [(CancelOrder, {}), (RecordCompensationFailure, {"failed_step": "RefundPayment"})],
)
@pytest.mark.parametrize(
    "caught",
    [{"Cause": "something broke"}, {}, {"Error": ""}, {"Error": None, "Cause": "x"}],
    ids=["cause-only", "empty", "empty-name", "null-name"],
)
def test_a_caught_error_without_an_error_name_is_an_invalid_request(command, extra, caught, new_id):
    with pytest.raises(InvalidRequest):
        parse(command, {"order_id": new_id("order"), **extra, "error": caught})


def test_a_caught_error_is_refused_with_an_unknown_field_beside_it(new_id):
    with pytest.raises(InvalidRequest, match="unexpected"):
        parse(
            CancelOrder,
            {"order_id": new_id("order"), "error": {"Error": "OutOfStock"}, "unexpected": 1},
        )


# -- the simulated gateway's faults ----------------------------------------------------


def test_fail_next_makes_that_many_charges_and_refunds_find_the_gateway_down(new_id):
    gateway = SimulatedPaymentGateway()
    key = f"{new_id('order')}:charge"
    gateway.fail_next(2)

    for _ in range(2):
        with pytest.raises(GatewayUnavailable):
            gateway.charge(idempotency_key=key, token="tok_visa", amount=Decimal("12.50"))
    assert gateway.charges == {}

    charge = gateway.charge(idempotency_key=key, token="tok_visa", amount=Decimal("12.50"))
    gateway.fail_next(1)
    with pytest.raises(GatewayUnavailable):
        gateway.refund(
            idempotency_key=f"{key}:refund", payment_id=charge.payment_id, amount=charge.amount
        )
    assert gateway.refunds == {}
    refund = gateway.refund(
        idempotency_key=f"{key}:refund", payment_id=charge.payment_id, amount=charge.amount
    )

    assert refund.amount == Decimal("12.50")
    assert gateway.net_charged() == Decimal("0.00")


def test_a_lost_answer_still_charges_and_the_retry_with_the_same_key_gets_that_charge(new_id):
    gateway = SimulatedPaymentGateway()
    key = f"{new_id('order')}:charge"
    gateway.lose_next_answers(1)

    with pytest.raises(GatewayUnavailable):
        gateway.charge(idempotency_key=key, token="tok_visa", amount=Decimal("40.00"))
    recorded = gateway.find_charge(key)
    retried = gateway.charge(idempotency_key=key, token="tok_visa", amount=Decimal("40.00"))
    other = gateway.charge(
        idempotency_key=f"{new_id('order')}:charge", token="tok_visa", amount=Decimal("1.00")
    )

    assert recorded is not None
    assert retried == recorded
    assert list(gateway.charges) == [key, other.idempotency_key]
    assert gateway.net_charged_for(key) == Decimal("40.00")


def test_a_payment_step_retried_after_a_lost_answer_charges_once(ports, gateway, order_at):
    order = order_at("pending")
    gateway.lose_next_answers(1)

    with pytest.raises(GatewayUnavailable):
        payments.process_payment(ProcessPayment(order_id=order.order_id), ports)
    result = payments.process_payment(ProcessPayment(order_id=order.order_id), ports)

    paid = load_order(ports.store, order.order_id)
    assert paid.status is S.PAYMENT_COMPLETED
    assert paid.payment is not None and paid.payment.payment_id == result.payment_id
    assert len([k for k in gateway.charges if k.startswith(order.order_id)]) == 1
    assert gateway.net_charged_for(order.order_id) == paid.total


def test_a_refund_after_a_lost_answer_settles_the_charge_and_gives_it_back(
    ports, gateway, order_at
):
    order = order_at("pending")
    gateway.lose_next_answers(1)
    with pytest.raises(GatewayUnavailable):
        payments.process_payment(ProcessPayment(order_id=order.order_id), ports)

    refund = payments.refund_payment(RefundPayment(order_id=order.order_id), ports)

    assert refund.amount == load_order(ports.store, order.order_id).total
    assert gateway.net_charged_for(order.order_id) == Decimal("0.00")
