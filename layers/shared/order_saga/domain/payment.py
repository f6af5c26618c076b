"""The Payment aggregate: one charge per order, refunded at most once and never beyond it."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from order_saga.domain.events import (
    DomainEvent,
    PaymentCompleted,
    PaymentFailed,
    PaymentProcessing,
    PaymentRefunded,
)
from order_saga.errors import InvalidPaymentOperation


class PaymentStatus(StrEnum):
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


PAYMENT_EVENTS = (PaymentProcessing, PaymentCompleted, PaymentFailed, PaymentRefunded)


class Payment:
    """processing -> completed | failed; completed -> refunded.

    It lives in its order's stream (one payment per order, and its changes must land
    atomically with the order's status), so the Order aggregate hands it its events.
    Each method checks a rule and returns the event to record; nothing changes until
    the event is applied.
    """

    def __init__(self, started: PaymentProcessing) -> None:
        self.order_id = started.order_id
        self.amount = started.amount
        self.idempotency_key = started.idempotency_key
        self.status = PaymentStatus.PROCESSING
        self.payment_id: str | None = None
        self.charged = Decimal("0.00")
        self.refunded = Decimal("0.00")
        self.refund_id: str | None = None
        self.failure_reason: str | None = None
        self.declined: bool | None = None
        """Once FAILED: True when the gateway declined, False when the charge was abandoned."""

    @staticmethod
    def start(order_id: str, amount: Decimal, idempotency_key: str) -> PaymentProcessing:
        if amount <= 0:
            raise InvalidPaymentOperation(f"payment of order {order_id} must be positive")
        return PaymentProcessing(order_id=order_id, amount=amount, idempotency_key=idempotency_key)

    def complete(self, payment_id: str) -> PaymentCompleted:
        self._require(PaymentStatus.PROCESSING, "complete")
        return PaymentCompleted(order_id=self.order_id, payment_id=payment_id, amount=self.amount)

    def fail(self, reason: str, *, declined: bool = True) -> PaymentFailed:
        """``declined``: the gateway refused the charge; False, the charge was abandoned
        (it never went through)."""
        self._require(PaymentStatus.PROCESSING, "fail")
        return PaymentFailed(
            order_id=self.order_id, amount=self.amount, reason=reason, declined=declined
        )

    def refund(self, refund_id: str, amount: Decimal | None = None) -> PaymentRefunded:
        """Give back the whole charge. A refund happens at most once, so a partial one
        would strand the rest; one larger than the charge would create money."""
        self._require(PaymentStatus.COMPLETED, "refund")
        amount = self.charged if amount is None else amount
        if amount != self.charged:
            raise InvalidPaymentOperation(
                f"a refund for order {self.order_id} gives back the whole {self.charged} "
                f"charged, not {amount}"
            )
        assert self.payment_id is not None  # set with COMPLETED
        return PaymentRefunded(
            order_id=self.order_id, payment_id=self.payment_id, refund_id=refund_id, amount=amount
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case PaymentCompleted():
                self.status = PaymentStatus.COMPLETED
                self.payment_id = event.payment_id
                self.charged = event.amount
            case PaymentFailed():
                self.status = PaymentStatus.FAILED
                self.failure_reason = event.reason
                self.declined = event.declined
            case PaymentRefunded():
                self.status = PaymentStatus.REFUNDED
                self.refunded = event.amount
                self.refund_id = event.refund_id

    @property
    def holds_money(self) -> bool:
        """True while the customer is charged and not yet refunded."""
        return self.status is PaymentStatus.COMPLETED

    @property
    def is_unsettled(self) -> bool:
        """A charge was asked for and no answer recorded: it may have gone through."""
        return self.status is PaymentStatus.PROCESSING

    def check_refund(self) -> None:
        """Raise as ``refund`` would, without making the event: call before moving money."""
        self._require(PaymentStatus.COMPLETED, "refund")

    def _require(self, status: PaymentStatus, action: str) -> None:
        if self.status is not status:
            raise InvalidPaymentOperation(
                f"cannot {action} the payment of order {self.order_id}: it is {self.status}"
            )
