"""The order API's contract, endpoint by endpoint and status by status, over real HTTP to
the local server (`make serve`): requests become API Gateway proxy events for the real Api
function, and the sagas they start run the real ASL on moto.

"Nothing written" is checked where it counts: no order stream, no saga execution, the
stock and the ledger as they were.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from local_runtime.emulator.executions import ExecutionNotFound
from local_runtime.sample_catalog import SAMPLE_PRODUCTS
from order_saga.service_layer.ids import order_id_for
from order_saga.service_layer.repository import order_stream
from tests.e2e.conftest import ADDRESS

if TYPE_CHECKING:
    from local_runtime.emulator.api_gateway import LocalApiServer
    from local_runtime.runtime import LocalRuntime
    from tests.e2e.conftest import Client, Shop

ROOT = Path(__file__).resolve().parents[2]
HAPPY_PATH = ["ProcessPayment", "ReserveInventory", "ConfirmOrder"]
COMPENSATION = ["RefundPayment", "ReleaseInventory", "CancelOrder", "OrderCancelled"]


def new_order_id() -> str:
    return f"ord-{uuid.uuid4().hex[:16]}"


def keyed(client: Client) -> tuple[str, dict[str, str]]:
    """A new Idempotency-Key for ``client``, and the id the server gives its order."""
    key = uuid.uuid4().hex
    return order_id_for(client.customer or "", key), {"Idempotency-Key": key}


def order_body(product_id: str, quantity: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "items": [{"product_id": product_id, "quantity": quantity}],
        "shipping_address": ADDRESS,
        "payment_method": "tok_visa",
        **changes,
    }


def error_of(response: Any) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error", "message", "details"}, body
    return response.status_code, body["error"]


def fields_of(response: Any) -> set[str]:
    return {problem["field"] for problem in response.json()["details"]}


def nothing_written(runtime: LocalRuntime, order_id: str) -> bool:
    """No event for the order and no saga execution named after it."""
    assert runtime.ports is not None
    if runtime.ports.store.load(order_stream(order_id)):
        return False
    try:
        runtime.describe(runtime.execution_arn(order_id))
    except ExecutionNotFound:
        return True
    return False


def wait_for_status(client: Client, order_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        view: dict[str, Any] = client.get(f"/orders/{order_id}").json()
        if view["status"] == status or time.monotonic() > deadline:
            return view
        time.sleep(0.02)


@pytest.fixture
def placed(client: Client, shop: Shop, runtime: LocalRuntime) -> str:
    """A confirmed order of the client's: 2 x 24.90 of a product stocked with 10."""
    product = shop.product("24.90", 10)
    response = client.post("/orders", order_body(product, 2))
    assert response.status_code == 202, response.text
    order_id: str = response.json()["order_id"]
    assert runtime.wait(order_id).status == "SUCCEEDED"
    return order_id


# -- POST /orders ------------------------------------------------------------------------


def test_placing_an_order_answers_202_with_its_id_status_total_and_location(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    beans, kettle = shop.product("24.90", 10), shop.product("59.00", 5)
    body = {
        **order_body(beans, 2),
        "items": [
            {"product_id": beans, "quantity": 2, "unit_price": "24.90"},
            {"product_id": kettle, "quantity": 1},
        ],
    }

    response = client.post("/orders", body)

    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] == "PENDING"
    assert accepted["total"] == "108.80"
    assert response.headers["Location"] == f"/orders/{accepted['order_id']}"
    assert runtime.wait(accepted["order_id"]).path == HAPPY_PATH
    assert client.get(response.headers["Location"]).json()["status"] == "CONFIRMED"
    assert (shop.stock(beans), shop.stock(kettle)) == (8, 4)


