"""The saga under faults: duplicates, transient errors, lost answers, hangs, the saga
deadline, a compensation that gives up, a crash after a write. Each runs the unchanged
ASL and handlers; faults come from the Lambda service (local_runtime.emulator.faults.Fault)
or the simulated payment gateway."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from local_runtime.emulator.faults import Fault
from order_saga import bootstrap
from order_saga.errors import GatewayUnavailable
from order_saga.service_layer.payments import charge_key, refund_key
from order_saga.service_layer.views import order_events, order_view

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.e2e.conftest import Shop

WORKFLOW_TYPES = ("STANDARD", "EXPRESS")
"""Each scenario runs on both workflow types (tests/e2e/conftest.py)."""
HAPPY_PATH = ["ProcessPayment", "ReserveInventory", "ConfirmOrder"]
COMPENSATION = ["RefundPayment", "ReleaseInventory", "CancelOrder", "OrderCancelled"]
FORWARD = ["ProcessPaymentFunction", "ReserveInventoryFunction", "ConfirmOrderFunction"]
BACKWARD = ["RefundPaymentFunction", "ReleaseInventoryFunction", "CancelOrderFunction"]


class InjectedFault(Exception):
    """Not a name the ASL knows: it stands for any unexpected error."""


def event_types(shop: Shop, order_id: str) -> list[str]:
    return [event["type"] for event in order_events(shop.ports.store, order_id)]


def test_every_forward_step_delivered_twice_has_one_effect(shop: Shop) -> None:
    product = shop.product("12.00", 10)
    for function in FORWARD:
        shop.runtime.functions.inject(function, Fault.twice())

    execution, order = shop.run([(product, 3)])

    assert execution.path == HAPPY_PATH
    assert order["status"] == "CONFIRMED"
    assert event_types(shop, order["order_id"]) == [
        "OrderCreated",
        "PaymentProcessing",
        "PaymentCompleted",
        "InventoryReserved",
        "OrderConfirmed",
    ]
    assert shop.gateway.net_charged_for(order["order_id"]) == Decimal("36.00")
    assert shop.stock(product) == 7


def test_every_compensation_delivered_twice_has_one_effect(shop: Shop) -> None:
    plenty, scarce = shop.product("5.00", 10), shop.product("7.00", 1)
    for function in BACKWARD:
        shop.runtime.functions.inject(function, Fault.twice())

    execution, order = shop.run([(plenty, 2), (scarce, 2)])

    assert execution.path[-len(COMPENSATION) :] == COMPENSATION
    types = event_types(shop, order["order_id"])
    assert types.count("PaymentRefunded") == 1
    assert types.count("OrderCancelled") == 1
    assert [k for k in shop.gateway.refunds if k.startswith(order["order_id"])] == [
        refund_key(order["order_id"])
    ]
    assert shop.gateway.net_charged_for(order["order_id"]) == Decimal("0.00")
    assert (shop.stock(plenty), shop.stock(scarce)) == (10, 1)


def test_a_gateway_down_twice_then_up_confirms_with_one_charge(shop: Shop) -> None:
    product = shop.product("20.00", 5)
    shop.gateway.fail_next(2)

    execution, order = shop.run([(product, 1)])

    assert execution.path == HAPPY_PATH
    assert shop.runtime.functions.invocations["ProcessPaymentFunction"] >= 3
    assert order["status"] == "CONFIRMED"
    assert [k for k in shop.gateway.charges if k.startswith(order["order_id"])] == [
        charge_key(order["order_id"])
    ]
    assert execution.lambda_invocations == 5  # ProcessPayment three times, then two steps


def test_a_charge_whose_answer_was_lost_is_retried_and_charged_once(shop: Shop) -> None:
    product = shop.product("20.00", 5)
    shop.gateway.lose_next_answers(1)

    execution, order = shop.run([(product, 2)])

    assert order["status"] == "CONFIRMED"
    assert execution.lambda_invocations == 4
    charge = shop.gateway.charges[charge_key(order["order_id"])]
    assert charge.payment_id == order["payment_id"]
    assert shop.gateway.net_charged_for(order["order_id"]) == Decimal("40.00")


def test_a_step_that_hangs_past_its_timeout_is_compensated_and_cancelled(shop: Shop) -> None:
    product = shop.product("9.00", 5)
    shop.runtime.functions.inject("ReserveInventoryFunction", Fault.hang(60, times=2))

    execution, order = shop.run([(product, 1)])

    assert execution.path == ["ProcessPayment", "ReserveInventory", *COMPENSATION]
    assert order["status"] == "CANCELLED"
    assert order["cancellation_reason"] == "Sandbox.Timedout"
    assert order["payment_status"] == "REFUNDED"
    assert shop.gateway.net_charged_for(order["order_id"]) == Decimal("0.00")
    assert shop.stock(product) == 5


@pytest.fixture
def short_saga_deadline(shop: Shop) -> Iterator[None]:
    """A deadline of 0.75 s: past the first ReserveInventory attempt's (scaled) 0.5 s
    function timeout plus its retry's 0.4 s wait, well after ProcessPayment."""
    wired = bootstrap.ports()
    bootstrap.use(dataclasses.replace(wired, saga_timeout=timedelta(seconds=0.75)))
    try:
        yield
    finally:
        bootstrap.use(wired)


