"""The Order aggregate: its commands and how its events fold, with its Payment beside it;
the status machine it follows is in ``order_status``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from order_saga.domain.aggregate import Aggregate
from order_saga.domain.events import (
    CancellationRequested,
    CompensationFailed,
    CompensationStarted,
    DomainEvent,
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderShipped,
    PaymentCompleted,
    PaymentFailed,
    PaymentProcessing,
    PaymentRefunded,
    Requester,
)
from order_saga.domain.order_status import MAX_ITEMS, TERMINAL, TRANSITIONS, OrderStatus
from order_saga.domain.order_status import OrderStatus as S
from order_saga.domain.payment import Payment
from order_saga.domain.values import OrderItem, StockLine, order_total
from order_saga.errors import DomainError, InvalidTransition, OrderCancellationRequested

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from order_saga.domain.values import Address, Shortage


class Reservation:
    def __init__(self, event: InventoryReserved) -> None:
        self.reservation_id = event.reservation_id
        self.lines = event.lines
        self.released = False


class Order(Aggregate):
    """Every command checks the status machine first and records nothing when refused."""

    order_id: str
    customer_id: str
    items: tuple[OrderItem, ...]
    shipping_address: Address
    payment_method: str
    total: Decimal

    def __init__(self) -> None:
        super().__init__()
        self.status = S.PENDING
        self.payment: Payment | None = None
        self.reservation: Reservation | None = None
        self.shortages: tuple[Shortage, ...] = ()
        self.cancel_reason: str | None = None
        self.cancel_detail: str = ""
        self.compensation_failure: CompensationFailed | None = None
        """Set while the order awaits manual review; cleared when it is cancelled."""
        self.compensating = False
        """Set once the saga starts to undo the order: forward steps then refuse."""
        self.created_at: datetime | None = None
        """When OrderCreated was stored (store metadata, set by whoever loads the order)."""
        self.cancellation: CancellationRequested | None = None
        """Set once someone asks to cancel: from then on the saga only compensates."""

    # -- commands ------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        order_id: str,
        customer_id: str,
        items: tuple[OrderItem, ...],
        shipping_address: Address,
        payment_method: str,
    ) -> Order:
        if not 1 <= len(items) <= MAX_ITEMS:
            raise DomainError(f"an order holds 1 to {MAX_ITEMS} items, not {len(items)}")
        products = [item.product_id for item in items]
        if len(set(products)) != len(products):
            raise DomainError("each product may appear only once in an order")
        order = cls()
        order._record(
            OrderCreated(
                order_id=order_id,
                customer_id=customer_id,
                items=items,
                shipping_address=shipping_address,
                payment_method=payment_method,
                total=order_total(items),
            )
        )
        return order

    def begin_compensation(self) -> bool:
        """Record that the saga is undoing the order, before any money or stock moves
        back, so a forward step that arrives late (its answer lost, its retry still in
        flight) can no longer confirm an order being refunded. False when already begun."""
        self._check_not_terminal("compensate")
        if self.compensating:
            return False
        self._record(CompensationStarted(order_id=self.order_id))
        return True

    def start_payment(self, idempotency_key: str) -> PaymentProcessing:
        self.check_forward()
        self._check_transition(S.PAYMENT_PROCESSING)
        self.check_may_proceed("charge")
        event = Payment.start(self.order_id, self.total, idempotency_key)
        self._record(event)
        return event

    def complete_payment(self, payment_id: str) -> PaymentCompleted:
        self._check_transition(S.PAYMENT_COMPLETED)
        event = self._payment("complete").complete(payment_id)
        self._record(event)
        return event

    def fail_payment(self, reason: str, *, declined: bool = True) -> PaymentFailed:
        event = self._payment("fail").fail(reason, declined=declined)
        self._record(event)
        return event

    def reserve_inventory(self, reservation_id: str, lines: tuple[StockLine, ...]) -> None:
        self.check_forward()
        self._check_transition(S.INVENTORY_RESERVED)
        self.check_may_proceed("reserve stock for")
        self._record(
            InventoryReserved(order_id=self.order_id, reservation_id=reservation_id, lines=lines)
        )

    def fail_reservation(self, shortages: tuple[Shortage, ...]) -> None:
        if self.status is not S.PAYMENT_COMPLETED:
            raise InvalidTransition(
                f"order {self.order_id} is {self.status}: only a paid order can fail to reserve"
            )
        self._record(InventoryReservationFailed(order_id=self.order_id, shortages=shortages))

    def confirm(self) -> None:
        self.check_forward()
        self._check_transition(S.CONFIRMED)
        self.check_may_proceed("confirm")
        self._record(OrderConfirmed(order_id=self.order_id))

    def check_refund(self) -> None:
        """Raise as ``refund_payment`` would: the gateway is asked only once this passes."""
        self._check_not_terminal("refund")
        self._payment("refund").check_refund()

    def refund_payment(self, refund_id: str) -> PaymentRefunded:
        self.check_refund()
        event = self._payment("refund").refund(refund_id)
        self._record(event)
        return event

    def release_inventory(self) -> InventoryReleased:
        self._check_not_terminal("release the inventory of")
        if self.reservation is None or self.reservation.released:
            raise InvalidTransition(f"order {self.order_id} holds no inventory to release")
        event = InventoryReleased(
            order_id=self.order_id,
            reservation_id=self.reservation.reservation_id,
            lines=self.reservation.lines,
        )
        self._record(event)
        return event

    def cancel(self, reason: str, detail: str = "") -> None:
        self._check_transition(S.CANCELLED)
        # A cancelled order must hold neither the customer's money nor any stock.
        if self.holds_payment:
            raise InvalidTransition(
                f"order {self.order_id} must be refunded before it is cancelled"
            )
        if self.holds_inventory:
            raise InvalidTransition(
                f"order {self.order_id} must release its inventory before it is cancelled"
            )
        if self.payment is not None and self.payment.is_unsettled:
            raise InvalidTransition(
                f"order {self.order_id} has a charge with no recorded outcome: settle it first"
            )
        self._record(OrderCancelled(order_id=self.order_id, reason=reason, detail=detail))

    def ship(self) -> None:
        self._check_transition(S.SHIPPED)
        self._record(OrderShipped(order_id=self.order_id))

    def record_compensation_failure(self, failed_step: str, error: str, cause: str = "") -> None:
        """Mark the order for manual review; a finished order has nothing to compensate."""
        self._check_not_terminal("send to manual review")
        self._record(
            CompensationFailed(
                order_id=self.order_id, failed_step=failed_step, error=error, cause=cause
            )
        )

    def request_cancellation(
        self, requested_by: str, reason: str = "", *, role: Requester = "customer"
    ) -> bool:
        """Ask the running saga to stop: its next forward step refuses, and the state
        machine's compensation gives back money and stock, then cancels. Returns False
        when there is nothing to do (cancelled already, or asked before); a confirmed or
        shipped order is past cancelling."""
        if self.status is S.CANCELLED or self.cancellation is not None:
            return False
        if self.status in (S.CONFIRMED, S.SHIPPED):
            raise InvalidTransition(
                f"order {self.order_id} is {self.status}: it can no longer be cancelled"
            )
        self._record(
            CancellationRequested(
                order_id=self.order_id,
                requested_by=requested_by,
                requested_by_role=role,
                reason=reason,
            )
        )
        return True

    # -- queries -------------------------------------------------------------------

    @property
    def holds_payment(self) -> bool:
        return self.payment is not None and self.payment.holds_money

    @property
    def holds_inventory(self) -> bool:
        return self.reservation is not None and not self.reservation.released

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def in_manual_review(self) -> bool:
        return self.compensation_failure is not None

    def can_transition(self, target: OrderStatus) -> bool:
        return target in TRANSITIONS[self.status]

    def check_may_proceed(self, action: str) -> None:
        """Raise OrderCancellationRequested once a cancellation was asked for: call before
        any step forward (a charge, a reservation, the confirmation)."""
        if self.cancellation is not None:
            raise OrderCancellationRequested(
                f"cannot {action} order {self.order_id}: "
                f"{requester(self.cancellation)} asked to cancel it"
            )

    # -- folding events ------------------------------------------------------------

    def _apply(self, event: DomainEvent) -> None:
        match event:
            case OrderCreated():
                self.order_id = event.order_id
                self.customer_id = event.customer_id
                self.items = event.items
                self.shipping_address = event.shipping_address
                self.payment_method = event.payment_method
                self.total = event.total
            case PaymentProcessing():
                self.status = S.PAYMENT_PROCESSING
                self.payment = Payment(event)
            case PaymentCompleted():
                self.status = S.PAYMENT_COMPLETED
                self._payment("apply").apply(event)
            case PaymentFailed() | PaymentRefunded():
                self._payment("apply").apply(event)
            case InventoryReserved():
                self.status = S.INVENTORY_RESERVED
                self.reservation = Reservation(event)
            case InventoryReservationFailed():
                self.shortages = event.shortages
            case InventoryReleased():
                if self.reservation is not None:
                    self.reservation.released = True
            case OrderConfirmed():
                self.status = S.CONFIRMED
            case OrderCancelled():
                self.status = S.CANCELLED
                self.cancel_reason = event.reason
                self.cancel_detail = event.detail
                self.compensation_failure = None
            case OrderShipped():
                self.status = S.SHIPPED
            case CompensationStarted():
                self.compensating = True
            case CompensationFailed():
                self.compensation_failure = event
            case CancellationRequested():
                self.cancellation = event
            case _:
                raise TypeError(f"an order stream cannot hold {type(event).__name__}")

    def _check_transition(self, target: OrderStatus) -> None:
        if target not in TRANSITIONS[self.status]:
            raise InvalidTransition(
                f"order {self.order_id} cannot go from {self.status} to {target}"
            )

    def check_forward(self) -> None:
        """Raise once the saga is undoing the order: nothing may move it forward."""
        if self.compensating:
            raise InvalidTransition(f"order {self.order_id} is being compensated: it cannot go on")

    def _check_not_terminal(self, action: str) -> None:
        if self.is_terminal:
            raise InvalidTransition(f"cannot {action} order {self.order_id}: it is {self.status}")

    def _payment(self, action: str) -> Payment:
        if self.payment is None:
            raise InvalidTransition(f"cannot {action} a payment: order {self.order_id} has none")
        return self.payment


def requester(request: CancellationRequested) -> str:
    """Who asked to cancel, as a customer may be told: "the customer" or "the shop" (an
    operator's id is for operators only)."""
    return "the shop" if request.requested_by_role == "operator" else "the customer"


def requested_detail(request: CancellationRequested) -> str:
    """A requested cancellation's detail, as anyone may read it: who (as ``requester``
    words it) and why."""
    detail = f"requested by {requester(request)}"
    return f"{detail}: {request.reason}" if request.reason else detail
