"""`make serve`'s local-only pages, over HTTP: notifications, published events, and the
manual-review queue with its re-drive."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