def test_a_client_chosen_order_id_is_refused_422_and_nothing_is_written(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    order_id = new_order_id()

    response = client.post("/orders", order_body(shop.product("1.00", 5), order_id=order_id))

    assert error_of(response) == (422, "InvalidRequest")
    assert fields_of(response) == {"order_id"}
    assert "Idempotency-Key" in response.json()["message"]
    assert nothing_written(runtime, order_id)


def test_the_order_id_is_the_servers_and_the_same_for_every_retry(
    client: Client, shop: Shop
) -> None:
    order_id, headers = keyed(client)
    body = order_body(shop.product("1.00", 5))

    first = client.post("/orders", body, headers=headers)
    again = client.post("/orders", body, headers=headers)

    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["order_id"] == again.json()["order_id"] == order_id
    assert again.headers["Location"] == f"/orders/{order_id}"


def test_another_customer_can_never_learn_that_an_order_id_exists(
    client: Client, shop: Shop
) -> None:
    product = shop.product("1.00", 5)
    key = uuid.uuid4().hex
    mine = client.post("/orders", order_body(product), headers={"Idempotency-Key": key})
    other = client.someone_else()

    theirs = other.post("/orders", order_body(product, 3), headers={"Idempotency-Key": key})
    probed = other.get(f"/orders/{mine.json()['order_id']}")

    assert (mine.status_code, theirs.status_code) == (202, 202)  # no 409 for anyone
    assert theirs.json()["order_id"] != mine.json()["order_id"]
    assert error_of(probed) == (404, "OrderNotFound")


def test_a_tampered_price_is_refused_409_naming_both_prices_and_nothing_is_written(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    product, (order_id, headers) = shop.product("24.90", 10), keyed(client)
    body = order_body(product)
    body["items"][0]["unit_price"] = "0.01"

    response = client.post("/orders", body, headers=headers)

    assert error_of(response) == (409, "PriceMismatch")
    assert "0.01" in response.json()["message"] and "24.90" in response.json()["message"]
    assert response.json()["details"] == [
        {"field": "items.0.unit_price", "reason": "sent 0.01, catalog price 24.90"}
    ]
    assert nothing_written(runtime, order_id)
    assert shop.stock(product) == 10


def test_an_unknown_product_is_refused_422_naming_the_item(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    order_id, headers = keyed(client)
    body = order_body(shop.product("1.00", 5))
    body["items"].append({"product_id": "sku-no-such-thing", "quantity": 1})

    response = client.post("/orders", body, headers=headers)

    assert error_of(response) == (422, "UnknownProduct")
    assert fields_of(response) == {"items.1.product_id"}
    assert nothing_written(runtime, order_id)


def test_a_body_that_is_not_json_is_refused_400(client: Client) -> None:
    response = client.post(
        "/orders", data='{"items": [', headers={"Content-Type": "application/json"}
    )

    assert error_of(response) == (400, "MalformedJson")


def test_a_body_that_is_not_declared_json_is_refused_415(client: Client, shop: Shop) -> None:
    body = json.dumps(order_body(shop.product("1.00", 5)))

    response = client.post("/orders", data=body, headers={"Content-Type": "text/plain"})

    assert error_of(response) == (415, "UnsupportedMediaType")


def test_a_one_megabyte_body_is_refused_413_unread_and_nothing_is_written(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    order_id, headers = keyed(client)
    body = order_body(shop.product("1.00", 5))
    body["shipping_address"] = {**ADDRESS, "street": "x" * (1024 * 1024)}

    response = client.post("/orders", body, headers=headers)

    assert error_of(response) == (413, "PayloadTooLarge")
    assert fields_of(response) == {"body"}
    assert nothing_written(runtime, order_id)


def test_a_body_just_under_64_kb_is_read_and_judged_on_its_fields(client: Client) -> None:
    body = order_body("sku-x", street="y")
    body["padding"] = "p" * (60 * 1024)

    response = client.post("/orders", body)

    assert error_of(response) == (422, "InvalidRequest")
    assert {"padding", "street"} <= fields_of(response)


def test_without_a_caller_identity_placing_is_refused_401_and_nothing_is_written(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    order_id, headers = keyed(client)

    response = client.anonymous().post(
        "/orders", order_body(shop.product("1.00", 5)), headers=headers
    )

    assert error_of(response) == (401, "Unauthenticated")
    assert "X-Customer-Id" in response.json()["message"]
    assert nothing_written(runtime, order_id)


def test_a_customer_id_outside_the_safe_alphabet_is_refused_401(client: Client) -> None:
    response = client.get("/products", headers={"X-Customer-Id": "cust 1; drop"})

    assert error_of(response) == (401, "Unauthenticated")


def items(count: int) -> list[dict[str, Any]]:
    return [{"product_id": f"sku-{n}", "quantity": 1} for n in range(count)]


def item(**changes: Any) -> list[dict[str, Any]]:
    return [{"product_id": "sku-a", "quantity": 1, **changes}]


BAD_ORDERS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown field", {"coupon": "FREE"}, "coupon"),
    ("unknown item field", {"items": item(discount="1.00")}, "items.0.discount"),
    ("unknown address field", {"shipping_address": {**ADDRESS, "floor": "3"}}, "floor"),
    ("customer id in the body", {"customer_id": "someone-else"}, "customer_id"),
    ("no items", {"items": []}, "items"),
    ("101 items", {"items": items(101)}, "items"),
    ("quantity 0", {"items": item(quantity=0)}, "items.0.quantity"),
    ("quantity 1001", {"items": item(quantity=1001)}, "items.0.quantity"),
    ("quantity as text", {"items": item(quantity="2")}, "items.0.quantity"),
    ("quantity 1.5", {"items": item(quantity=1.5)}, "items.0.quantity"),
    ("price as a number", {"items": item(unit_price=24.9)}, "items.0.unit_price"),
    ("price with 3 decimals", {"items": item(unit_price="24.901")}, "items.0.unit_price"),
    ("negative price", {"items": item(unit_price="-1.00")}, "items.0.unit_price"),
    ("product id with a space", {"items": item(product_id="sku a")}, "items.0.product_id"),
    ("product id of 65", {"items": item(product_id="p" * 65)}, "items.0.product_id"),
    ("same product twice", {"items": item() + item()}, "items"),
    ("an order id of the client's", {"order_id": "ord-1"}, "order_id"),
    ("street of 201", {"shipping_address": {**ADDRESS, "street": "s" * 201}}, "street"),
    ("blank city", {"shipping_address": {**ADDRESS, "city": "   "}}, "city"),
    ("country not ISO", {"shipping_address": {**ADDRESS, "country": "USA"}}, "country"),
    ("no address", {"shipping_address": None}, "shipping_address"),
    ("card number", {"payment_method": "4242424242424242"}, "payment_method"),
    ("body is a list", {"__body__": [1]}, "body"),
]


@pytest.mark.parametrize(
    ("change", "field"), [(c, f) for _, c, f in BAD_ORDERS], ids=[name for name, _, _ in BAD_ORDERS]
)
def test_a_bad_order_is_refused_422_naming_the_field_and_nothing_is_written(
    client: Client, runtime: LocalRuntime, change: dict[str, Any], field: str
) -> None:
    order_id, headers = keyed(client)
    body: Any = {**order_body("sku-a"), **change}
    body = body.pop("__body__") if "__body__" in body else body

    response = client.post("/orders", body, headers=headers)

    assert error_of(response) == (422, "InvalidRequest")
    assert any(f == field or f.endswith(f".{field}") for f in fields_of(response)), response.json()
    assert all(problem["reason"] for problem in response.json()["details"])
    assert nothing_written(runtime, order_id)


# -- Idempotency-Key ---------------------------------------------------------------------


def test_the_same_key_and_body_answer_the_same_and_start_one_saga(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    product = shop.product("5.00", 10)
    body, key = order_body(product, 2), uuid.uuid4().hex

    first = client.post("/orders", body, headers={"Idempotency-Key": key})
    second = client.post("/orders", body, headers={"Idempotency-Key": key})

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json() == first.json()
    assert second.headers["Location"] == first.headers["Location"]
    order_id = first.json()["order_id"]
    runtime.wait(order_id)
    assert shop.stock(product) == 8  # reserved once
    assert shop.gateway.net_charged_for(order_id) == Decimal("10.00")  # charged once
    stored = boto3.client("dynamodb").scan(TableName=os.environ["IDEMPOTENCY_TABLE"])["Items"]
    assert any(item["id"]["S"].startswith("api-create#") for item in stored)


def test_the_same_key_with_another_body_is_refused_422_and_the_first_order_stands(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    product, (order_id, headers) = shop.product("5.00", 10), keyed(client)
    assert client.post("/orders", order_body(product), headers=headers).ok

    response = client.post("/orders", order_body(product, 5), headers=headers)

    assert error_of(response) == (422, "IdempotencyKeyReused")
    assert fields_of(response) == {"header.idempotency-key"}
    events = client.get(f"/orders/{order_id}/events").json()["events"]
    assert [e["type"] for e in events].count("OrderCreated") == 1
    assert client.get(f"/orders/{order_id}").json()["items"][0]["quantity"] == 1


def test_keys_are_per_customer(client: Client, shop: Shop) -> None:
    product, key = shop.product("5.00", 10), uuid.uuid4().hex

    mine = client.post("/orders", order_body(product), headers={"Idempotency-Key": key})
    theirs = client.someone_else().post(
        "/orders", order_body(product), headers={"Idempotency-Key": key}
    )

    assert (mine.status_code, theirs.status_code) == (202, 202)
    assert mine.json()["order_id"] != theirs.json()["order_id"]


def test_a_refused_order_can_be_sent_again_under_its_key(client: Client, shop: Shop) -> None:
    product, key = shop.product("5.00", 10), uuid.uuid4().hex
    tampered = order_body(product)
    tampered["items"][0]["unit_price"] = "4.00"
    assert client.post("/orders", tampered, headers={"Idempotency-Key": key}).status_code == 409

    response = client.post("/orders", order_body(product), headers={"Idempotency-Key": key})

    assert response.status_code == 202


def test_a_key_outside_the_safe_alphabet_is_refused_422(client: Client) -> None:
    response = client.post("/orders", order_body("sku-a"), headers={"Idempotency-Key": "a b"})

    assert error_of(response) == (422, "InvalidRequest")
    assert fields_of(response) == {"header.idempotency-key"}


# -- GET /orders/{order_id} and its events -----------------------------------------------


def test_an_order_reads_back_as_its_events_tell_it(client: Client, placed: str) -> None:
    response = client.get(f"/orders/{placed}")

    assert response.status_code == 200
    view = response.json()
    assert view["order_id"] == placed
    assert view["customer_id"] == client.customer
    assert view["status"] == "CONFIRMED"
    assert view["items"][0]["quantity"] == 2 and view["items"][0]["unit_price"] == "24.90"
    assert view["total"] == "49.80"
    assert view["payment_id"].startswith("pay_") and view["reservation_id"]
    assert view["cancellation_requested"] is None and view["cancellation_reason"] is None
    assert view["created_at"] < view["updated_at"]


def test_the_events_are_the_orders_history_in_order(client: Client, placed: str) -> None:
    response = client.get(f"/orders/{placed}/events")

    assert response.status_code == 200
    events = response.json()["events"]
    assert [e["type"] for e in events] == [
        "OrderCreated",
        "PaymentProcessing",
        "PaymentCompleted",
        "InventoryReserved",
        "OrderConfirmed",
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert events[0]["data"]["total"] == "49.80"


@pytest.mark.parametrize("path", ["/orders/{id}", "/orders/{id}/events"])
def test_another_customers_order_is_not_found(client: Client, placed: str, path: str) -> None:
    response = client.someone_else().get(path.format(id=placed))

    assert error_of(response) == (404, "OrderNotFound")


@pytest.mark.parametrize("path", ["/orders/{id}", "/orders/{id}/events"])
def test_an_operator_reads_any_order(client: Client, placed: str, path: str) -> None:
    assert client.as_operator().get(path.format(id=placed)).status_code == 200


@pytest.mark.parametrize("path", ["/orders/{id}", "/orders/{id}/events"])
def test_an_unknown_order_is_not_found(client: Client, path: str) -> None:
    response = client.get(path.format(id=new_order_id()))

    assert error_of(response) == (404, "OrderNotFound")


@pytest.mark.parametrize(
    "path",
    ["/orders/{id}", "/orders/{id}/events", "/orders/{id}/cancel", "/orders/{id}/ship"],
)
@pytest.mark.parametrize("bad_id", ["has%20space", "x" * 65, "semi%3Bcolon"])
def test_an_order_id_outside_the_safe_alphabet_is_refused_422(
    client: Client, path: str, bad_id: str
) -> None:
    method = "POST" if path.endswith(("cancel", "ship")) else "GET"

    response = client.as_operator().call(method, path.format(id=bad_id))

    assert error_of(response) == (422, "InvalidRequest")
    assert fields_of(response) == {"order_id"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/orders/ord-1"),
        ("GET", "/orders/ord-1/events"),
        ("POST", "/orders/ord-1/cancel"),
        ("POST", "/orders/ord-1/ship"),
        ("GET", "/products"),
        ("GET", "/products/sku-espresso-beans"),
    ],
)
def test_every_route_but_the_contract_needs_a_caller_identity(
    client: Client, method: str, path: str
) -> None:
    assert error_of(client.anonymous().call(method, path)) == (401, "Unauthenticated")


# -- POST /orders/{order_id}/cancel --------------------------------------------------------


def held_at(runtime: LocalRuntime, function: str, order_id: str) -> Any:
    return runtime.functions.hold(function, when=lambda p: p.get("order_id") == order_id)


def test_cancelling_before_confirmation_stops_the_saga_and_gives_back_money_and_stock(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    product, (order_id, headers) = shop.product("24.90", 10), keyed(client)
    release = held_at(runtime, "ConfirmOrderFunction", order_id)
    assert client.post("/orders", order_body(product, 3), headers=headers).status_code == 202
    assert wait_for_status(client, order_id, "INVENTORY_RESERVED")["status"] == "INVENTORY_RESERVED"
    assert shop.stock(product) == 7

    response = client.post(f"/orders/{order_id}/cancel", {"reason": "changed my mind"})
    release.set()

    assert response.status_code == 202
    assert response.json()["status"] == "INVENTORY_RESERVED"
    assert response.json()["cancellation_requested"]["requested_by"] == client.customer
    execution = runtime.wait(order_id)
    assert execution.path == ["ProcessPayment", "ReserveInventory", "ConfirmOrder", *COMPENSATION]
    view = client.get(f"/orders/{order_id}").json()
    assert view["status"] == "CANCELLED"
    assert view["cancellation_reason"] == "OrderCancellationRequested"
    assert view["cancellation_detail"] == "requested by the customer: changed my mind"
    assert view["refund_id"] is not None
    assert shop.gateway.net_charged_for(order_id) == Decimal("0.00")
    assert shop.stock(product) == 10


def test_cancelling_before_the_charge_charges_nothing(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    product, (order_id, headers) = shop.product("24.90", 10), keyed(client)
    release = held_at(runtime, "ProcessPaymentFunction", order_id)
    assert client.post("/orders", order_body(product), headers=headers).status_code == 202

    response = client.post(f"/orders/{order_id}/cancel")
    release.set()

    assert response.status_code == 202
    assert runtime.wait(order_id).path == ["ProcessPayment", *COMPENSATION]
    assert client.get(f"/orders/{order_id}").json()["status"] == "CANCELLED"
    assert shop.gateway.net_charged_for(order_id) == Decimal("0")
    assert shop.stock(product) == 10


def test_cancelling_twice_requests_once(client: Client, shop: Shop, runtime: LocalRuntime) -> None:
    order_id, headers = keyed(client)
    release = held_at(runtime, "ProcessPaymentFunction", order_id)
    client.post("/orders", order_body(shop.product("1.00", 5)), headers=headers)

    first = client.post(f"/orders/{order_id}/cancel", {"reason": "first"})
    second = client.post(f"/orders/{order_id}/cancel", {"reason": "second"})
    release.set()
    runtime.wait(order_id)

    assert (first.status_code, second.status_code) == (202, 202)
    history = [e["type"] for e in client.get(f"/orders/{order_id}/events").json()["events"]]
    assert history.count("CancellationRequested") == 1


def test_cancelling_a_cancelled_order_answers_200_as_it_is(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    response = client.post(
        "/orders", order_body(shop.product("1.00", 5), payment_method="tok_chargeDeclined")
    )
    order_id = response.json()["order_id"]
    runtime.wait(order_id)

    cancelled = client.post(f"/orders/{order_id}/cancel")

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "CANCELLED"
    assert cancelled.json()["cancellation_reason"] == "PaymentDeclined"


def test_cancelling_a_confirmed_order_is_refused_409(client: Client, placed: str) -> None:
    response = client.post(f"/orders/{placed}/cancel")

    assert error_of(response) == (409, "InvalidTransition")
    assert "CONFIRMED" in response.json()["message"]


def test_another_customers_order_cannot_be_cancelled_and_nothing_is_written(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    order_id, headers = keyed(client)
    release = held_at(runtime, "ProcessPaymentFunction", order_id)
    client.post("/orders", order_body(shop.product("1.00", 5)), headers=headers)
    assert runtime.ports is not None
    before = runtime.ports.store.load(order_stream(order_id))

    response = client.someone_else().post(f"/orders/{order_id}/cancel")

    assert error_of(response) == (404, "OrderNotFound")
    assert runtime.ports.store.load(order_stream(order_id)) == before
    release.set()
    assert runtime.wait(order_id).status == "SUCCEEDED"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"reason": "r" * 501}, "reason"), ({"why": "x"}, "why"), ([], "body")],
    ids=["reason-too-long", "unknown-field", "not-an-object"],
)
def test_a_bad_cancel_body_is_refused_422(
    client: Client, placed: str, body: Any, field: str
) -> None:
    response = client.post(f"/orders/{placed}/cancel", body)

    assert error_of(response) == (422, "InvalidRequest")
    assert fields_of(response) == {field}


def test_a_cancel_body_that_is_not_json_is_refused_400(client: Client, placed: str) -> None:
    response = client.post(
        f"/orders/{placed}/cancel", data="{", headers={"Content-Type": "application/json"}
    )

    assert error_of(response) == (400, "MalformedJson")


# -- POST /orders/{order_id}/ship -----------------------------------------------------------


def test_an_operator_ships_a_confirmed_order(client: Client, placed: str) -> None:
    response = client.as_operator().post(f"/orders/{placed}/ship")

    assert response.status_code == 200
    assert response.json()["status"] == "SHIPPED"
    history = client.get(f"/orders/{placed}/events").json()["events"]
    assert history[-1]["type"] == "OrderShipped"


def test_a_customer_may_not_ship_even_their_own_order(client: Client, placed: str) -> None:
    response = client.post(f"/orders/{placed}/ship")

    assert error_of(response) == (403, "Forbidden")
    assert client.get(f"/orders/{placed}").json()["status"] == "CONFIRMED"


def test_shipping_twice_is_refused_409(client: Client, placed: str) -> None:
    operator = client.as_operator()
    assert operator.post(f"/orders/{placed}/ship").status_code == 200

    assert error_of(operator.post(f"/orders/{placed}/ship")) == (409, "InvalidTransition")


def test_shipping_an_order_that_is_not_confirmed_is_refused_409(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    response = client.post(
        "/orders", order_body(shop.product("1.00", 5), payment_method="tok_chargeDeclined")
    )
    runtime.wait(response.json()["order_id"])

    shipped = client.as_operator().post(f"/orders/{response.json()['order_id']}/ship")

    assert error_of(shipped) == (409, "InvalidTransition")
    assert "CANCELLED" in shipped.json()["message"]


def test_shipping_an_unknown_order_is_not_found(client: Client) -> None:
    assert error_of(client.as_operator().post(f"/orders/{new_order_id()}/ship")) == (
        404,
        "OrderNotFound",
    )


# -- products --------------------------------------------------------------------------------


def every_product(client: Client, limit: int) -> list[dict[str, Any]]:
    products: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10_000):
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/products{query}")
        assert page.status_code == 200
        products.extend(page.json()["products"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return products
    raise AssertionError("the catalog never ended")


def test_the_catalog_lists_the_sample_products_with_price_and_stock(client: Client) -> None:
    products = {p["product_id"]: p for p in every_product(client, limit=100)}

    for product_id, name, price, seeded in SAMPLE_PRODUCTS:
        listed = products[product_id]
        assert (listed["name"], listed["unit_price"]) == (name, str(price))
        # other tests (the fuzzing) may have ordered some: exact stock is checked elsewhere
        assert 0 <= listed["available"] <= seeded


def test_paging_through_the_catalog_sees_every_product_once(client: Client, shop: Shop) -> None:
    mine = {shop.product("1.00", 1) for _ in range(3)}

    listed = [p["product_id"] for p in every_product(client, limit=2)]

    assert len(listed) == len(set(listed))
    assert mine <= set(listed)


def test_a_product_shows_its_price_and_what_is_left_in_stock(
    client: Client, shop: Shop, runtime: LocalRuntime
) -> None:
    product = shop.product("3.50", 20)
    runtime.wait(client.post("/orders", order_body(product, 4)).json()["order_id"])

    response = client.get(f"/products/{product}")

    assert response.status_code == 200
    assert response.json() == {
        "product_id": product,
        "name": product,
        "unit_price": "3.50",
        "available": 16,
    }


def test_an_unknown_product_is_not_found(client: Client) -> None:
    assert error_of(client.get("/products/sku-no-such-thing")) == (404, "ProductNotFound")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=a%20b", "cursor"),
    ],
)
def test_a_bad_catalog_query_is_refused_422(client: Client, query: str, field: str) -> None:
    response = client.get(f"/products?{query}")

    assert error_of(response) == (422, "InvalidRequest")
    assert fields_of(response) == {field}


def test_a_product_id_outside_the_safe_alphabet_is_refused_422(client: Client) -> None:
    assert error_of(client.get("/products/sku%20x")) == (422, "InvalidRequest")


# -- the contract itself, and what API Gateway answers --------------------------------------


def test_the_contract_is_served_without_identity_and_is_the_committed_file(
    client: Client,
) -> None:
    response = client.anonymous().get("/openapi.json")

    assert response.status_code == 200
    assert response.json() == json.loads((ROOT / "openapi.json").read_text())


def test_a_route_the_api_does_not_have_is_refused_as_api_gateway_does(client: Client) -> None:
    assert error_of(client.get("/orders/ord-1/refund")) == (403, "MISSING_AUTHENTICATION_TOKEN")
    assert error_of(client.call("DELETE", "/orders")) == (403, "MISSING_AUTHENTICATION_TOKEN")


def test_a_local_page_is_served_before_the_api(api_server: LocalApiServer, client: Client) -> None:
    from local_runtime.emulator.api_gateway import LocalResponse

    prefix = f"/local/test-{uuid.uuid4().hex[:8]}"
    api_server.register(prefix, lambda request: LocalResponse.json(200, {"path": request.path}))

    response = client.anonymous().get(f"{prefix}/anything")

    assert response.status_code == 200
    assert response.json() == {"path": f"{prefix}/anything"}