@pytest.mark.usefixtures("short_saga_deadline")
def test_an_order_past_the_saga_deadline_is_cancelled_with_reason_timeout(shop: Shop) -> None:
    product = shop.product("15.00", 5)
    # the first attempt takes the function's whole (scaled) timeout, the retry waits 4 s
    # (scaled) inside it before its handler runs: by then the deadline is gone
    shop.runtime.functions.inject("ReserveInventoryFunction", Fault.hang(60, times=1))
    shop.runtime.functions.inject("ReserveInventoryFunction", Fault.hang(4, times=1))

    execution, order = shop.run([(product, 2)])

    assert execution.error == "SagaTimedOut"
    assert execution.path[-len(COMPENSATION) :] == COMPENSATION
    assert order["status"] == "CANCELLED"
    assert order["cancellation_reason"] == "timeout"
    assert shop.gateway.net_charged_for(order["order_id"]) == Decimal("0.00")
    assert shop.stock(product) == 5


def test_a_refund_that_keeps_failing_goes_to_manual_review_and_redrive_finishes_it(
    shop: Shop,
) -> None:
    plenty, scarce = shop.product("30.00", 10), shop.product("40.00", 1)
    failed_before = len(shop.runtime.metrics.values("CompensationsFailed"))  # type: ignore[union-attr]
    shop.runtime.functions.inject(
        "RefundPaymentFunction", Fault.transient(GatewayUnavailable("down"), times=3)
    )

    execution, order = shop.run([(plenty, 1), (scarce, 2)])

    assert execution.status == "FAILED"
    assert execution.error == "CompensationFailed"
    assert execution.path == [
        "ProcessPayment",
        "ReserveInventory",
        "RefundPayment",
        "RefundFailed",
        "RequestManualReview",
        "RecordCompensationFailure",
        "CompensationFailed",
    ]
    assert order["manual_review"]["failed_step"] == "RefundPayment"
    assert order["manual_review"]["error"] == "GatewayUnavailable"
    assert order["status"] == "PAYMENT_COMPLETED"  # charged and not refunded: not hidden
    (item,) = [i for i in shop.runtime.manual_review_items() if i["order_id"] == order["order_id"]]
    assert item["failed_step"] == "RefundPayment"
    assert item["error"]["Error"] == "GatewayUnavailable"
    assert "down" in item["error"]["Cause"]
    assert item["execution_arn"] == execution.arn
    assert item["original_error"]["Error"] == "OutOfStock"
    assert shop.runtime.metrics.values("CompensationsFailed")[failed_before:] == [1.0]  # type: ignore[union-attr]

    outcomes = [o for o in shop.runtime.redrive() if o.order_id == order["order_id"]]

    assert [o.done for o in outcomes] == [True]
    after = order_view(shop.ports.store, order["order_id"])
    assert after["status"] == "CANCELLED"
    assert after["cancellation_reason"] == "OutOfStock"
    assert after["manual_review"] is None
    assert shop.gateway.net_charged_for(order["order_id"]) == Decimal("0.00")
    assert (shop.stock(plenty), shop.stock(scarce)) == (10, 1)
    assert not [i for i in shop.runtime.manual_review_items() if i["order_id"] == order["order_id"]]


def test_a_crash_after_confirm_wrote_keeps_the_order_confirmed_and_paid(shop: Shop) -> None:
    product = shop.product("11.00", 4)
    shop.runtime.functions.inject(
        "ConfirmOrderFunction", Fault.crash_after_write(InjectedFault("lost"))
    )

    execution, order = shop.run([(product, 2)])

    assert execution.status == "SUCCEEDED"
    assert execution.path == [
        *HAPPY_PATH,
        "RefundPayment",
        "ReleaseInventory",
        "CancelOrder",
        "OrderConfirmed",
    ]
    assert order["status"] == "CONFIRMED"
    assert shop.gateway.net_charged_for(order["order_id"]) == Decimal("22.00")
    assert shop.stock(product) == 2


def test_the_handlers_emit_each_metric_with_the_right_counts(shop: Shop) -> None:
    tap = shop.runtime.metrics
    assert tap is not None
    before = tap.counts()
    durations_before = len(tap.values("OrderDuration"))
    plenty, scarce = shop.product("3.00", 10), shop.product("4.00", 1)

    shop.run([(plenty, 1)])
    shop.run([(plenty, 1)], payment_method="tok_chargeDeclined")
    shop.run([(scarce, 5)])

    emitted = tap.counts() - before
    assert {name: emitted[name] for name in emitted} == {
        "OrdersCreated": 3,
        "OrdersConfirmed": 1,
        "OrdersCancelled": 2,
        "PaymentFailures": 1,
        "InventoryFailures": 1,
    }
    durations = tap.values("OrderDuration")[durations_before:]
    assert len(durations) == 3
    assert all(0 < d < 60_000 for d in durations)
