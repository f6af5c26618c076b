"""Payment use cases: charge the order's total, refund what was charged."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from order_saga.domain.order import FINISHED
from order_saga.domain.payment import PaymentStatus
from order_saga.errors import PaymentDeclined
from order_saga.service_layer.deadline import check_deadline
from order_saga.service_layer.repository import load_order, save_order
from order_saga.service_layer.results import PaymentResult, RefundResult

if TYPE_CHECKING:
    from order_saga.domain.commands import ProcessPayment, RefundPayment
    from order_saga.domain.order import Order
    from order_saga.service_layer.ports import Ports


def charge_key(order_id: str) -> str:
    return f"{order_id}:charge"


def refund_key(order_id: str) -> str:
    return f"{order_id}:refund"


def process_payment(command: ProcessPayment, ports: Ports) -> PaymentResult:
    """Charge the order's total once, however often this step is delivered."""
    check_deadline(command, ports)
    order = load_order(ports.store, command.order_id)
    payment = order.payment
    if payment is None or payment.payment_id is None:
        order.check_forward()  # never charge an order already being compensated
    if payment is None:
        # Record the intent before calling out, so a crash leaves a trace to settle.
        order.start_payment(charge_key(order.order_id))
        save_order(ports.store, order)
        payment = order.payment
        assert payment is not None
    elif payment.status is PaymentStatus.FAILED:
        raise PaymentDeclined(payment.failure_reason or "declined")
    elif payment.payment_id is not None:
        return PaymentResult(payment_id=payment.payment_id, amount=payment.charged)

    # A charge asked for and unanswered, then a cancellation: the refund settles it.
    order.check_may_proceed("charge")
    try:
        charge = ports.gateway.charge(
            idempotency_key=payment.idempotency_key,
            token=order.payment_method,
            amount=order.total,
        )
    except PaymentDeclined as declined:
        order.fail_payment(str(declined))
        save_order(ports.store, order)
        raise
    order.complete_payment(charge.payment_id)
    save_order(ports.store, order)
    return PaymentResult(payment_id=charge.payment_id, amount=charge.amount)


def refund_payment(command: RefundPayment, ports: Ports) -> RefundResult:
    """Give back everything charged, once; a no-op when nothing is held, and when the
    order was confirmed after all (its forward step failed after writing)."""
    order = load_order(ports.store, command.order_id)
    if order.status in FINISHED:
        return RefundResult(refund_id=None, amount=Decimal("0.00"))
    if not order.is_terminal and order.begin_compensation():
        # Before any money moves back: a late forward step now conflicts or refuses.
        save_order(ports.store, order)
    _settle_unanswered_charge(order, ports)
    if not order.holds_payment:
        return RefundResult(refund_id=None, amount=Decimal("0.00"))
    order.check_refund()  # before the gateway moves any money
    assert order.payment is not None and order.payment.payment_id is not None
    refund = ports.gateway.refund(
        idempotency_key=refund_key(order.order_id),
        payment_id=order.payment.payment_id,
        amount=order.payment.charged,
    )
    order.refund_payment(refund.refund_id)
    save_order(ports.store, order)
    return RefundResult(refund_id=refund.refund_id, amount=refund.amount)


def _settle_unanswered_charge(order: Order, ports: Ports) -> None:
    """A charge still PROCESSING may have gone through with its answer lost: ask the
    gateway by idempotency key, and record what it says before compensating."""
    payment = order.payment
    if payment is None or payment.status is not PaymentStatus.PROCESSING:
        return
    charge = ports.gateway.find_charge(payment.idempotency_key)
    if charge is None:
        order.fail_payment("abandoned: the charge never went through")
    else:
        order.complete_payment(charge.payment_id)
    save_order(ports.store, order)
