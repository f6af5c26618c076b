"""Which events tell the customer something, and what they say: pure, on in-memory ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from order_saga.adapters.event_store import RecordedEvent
from order_saga.adapters.notifier import RecordingNotifier
from order_saga.domain.commands import CancelOrder
from order_saga.domain.events import EVENT_TYPES
from order_saga.errors import OrderNotFound
from order_saga.service_layer.notifications import (
    NOTIFYING,
    compose,
    notify,
    order_as_of,
    wants,
)
from order_saga.service_layer.orders import cancel_order
from order_saga.service_layer.ports import Ports
from tests.unit.sagas import order_records, run_saga, ship

Stocked = Callable[..., str]
Placed = Callable[..., str]


def messages(ports: Ports, order_id: str) -> dict[str, tuple[str, str, dict[str, str]]]:
    """Event type -> (subject, message, details) for every event of the order that notifies."""
    records = order_records(ports, order_id)
    composed = {}
    for record in records:
        notification = compose(record.to_domain(), order_as_of(records, record), record.version)
        if notification is not None:
            composed[record.event_type] = (
                notification.subject,
                notification.message,
                notification.details,
            )
    return composed


def test_the_notifying_events_are_the_four_a_customer_cares_about() -> None:
    assert {"OrderConfirmed", "OrderCancelled", "PaymentRefunded", "OrderShipped"} == NOTIFYING
    assert set(EVENT_TYPES) >= NOTIFYING


def test_a_confirmed_order_notifies_once_with_its_total(
    ports: Ports, stocked: Stocked, placed: Placed
) -> None:
    order_id = placed((stocked("19.99", 5), 3))
    run_saga(ports, order_id)

    composed = messages(ports, order_id)

    assert list(composed) == ["OrderConfirmed"]
    subject, message, details = composed["OrderConfirmed"]
    assert subject == f"Order {order_id} confirmed"
    assert "3 item(s), 59.97 charged" in message
    assert details == {"total": "59.97"}


def test_a_declined_payment_notifies_only_the_cancellation_with_its_reason(
    ports: Ports, stocked: Stocked, placed: Placed
) -> None:
    order_id = placed((stocked(), 1), token="tok_chargeDeclined")
    run_saga(ports, order_id)

    composed = messages(ports, order_id)

    assert list(composed) == ["OrderCancelled"]
    subject, message, details = composed["OrderCancelled"]
    assert subject == f"Order {order_id} cancelled"
    assert message.endswith("was cancelled: your payment was declined.")
    assert details["reason"] == "PaymentDeclined"


def test_an_order_out_of_stock_notifies_the_refund_then_the_cancellation_naming_the_shortage(
    ports: Ports, stocked: Stocked, placed: Placed
) -> None:
    scarce = stocked("10.00", 2)
    order_id = placed((scarce, 5))
    run_saga(ports, order_id)

    composed = messages(ports, order_id)

    assert list(composed) == ["PaymentRefunded", "OrderCancelled"]
    _, refund_message, refund_details = composed["PaymentRefunded"]
    assert refund_details["amount"] == "50.00"
    assert f"We refunded 50.00 for order {order_id}" in refund_message
    _, cancel_message, cancel_details = composed["OrderCancelled"]
    assert cancel_details["reason"] == "OutOfStock"
    assert f"{scarce}: 5 ordered, 2 available." in cancel_message


def test_a_shipped_order_notifies_where_it_goes(
    ports: Ports, stocked: Stocked, placed: Placed
) -> None:
    order_id = placed((stocked(), 1))
    run_saga(ports, order_id)
    ship(ports, order_id)

    composed = messages(ports, order_id)

    assert list(composed) == ["OrderConfirmed", "OrderShipped"]
    assert composed["OrderShipped"][1] == f"Your order {order_id} is on its way to Seattle, US."


def test_a_cancellation_for_an_internal_error_never_shows_its_text(
    ports: Ports, stocked: Stocked, placed: Placed
) -> None:
    order_id = placed((stocked(), 1))
    cause = '{"errorType": "RuntimeError", "errorMessage": "db at 10.0.0.7 refused"}'
    cancel_order(CancelOrder(order_id=order_id, reason="RuntimeError", cause=cause), ports)

    _, message, details = messages(ports, order_id)["OrderCancelled"]

    assert message.endswith("was cancelled: we could not complete it.")
    assert "10.0.0.7" not in message
    assert details["reason"] == "RuntimeError"


@pytest.mark.parametrize("event_type", sorted(set(EVENT_TYPES) - NOTIFYING))
def test_no_other_event_is_wanted(event_type: str) -> None:
    record = RecordedEvent("order#o-1", 2, event_type, 1, None, "o-1", {})  # type: ignore[arg-type]

    assert not wants(record)


def test_notify_sends_through_the_notifier_addressed_to_the_orders_customer(
    ports: Ports, stocked: Stocked, placed: Placed
) -> None:
    notifier = RecordingNotifier()
    ports = replace(ports, notifier=notifier)
    order_id = placed((stocked(), 1))
    run_saga(ports, order_id)
    confirmed = order_records(ports, order_id)[-1]

    result = notify(confirmed, ports)

    (sent,) = notifier.sent(order_id)
    assert result == {"sent": True, "message_id": "local-1", "customer_id": sent.customer_id}
    assert sent.customer_id.startswith("cust-")
    assert (sent.event_type, sent.version) == ("OrderConfirmed", confirmed.version)


def test_an_event_whose_stream_holds_no_order_is_an_order_not_found(ports: Ports) -> None:
    stray = RecordedEvent(
        "order#nobody",
        1,
        "OrderConfirmed",
        1,
        None,
        "nobody",
        {"order_id": "nobody"},  # type: ignore[arg-type]
    )

    with pytest.raises(OrderNotFound):
        order_as_of([], stray)
