"""Which events tell the customer something, and what: decided here, sent by the Notifier.

``compose`` is pure: an event and its order as of that event in, a message or None out.
Messages never carry internal error text: a cancellation for a reason the customer can
act on says so, any other says only that the order could not be completed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from order_saga.adapters.notifier import Notification
from order_saga.domain.events import (
    DomainEvent,
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderShipped,
    PaymentRefunded,
)
from order_saga.domain.order import Order
from order_saga.errors import OrderNotFound

if TYPE_CHECKING:
    from order_saga.adapters.event_store import RecordedEvent
    from order_saga.service_layer.dependencies import NotificationsDependencies

NOTIFYING = frozenset(
    cls.type_name() for cls in (OrderConfirmed, OrderCancelled, PaymentRefunded, OrderShipped)
)
CUSTOMER_REASONS = {
    "PaymentDeclined": "your payment was declined",
    "OutOfStock": "we do not have enough stock",
}


def wants(record: RecordedEvent) -> bool:
    return record.event_type in NOTIFYING


def compose(event: DomainEvent, order: Order, version: int) -> Notification | None:
    """The message for ``event``; ``order`` is rebuilt up to and including it."""

    def message(subject: str, text: str, **details: str) -> Notification:
        return Notification(
            customer_id=order.customer_id,
            order_id=order.order_id,
            event_type=event.type_name(),
            version=version,
            subject=subject,
            message=text,
            details=details,
        )

    order_id = order.order_id
    match event:
        case OrderConfirmed():
            items = sum(item.quantity for item in order.items)
            return message(
                f"Order {order_id} confirmed",
                f"Thank you! Your order {order_id} is confirmed: {items} item(s), "
                f"{order.total} charged. We will tell you when it ships.",
                total=str(order.total),
            )
        case OrderCancelled():
            why = CUSTOMER_REASONS.get(event.reason, "we could not complete it")
            shortages = "".join(
                f" {s.product_id}: {s.requested} ordered, {s.available} available."
                for s in order.shortages
                if event.reason == "OutOfStock"
            )
            return message(
                f"Order {order_id} cancelled",
                f"Your order {order_id} was cancelled: {why}.{shortages}",
                reason=event.reason,
                total=str(order.total),
            )
        case PaymentRefunded():
            return message(
                f"Refund for order {order_id}",
                f"We refunded {event.amount} for order {order_id} (refund {event.refund_id}).",
                amount=str(event.amount),
                refund_id=event.refund_id,
            )
        case OrderShipped():
            address = order.shipping_address
            return message(
                f"Order {order_id} shipped",
                f"Your order {order_id} is on its way to {address.city}, {address.country}.",
            )
    return None


def order_as_of(store_records: list[RecordedEvent], record: RecordedEvent) -> Order:
    """The order as it stood when ``record`` was appended, whatever came after."""
    history = [r.to_domain() for r in store_records if r.version <= record.version]
    if not history or not isinstance(history[0], OrderCreated):
        raise OrderNotFound(f"no order in stream {record.stream_id}")
    return Order.rebuild(history)


def notify(record: RecordedEvent, deps: NotificationsDependencies) -> dict[str, Any]:
    """Send the customer the message ``record`` calls for; what was sent, as JSON."""
    order = order_as_of(deps.store.load(record.stream_id), record)
    notification = compose(record.to_domain(), order, record.version)
    if notification is None:
        return {"sent": False}
    message_id = deps.notifier.send(notification)
    return {"sent": True, "message_id": message_id, "customer_id": notification.customer_id}
