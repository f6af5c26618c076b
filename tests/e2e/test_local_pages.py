"""`make serve`'s local-only pages, over HTTP: notifications, published events, and the
manual-review queue with its re-drive."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from local_runtime.emulator.faults import Fault
from order_saga.errors import GatewayUnavailable
from tests.e2e.conftest import ADDRESS

if TYPE_CHECKING:
    from tests.e2e.conftest import Client, Shop


def place(client: Client, items: list[tuple[str, int]]) -> str:
    response = client.post(
        "/orders",
        {
            "items": [{"product_id": p, "quantity": q} for p, q in items],
            "shipping_address": ADDRESS,
            "payment_method": "tok_visa",
        },
    )
    assert response.status_code == 202, response.text
    return str(response.json()["order_id"])


def test_the_notifications_page_shows_what_the_customer_was_told(
    client: Client, shop: Shop
) -> None:
    order_id = place(client, [(shop.product("6.00", 5), 1)])
    shop.runtime.wait(order_id)

    sent = client.get(f"/local/notifications?order_id={order_id}").json()

    assert [(n["event_type"], n["customer_id"]) for n in sent] == [
        ("OrderConfirmed", client.customer)
    ]
    assert "6.00" in sent[0]["message"]


def test_the_events_page_shows_the_order_as_published_on_the_bus(
    client: Client, shop: Shop
) -> None:
    order_id = place(client, [(shop.product("6.00", 5), 1)])
    shop.runtime.wait(order_id)

    published = client.get(f"/local/events?order_id={order_id}").json()

    types = [event["detail-type"] for event in published]
    assert types[0] == "OrderCreated" and types[-1] == "OrderConfirmed"
    assert {event["source"] for event in published} == {"order-saga.orders"}


def test_the_pages_only_answer_reads(client: Client) -> None:
    assert client.post("/local/notifications", {}).status_code == 405


def test_an_order_in_manual_review_is_listed_and_redriven_over_http(
    client: Client, shop: Shop
) -> None:
    plenty, scarce = shop.product("5.00", 5), shop.product("8.00", 1)
    shop.runtime.functions.inject(
        "RefundPaymentFunction", Fault.transient(GatewayUnavailable("down"), times=3)
    )
    order_id = place(client, [(plenty, 1), (scarce, 3)])
    shop.runtime.wait(order_id)

    waiting = [i for i in client.get("/local/manual-review").json() if i["order_id"] == order_id]
    outcomes = client.post("/local/manual-review/redrive").json()

    assert [item["failed_step"] for item in waiting] == ["RefundPayment"]
    assert [o["done"] for o in outcomes if o["order_id"] == order_id] == [True]
    order = client.get(f"/orders/{order_id}").json()
    assert (order["status"], order["cancellation_reason"]) == ("CANCELLED", "OutOfStock")


def test_a_page_answers_while_the_consumers_are_busy_instead_of_waiting_on_them(
    client: Client, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a delivery that is stuck in the notifications consumer (as the poller's is
    # while it works through a backlog) and holds the stream driver
    order_id = place(client, [(shop.product("6.00", 5), 1)])
    shop.runtime.wait(order_id)
    notifier = shop.ports.notifier
    entered, release = threading.Event(), threading.Event()
    send = notifier.send

    def stuck(notification: Any) -> str:
        entered.set()
        release.wait(120)
        return send(notification)

    monkeypatch.setattr(notifier, "send", stuck)
    drain = threading.Thread(target=shop.runtime.drain_streams)
    drain.start()
    try:
        assert entered.wait(60), "the consumer was never called"

        # when the pages are asked meanwhile, then each answers, none waits for it
        answers = {
            page: client.get(page).status_code
            for page in ("/local/failures", "/local/events", "/local/notifications")
        }
    finally:
        release.set()
        drain.join(120)

    assert answers == dict.fromkeys(answers, 200)


def test_what_goes_on_the_bus_is_read_off_the_tap_as_it_arrives(shop: Shop) -> None:
    execution, _ = shop.run([(shop.product("6.00", 5), 1)])

    shop.runtime.drain_streams()

    assert shop.runtime.messaging is not None
    tap = shop.runtime.messaging.taps["OrderEventBus"]
    waiting = boto3.client("sqs").get_queue_attributes(
        QueueUrl=tap, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    # the tap queue is empty (moto's cost of every publish grows with what it holds), and
    # what reached it is in the index
    assert waiting == "0"
    published = shop.runtime.messaging.published("OrderEventBus", execution.order_id)
    assert [e["detail-type"] for e in published][-1] == "OrderConfirmed"


@pytest.mark.parametrize(
    "query",
    ["limit=5.0", "limit=+5", "limit=1_0", "limit=%205", "limit=0", "limit=1001", "limit=5&limit=6",
     "order_id=ord%0A", "order_id=" + "o" * 65],
)  # fmt: skip
def test_the_pages_take_their_parameters_strictly(client: Client, query: str) -> None:
    for page in ("/local/events", "/local/notifications"):
        response = client.get(f"{page}?{query}")

        assert (response.status_code, response.json()["error"]) == (422, "InvalidRequest"), page


def test_a_page_lists_the_newest_entries_up_to_its_limit(client: Client, shop: Shop) -> None:
    first = place(client, [(shop.product("6.00", 5), 1)])
    shop.runtime.wait(first)
    client.get(f"/local/notifications?order_id={first}")  # its notification is sent first
    second = place(client, [(shop.product("6.00", 5), 1)])
    shop.runtime.wait(second)

    newest = client.get("/local/notifications?limit=1").json()
    events = client.get("/local/events?limit=2").json()

    assert [n["order_id"] for n in newest] == [second]
    assert len(events) == 2
