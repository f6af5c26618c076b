"""What each saga step returns to the state machine: small, JSON-safe, money as strings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from order_saga.domain.values import Money, StockLine


class StepResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class PaymentResult(StepResult):
    payment_id: str
    amount: Money


class RefundResult(StepResult):
    refund_id: str | None
    amount: Money
    """0.00 when there was nothing to refund (never charged, declined or refunded already,
    or the order was confirmed after all)."""


class ReservationResult(StepResult):
    reservation_id: str
    lines: tuple[StockLine, ...]


class ReleaseResult(StepResult):
    released: tuple[StockLine, ...]
    """Empty when there was nothing to release."""


class StatusResult(StepResult):
    order_id: str
    status: str
    reason: str | None = None
    changed: bool = True
    """False when the order already was in this state: a repeated delivery, or nothing
    left to compensate. Metrics count only changes."""
    duration_ms: float | None = None
    """From OrderCreated to this status, when this call made the order final."""
