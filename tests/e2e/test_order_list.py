"""GET /orders end to end: sagas through the real ASL, their events through the stream
into ViewsFunction (as its event source mapping would), the read model answering the API,
and the rebuild command giving back exactly what the consumer built."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from local_runtime.emulator.faults import Fault
from ops.invariants.checker import check_store
from order_saga.errors import GatewayUnavailable
from order_saga.service_layer.order_summaries import summarise
from order_saga.service_layer.repository import order_stream
from tests.e2e.conftest import Shop

if TYPE_CHECKING:
    from tests.e2e.conftest import Client


def listed(client: Client, query: str = "") -> list[dict]:
    """Every order of the list, page after page."""
    orders, cursor = [], None
    while True:
        path = f"/orders?{query}" + (f"&cursor={cursor}" if cursor else "")
        answer = client.get(path)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        orders += page["orders"]
        cursor = page["next_cursor"]
        if cursor is None:
            return orders


def test_a_customer_lists_their_own_orders_newest_first_with_the_store_status(
    shop: Shop, client: Client
) -> None:
    shop.customer = client.customer
    product = shop.product("5.00", 2)
    first, _ = shop.run([(product, 1)])
    declined, _ = shop.run([(product, 1)], payment_method="tok_chargeDeclined")
    third, _ = shop.run([(product, 2)])  # one unit left: out of stock
    other = Shop(shop.runtime, customer=f"cust-{uuid.uuid4().hex[:8]}")
    other.run([(product, 1)])
    shop.runtime.drain_streams()

    orders = listed(client, "limit=2")

    assert [o["order_id"] for o in orders] == [
        third.order_id, declined.order_id, first.order_id
    ]  # fmt: skip
    assert [o["status"] for o in orders] == ["CANCELLED", "CANCELLED", "CONFIRMED"]
    assert orders[2] | {"created_at": None, "updated_at": None} == {
        "order_id": first.order_id,
        "customer_id": client.customer,
        "status": "CONFIRMED",
        "total": "5.00",
        "item_count": 1,
        "created_at": None,
        "updated_at": None,
        "manual_review": False,
    }
    cancelled = listed(client, "status=CANCELLED")
    assert [o["order_id"] for o in cancelled] == [third.order_id, declined.order_id]


def test_another_customers_orders_never_appear_and_only_operators_widen_the_list(
    shop: Shop, client: Client
) -> None:
    product = shop.product("3.00", 5)
    theirs, _ = shop.run([(product, 1)])
    shop.runtime.drain_streams()

    assert listed(client) == []
    refused = client.get(f"/orders?customer_id={shop.customer}")
    assert (refused.status_code, refused.json()["error"]) == (403, "Forbidden")
    assert client.get("/orders?status=MANUAL_REVIEW").status_code == 403

    operator = client.as_operator()
    assert [o["order_id"] for o in listed(operator, f"customer_id={shop.customer}")] == [
        theirs.order_id
    ]
    confirmed = [o["order_id"] for o in listed(operator, "status=CONFIRMED&limit=100")]
    assert theirs.order_id in confirmed


def test_bad_parameters_are_named_4xx_and_read_nothing(client: Client) -> None:
    for query, field in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=1_0", "limit"),
        ("limit=%2B10", "limit"),
        ("limit=10.0", "limit"),
        ("limit=%2010", "limit"),
        ("status=LOST", "status"),
        ("cursor=not%20a%20cursor", "cursor"),
        ("colour=red", "colour"),
        ("limit=1&limit=2", "limit"),
    ]:
        answer = client.get(f"/orders?{query}")
        assert answer.status_code == 422, (query, answer.text)
        body = answer.json()
        assert body["error"] == "InvalidRequest", query
        assert field in [d["field"] for d in body["details"]], (query, body)
    made_up = client.get("/orders?cursor=eyJ2IjogMX0")
    assert (made_up.status_code, made_up.json()["error"]) == (422, "InvalidCursor")


def test_a_cursor_of_another_customer_is_refused(shop: Shop, client: Client) -> None:
    shop.customer = client.customer
    product = shop.product("2.00", 5)
    shop.run([(product, 1)])
    shop.run([(product, 1)])
    shop.runtime.drain_streams()
    cursor = client.get("/orders?limit=1").json()["next_cursor"]
    assert cursor is not None

    answer = client.someone_else().get(f"/orders?cursor={cursor}")

    assert (answer.status_code, answer.json()["error"]) == (422, "InvalidCursor")


def test_after_a_mixed_run_the_rebuilt_read_model_equals_the_live_one(shop: Shop) -> None:
    runtime = shop.runtime
    product = shop.product("8.00", 3)
    shop.run([(product, 1)])  # confirmed
    shop.run([(product, 1)], payment_method="tok_chargeDeclined")
    shop.run([(product, 5)])  # out of stock: refunded, released, cancelled
    cancelled = shop.order([(product, 1)])
    status, _, _ = runtime.api(
        "POST", f"/orders/{cancelled}/cancel", {"reason": "changed my mind"},
        {"X-Customer-Id": shop.customer},
    )  # fmt: skip
    assert status in (200, 202)
    runtime.wait(cancelled)
    runtime.functions.inject(
        "RefundPaymentFunction", Fault.transient(GatewayUnavailable("down"), times=3)
    )
    in_review, _ = shop.run([(product, 9)])  # out of stock, and the refund gives up
    runtime.drain_streams()
    runtime.drain_streams()  # and once more: every record delivered twice changes nothing
    read_model = shop.ports.read_model
    assert read_model is not None
    live = {s.order_id: s for s in read_model.scan()}
    assert live[in_review.order_id].manual_review
    for order_id in [in_review.order_id, cancelled]:
        assert live[order_id] == summarise(shop.ports.store.load(order_stream(order_id)))

    for order_id in live:
        read_model.delete(order_id)
    counts = runtime.rebuild_views()

    assert {s.order_id: s for s in read_model.scan()} == live
    assert counts["orders"] == len(live) and counts["dropped"] == 0
    report = check_store(shop.ports.store, read_model=read_model.scan())
    assert [v for v in report.violations if v.startswith("read model")] == []
