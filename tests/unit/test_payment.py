"""The Payment: processing -> completed | failed; completed -> refunded, once, never beyond."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from order_saga.domain.events import PaymentCompleted, PaymentFailed, PaymentRefunded
from order_saga.domain.payment import Payment, PaymentStatus
from order_saga.errors import InvalidPaymentOperation

CHARGE = Decimal("60.02")


def processing(amount: Decimal = CHARGE) -> Payment:
    order_id = f"order-{uuid.uuid4().hex[:16]}"
    return Payment(Payment.start(order_id, amount, f"{order_id}:charge"))


def completed(amount: Decimal = CHARGE) -> Payment:
    payment = processing(amount)
    payment.apply(payment.complete(f"pay_{uuid.uuid4().hex}"))
    return payment


def failed() -> Payment:
    payment = processing()
    payment.apply(payment.fail("card declined"))
    return payment


def test_a_started_payment_is_processing_and_holds_no_money() -> None:
    payment = processing()

    assert payment.status is PaymentStatus.PROCESSING
    assert payment.amount == CHARGE
    assert payment.charged == Decimal("0.00")
    assert payment.holds_money is False


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("0.00"), Decimal("-0.01")])
def test_start_refuses_a_non_positive_amount(amount: Decimal) -> None:
    with pytest.raises(InvalidPaymentOperation, match="positive"):
        Payment.start("order-1", amount, "order-1:charge")


def test_completing_a_processing_payment_charges_its_amount() -> None:
    payment = processing()

    event = payment.complete("pay_1")
    assert payment.status is PaymentStatus.PROCESSING  # nothing changes until applied
    payment.apply(event)

    assert event == PaymentCompleted(order_id=payment.order_id, payment_id="pay_1", amount=CHARGE)
    assert payment.status is PaymentStatus.COMPLETED
    assert payment.payment_id == "pay_1"
    assert payment.charged == CHARGE
    assert payment.holds_money is True


def test_failing_a_processing_payment_keeps_the_reason_and_charges_nothing() -> None:
    payment = processing()

    event = payment.fail("card declined")
    payment.apply(event)

    assert isinstance(event, PaymentFailed)
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_reason == "card declined"
    assert payment.charged == Decimal("0.00")
    assert payment.holds_money is False


def test_a_refund_gives_back_the_whole_charge_by_default() -> None:
    payment = completed()

    event = payment.refund("re_1")
    payment.apply(event)

    assert payment.payment_id is not None
    assert event == PaymentRefunded(
        order_id=payment.order_id, payment_id=payment.payment_id, refund_id="re_1", amount=CHARGE
    )
    assert payment.status is PaymentStatus.REFUNDED
    assert payment.refunded == CHARGE
    assert payment.refund_id == "re_1"
    assert payment.holds_money is False


def test_a_refund_of_exactly_the_charge_is_allowed() -> None:
    payment = completed()

    payment.apply(payment.refund("re_1", CHARGE))

    assert payment.refunded == CHARGE


@pytest.mark.parametrize("amount", [Decimal("0.01"), Decimal("30.00"), CHARGE - Decimal("0.01")])
def test_a_partial_refund_is_refused_so_no_charge_is_left_stranded(amount: Decimal) -> None:
    """A refund happens at most once, so a partial one would strand the rest of the charge."""
    payment = completed()

    with pytest.raises(InvalidPaymentOperation, match="whole"):
        payment.refund("re_1", amount)

    assert payment.status is PaymentStatus.COMPLETED
    assert payment.holds_money is True


@pytest.mark.parametrize("amount", [CHARGE + Decimal("0.01"), CHARGE * 2])
def test_a_refund_never_exceeds_the_charge(amount: Decimal) -> None:
    payment = completed()

    with pytest.raises(InvalidPaymentOperation):
        payment.refund("re_1", amount)

    assert payment.status is PaymentStatus.COMPLETED
    assert payment.refunded == Decimal("0.00")


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-0.01"), -CHARGE])
def test_a_zero_or_negative_refund_is_refused(amount: Decimal) -> None:
    payment = completed()

    with pytest.raises(InvalidPaymentOperation):
        payment.refund("re_1", amount)

    assert payment.holds_money is True


def test_a_payment_is_refunded_at_most_once() -> None:
    payment = completed()
    payment.apply(payment.refund("re_1"))

    with pytest.raises(InvalidPaymentOperation, match="REFUNDED"):
        payment.refund("re_2")

    assert payment.refund_id == "re_1"


def test_a_failed_payment_can_be_neither_completed_nor_refunded() -> None:
    payment = failed()

    with pytest.raises(InvalidPaymentOperation, match="FAILED"):
        payment.complete("pay_1")
    with pytest.raises(InvalidPaymentOperation, match="FAILED"):
        payment.refund("re_1")

    assert payment.status is PaymentStatus.FAILED


def test_a_payment_still_processing_cannot_be_refunded() -> None:
    with pytest.raises(InvalidPaymentOperation, match="PROCESSING"):
        processing().refund("re_1")


def test_a_completed_payment_can_be_neither_completed_again_nor_failed() -> None:
    payment = completed()

    with pytest.raises(InvalidPaymentOperation):
        payment.complete("pay_2")
    with pytest.raises(InvalidPaymentOperation):
        payment.fail("too late")

    assert payment.status is PaymentStatus.COMPLETED


def test_a_refunded_payment_can_be_neither_completed_nor_failed() -> None:
    payment = completed()
    payment.apply(payment.refund("re_1"))

    with pytest.raises(InvalidPaymentOperation):
        payment.complete("pay_2")
    with pytest.raises(InvalidPaymentOperation):
        payment.fail("too late")
