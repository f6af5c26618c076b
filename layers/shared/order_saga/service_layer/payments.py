"""Payment use cases: charge the order's total, refund what was charged."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from order_saga.domain.events import ABANDONED
from order_saga.domain.order_status import FINISHED
from order_saga.domain.payment import PaymentStatus
from order_saga.errors import PaymentDeclined
from order_saga.service_layer.deadline import check_deadline
from order_saga.service_layer.results import PaymentResult, RefundResult
from order_saga.service_layer.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from order_saga.domain.commands import ProcessPayment, RefundPayment
    from order_saga.domain.order import Order
    from order_saga.service_layer.dependencies import PaymentDependencies


def charge_key(order_id: str) -> str:
    return f"{order_id}:charge"


def refund_key(order_id: str) -> str:
    return f"{order_id}:refund"


def process_payment(command: ProcessPayment, deps: PaymentDependencies) -> PaymentResult:
    """Charge the order's total once, however often this step is delivered."""
    check_deadline(command, deps)
    with UnitOfWork(deps.store, command.order_id) as uow:
        order = uow.order(command.order_id)
        payment = order.payment
        if payment is None or payment.payment_id is None:
            order.check_forward()  # never charge an order already being compensated
        if payment is None:
            order.start_payment(charge_key(order.order_id))
            # Commit point 1 of 2, before calling out: the intent (PaymentProcessing, with
            # its gateway key) is stored, so a crash during the charge leaves a trace the
            # refund settles by asking the gateway (_settle_unanswered_charge).
            uow.commit()
            payment = order.payment
            assert payment is not None
        elif payment.status is PaymentStatus.FAILED:
            raise PaymentDeclined(payment.failure_reason or "declined")
        elif payment.payment_id is not None:
            return PaymentResult(payment_id=payment.payment_id, amount=payment.charged)

        # A charge asked for and unanswered, then a cancellation: the refund settles it.
        order.check_may_proceed("charge")
        try:
            charge = deps.gateway.charge(
                idempotency_key=payment.idempotency_key,
                token=order.payment_method,
                amount=order.total,
            )
        except PaymentDeclined as declined:
            order.fail_payment(str(declined))
            uow.commit()  # commit point 2: the gateway's answer, a refusal
            raise
        order.complete_payment(charge.payment_id)
        uow.commit()  # commit point 2: the gateway's answer, the charge
    return PaymentResult(payment_id=charge.payment_id, amount=charge.amount)


def refund_payment(command: RefundPayment, deps: PaymentDependencies) -> RefundResult:
    """Give back everything charged, once; a no-op when nothing is held, and when the
    order was confirmed after all (its forward step failed after writing)."""
    with UnitOfWork(deps.store, command.order_id) as uow:
        order = uow.order(command.order_id)
        if order.status in FINISHED:
            return RefundResult(refund_id=None, amount=Decimal("0.00"))
        if not order.is_terminal and order.begin_compensation():
            # Commit point 1 of 3, before any money moves back: from now on a late
            # forward step conflicts on the stream or refuses (CompensationStarted).
            uow.commit()
        if _settle_unanswered_charge(order, deps):
            # Commit point 2: what the gateway says of a charge whose answer was lost is
            # recorded before compensating, so the refund below refunds a known charge.
            uow.commit()
        if not order.holds_payment:
            return RefundResult(refund_id=None, amount=Decimal("0.00"))
        order.check_refund()  # before the gateway moves any money
        assert order.payment is not None and order.payment.payment_id is not None
        refund = deps.gateway.refund(
            idempotency_key=refund_key(order.order_id),
            payment_id=order.payment.payment_id,
            amount=order.payment.charged,
        )
        order.refund_payment(refund.refund_id)
        uow.commit()  # commit point 3: the refund the gateway made
    return RefundResult(refund_id=refund.refund_id, amount=refund.amount)


def _settle_unanswered_charge(order: Order, deps: PaymentDependencies) -> bool:
    """A charge still PROCESSING may have gone through with its answer lost: ask the
    gateway by idempotency key and record what it says. True when it recorded it."""
    payment = order.payment
    if payment is None or payment.status is not PaymentStatus.PROCESSING:
        return False
    charge = deps.gateway.find_charge(payment.idempotency_key)
    if charge is None:
        order.fail_payment(f"{ABANDONED} the charge never went through", declined=False)
    else:
        order.complete_payment(charge.payment_id)
    return True
