"""Each path through the saga, run whole: the real ASL in moto's interpreter, the real
handlers behind the Lambda Invoke API, DynamoDB on moto. Named after the path taken."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from local_runtime.emulator.faults import Fault
from order_saga.service_layer.payments import charge_key, refund_key
from order_saga.service_layer.views import order_events

if TYPE_CHECKING:
    from tests.e2e.conftest import Shop

WORKFLOW_TYPES = ("STANDARD", "EXPRESS")
"""Each scenario runs on both workflow types (tests/e2e/conftest.py)."""
HAPPY_PATH = ["ProcessPayment", "ReserveInventory", "ConfirmOrder"]
COMPENSATION = ["RefundPayment", "ReleaseInventory", "CancelOrder", "OrderCancelled"]


class InjectedFault(Exception):
    """Not a name the ASL knows: it stands for any unexpected error."""


def test_a_paid_order_in_stock_is_confirmed_holding_payment_and_reservation(shop: Shop) -> None:
    beans, kettle = shop.product("24.90", 10), shop.product("59.00", 4)

    execution, order = shop.run([(beans, 2), (kettle, 1)])

    assert execution.status == "SUCCEEDED"
    assert execution.path == HAPPY_PATH
    assert order["status"] == "CONFIRMED"
    assert order["total"] == "108.80"
    assert order["payment_id"] and order["reservation_id"]
    assert (shop.stock(beans), shop.stock(kettle)) == (8, 3)
    charge = shop.gateway.charges[charge_key(order["order_id"])]
    assert charge.amount == Decimal("108.80")
    assert charge.payment_id == order["payment_id"]
    # money crosses the state machine as a string, never a float
    assert execution.output is not None
    assert execution.output["payment"] == {"payment_id": order["payment_id"], "amount": "108.80"}


def test_the_happy_path_costs_three_transitions_and_three_lambda_calls(shop: Shop) -> None:
    product = shop.product("5.00", 5)

    execution, _ = shop.run([(product, 1)])

    assert (execution.state_transitions, execution.lambda_invocations) == (3, 3)


def test_a_declined_payment_cancels_the_order_without_charge_or_stock_change(
    shop: Shop,
) -> None:
    product = shop.product("24.90", 10)

    execution, order = shop.run([(product, 3)], payment_method="tok_chargeDeclined")

    assert execution.status == "FAILED"
    assert execution.error == "PaymentDeclined"
    assert execution.path == ["ProcessPayment", "CancelOrder", "OrderCancelled"]
    assert order["status"] == "CANCELLED"
    assert order["cancellation_reason"] == "PaymentDeclined"
    assert order["cancellation_detail"] == "card declined"
    assert order["payment_id"] is None
    assert charge_key(order["order_id"]) not in shop.gateway.charges
    assert shop.stock(product) == 10


def test_an_order_out_of_stock_is_refunded_in_full_and_leaves_stock_untouched(
    shop: Shop,
) -> None:
    plenty, scarce = shop.product("59.00", 10), shop.product("149.99", 2)

    execution, order = shop.run([(plenty, 1), (scarce, 3)])

    assert execution.error == "OutOfStock"
    assert execution.path == ["ProcessPayment", "ReserveInventory", *COMPENSATION]
    assert order["status"] == "CANCELLED"
    assert order["cancellation_reason"] == "OutOfStock"
    assert scarce in order["cancellation_detail"]
    charge = shop.gateway.charges[charge_key(order["order_id"])]
    refund = shop.gateway.refunds[refund_key(order["order_id"])]
    assert refund.amount == charge.amount == Decimal("508.97")
    assert (shop.stock(plenty), shop.stock(scarce)) == (10, 2)


def test_a_failure_in_confirm_order_runs_the_full_compensation(shop: Shop) -> None:
    product = shop.product("10.00", 5)
    shop.runtime.functions.inject("ConfirmOrderFunction", Fault(InjectedFault("boom")))

    execution, order = shop.run([(product, 2)])

    assert execution.error == "InjectedFault"
    assert execution.path == [*HAPPY_PATH, *COMPENSATION]
    assert order["status"] == "CANCELLED"
    assert order["cancellation_reason"] == "InjectedFault"
    assert order["payment_status"] == "REFUNDED"
    assert shop.gateway.net_charged_for(order["order_id"]) == Decimal("0.00")
    assert shop.stock(product) == 5
    types = [event["type"] for event in order_events(shop.ports.store, order["order_id"])]
    assert types[-3:] == ["PaymentRefunded", "InventoryReleased", "OrderCancelled"]


@pytest.mark.parametrize("step", ["ProcessPaymentFunction", "ReserveInventoryFunction"])
def test_an_unexpected_error_in_a_forward_step_is_compensated_never_stuck(
    shop: Shop, step: str
) -> None:
    product = shop.product("10.00", 5)
    shop.runtime.functions.inject(step, Fault(InjectedFault("unexpected")))

    execution, order = shop.run([(product, 1)])

    assert execution.status == "FAILED"
    assert execution.path[-len(COMPENSATION) :] == COMPENSATION
    assert order["status"] == "CANCELLED"
    assert shop.gateway.net_charged_for(order["order_id"]) == Decimal("0.00")
    assert shop.stock(product) == 5


def test_a_transient_gateway_error_is_retried_not_compensated(shop: Shop) -> None:
    from order_saga.errors import GatewayUnavailable

    product = shop.product("10.00", 5)
    shop.runtime.functions.inject(
        "ProcessPaymentFunction", Fault(GatewayUnavailable("blip"), times=1)
    )

    execution, order = shop.run([(product, 1)])

    assert execution.path == HAPPY_PATH
    assert execution.lambda_invocations == 4  # one retry of ProcessPayment
    assert order["status"] == "CONFIRMED"
    assert len([k for k in shop.gateway.charges if k.startswith(order["order_id"])]) == 1
