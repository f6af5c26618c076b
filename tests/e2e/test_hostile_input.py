"""Hostile input at every boundary: oversized, deeply nested, binary, huge numbers and odd
unicode into each saga step, the stream consumers and the API. Each gets a named error
(InvalidRequest, Lambda's own InvalidRequestContentException or RequestTooLargeException)
or a 4xx, and nothing is written: no event in the store, no saga started, nobody notified,
nothing queued or published."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
import pytest
from botocore.exceptions import ClientError

from order_saga.service_layer.ids import order_id_for
from tests.e2e.conftest import ADDRESS

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime
    from tests.e2e.conftest import Shop
    from tests.e2e.effects import Effects

STEPS = [
    "ProcessPaymentFunction",
    "ReserveInventoryFunction",
    "ConfirmOrderFunction",
    "RefundPaymentFunction",
    "ReleaseInventoryFunction",
    "CancelOrderFunction",
    "RecordCompensationFailureFunction",
]
CONSUMERS = ["NotificationsFunction", "PublisherFunction"]


def nested(depth: int, leaf: Any = "o") -> Any:
    for _ in range(depth):
        leaf = {"order_id": leaf}
    return leaf


def invoke(function: str, payload: bytes) -> tuple[str | None, dict[str, Any]]:
    response = boto3.client("lambda").invoke(FunctionName=function, Payload=payload)
    return response.get("FunctionError"), json.loads(response["Payload"].read())


STEP_PAYLOADS = {
    "a 300 KB cause": {"order_id": "ord-1", "reason": "X", "cause": "c" * 300_000},
    "a 300 KB unknown field": {"order_id": "ord-1", "junk": "j" * 300_000},
    "a 10k-item list as the id": {"order_id": ["ord-1"] * 10_000},
    "JSON nested 500 deep": nested(500),
    "a 400-digit number as the id": {"order_id": 10**400},
    "infinity as the id": {"order_id": float("inf")},
    "an id with a right-to-left override": {"order_id": "ord-1\u202etxt"},
    "an id with a NUL": {"order_id": "ord\x001"},
    "an id with a lone surrogate": {"order_id": "ord-\ud800"},
    "an emoji id": {"order_id": "ord-\U0001f600"},
    "a string, not an object": "ord-1",
    "null": None,
}


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize("payload", list(STEP_PAYLOADS.values()), ids=list(STEP_PAYLOADS))
def test_every_step_refuses_hostile_input_by_name_and_writes_nothing(payload: Any) -> None:
    for function in STEPS:
        error, body = invoke(function, json.dumps(payload).encode())

        assert (error, body["errorType"]) == ("Unhandled", "InvalidRequest"), function
        assert body["errorMessage"].startswith("invalid input")
        assert len(body["errorMessage"]) < 2_000  # the input is named, not echoed back


def post_raw(runtime: LocalRuntime, function: str, body: bytes) -> tuple[int, str | None]:
    assert runtime.server is not None
    request = urllib.request.Request(
        f"{runtime.server.endpoint}/2015-03-31/functions/{function}/invocations",
        data=body,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("X-Amz-Function-Error")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("x-amzn-ErrorType")


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (b"\xff\xfe\x00\x01binary", (400, "InvalidRequestContentException")),
        (b'{"order_id": ', (400, "InvalidRequestContentException")),
        (b"[" * 100_000 + b"]" * 100_000, (400, "InvalidRequestContentException")),
        (b'"' + b"x" * (7 * 1024 * 1024) + b'"', (413, "RequestTooLargeException")),
    ],
    ids=["binary", "truncated", "nested-100k-deep", "7-MB"],
)
def test_the_lambda_service_refuses_what_no_handler_could_read_as_lambda_does(
    runtime: LocalRuntime, body: bytes, answer: tuple[int, str]
) -> None:
    for function in ("ReserveInventoryFunction", "NotificationsFunction"):
        assert post_raw(runtime, function, body) == answer, function


def test_boto3_names_the_lambda_service_refusal(runtime: LocalRuntime) -> None:
    with pytest.raises(ClientError) as raised:
        boto3.client("lambda").invoke(FunctionName="ConfirmOrderFunction", Payload=b"\xff")

    assert raised.value.response["Error"]["Code"] == "InvalidRequestContentException"


NOT_A_BATCH = {
    "a list": [],
    "an empty object": {},
    "Records as text": {"Records": "x"},
    "Records of numbers": {"Records": [1, "a", None]},
    "a record whose dynamodb is text": {"Records": [{"eventName": "INSERT", "dynamodb": "x"}]},
    "a string": "Records",
    "nested 500 deep": nested(500),
    "10k records of nothing": {"Records": [{}] * 10_000},
}


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize("event", list(NOT_A_BATCH.values()), ids=list(NOT_A_BATCH))
def test_a_stream_consumer_refuses_an_event_that_is_not_a_stream_batch_and_does_nothing(
    event: Any,
) -> None:
    for function in CONSUMERS:
        error, body = invoke(function, json.dumps(event).encode())

        assert (error, body["errorType"]) == ("Unhandled", "InvalidRequest"), function
        assert len(body["errorMessage"]) < 2_000


def poison(stream_id: str, data: dict[str, Any]) -> dict[str, Any]:
    image = {
        "stream_id": {"S": stream_id},
        "version": {"N": "1"},
        "event_type": {"S": "OrderConfirmed"},
        "schema_version": {"N": "1"},
        "occurred_at": {"S": "2026-11-28T12:00:00.000+00:00"},
        "correlation_id": {"S": "x"},
        "data": {"M": data},
    }
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"stream_id": image["stream_id"], "version": image["version"]},
            "NewImage": image,
            "SequenceNumber": str(uuid.uuid4().int)[:21],
            "StreamViewType": "NEW_IMAGE",
        },
    }


@pytest.mark.parametrize("function", CONSUMERS)
@pytest.mark.parametrize(
    "record",
    [
        poison("order#ord-\u202e\U0001f600", {"order_id": {"S": "ord-\u202e\U0001f600"}}),
        poison("order#ord-big", {"order_id": {"S": "ord-big"}, "junk": {"S": "j" * 300_000}}),
        poison("order#ord-num", {"order_id": {"N": "1" + "0" * 400}}),
    ],
    ids=["unicode-id", "300-KB-image", "400-digit-number"],
)
def test_a_hostile_record_in_a_real_batch_is_a_named_poison_record_and_notifies_nobody(
    runtime: LocalRuntime, effects: Effects, function: str, record: dict[str, Any]
) -> None:
    before = effects.snapshot()

    result, error = runtime.functions.invoke(function, {"Records": [record]})

    after = effects.snapshot()
    assert (error, result) == (None, {"batchItemFailures": []})
    assert after["streams written"] == []
    assert after["notifications"] == before["notifications"]
    queue = (
        "NotificationsFailureQueue"
        if function == "NotificationsFunction"
        else "PublisherFailureQueue"
    )
    assert int(after["queued"][queue]) == int(before["queued"][queue]) + 1
    sent = boto3.client("sqs").receive_message(
        QueueUrl=runtime.queue_url(queue), MaxNumberOfMessages=10, VisibilityTimeout=0
    )["Messages"]
    keys = [json.loads(m["Body"]).get("record", {}).get("dynamodb", {}).get("Keys") for m in sent]
    assert record["dynamodb"]["Keys"] in keys
    assert all(
        json.loads(m["Body"])["error"]["type"] == "PoisonRecord"
        for m in sent
        if json.loads(m["Body"]).get("record", {}).get("dynamodb", {}).get("Keys")
        == record["dynamodb"]["Keys"]
    )


def order(**changes: Any) -> dict[str, Any]:
    return {
        "items": [{"product_id": "sku-espresso-beans", "quantity": 1}],
        "shipping_address": ADDRESS,
        "payment_method": "tok_visa",
        **changes,
    }


CUSTOMER = {"X-Customer-Id": "cust-hostile", "Content-Type": "application/json"}
API_REQUESTS = {
    "JSON nested 20k deep": (
        "POST",
        "/orders",
        "[" * 20_000 + "]" * 20_000,
        CUSTOMER,
        400,
        "MalformedJson",
    ),
    "an object nested 5k deep": (
        "POST",
        "/orders",
        json.dumps(order(items=nested(900))),
        CUSTOMER,
        422,
        "InvalidRequest",
    ),
    "a 5000-digit quantity": (
        "POST",
        "/orders",
        json.dumps(order()).replace('"quantity": 1', '"quantity": 1' + "0" * 5000),
        CUSTOMER,
        400,
        "MalformedJson",
    ),
    "a quantity of 1e400": (
        "POST",
        "/orders",
        json.dumps(order()).replace('"quantity": 1', '"quantity": 1e400'),
        CUSTOMER,
        422,
        "InvalidRequest",
    ),
    "a price of 1e400": (
        "POST",
        "/orders",
        json.dumps(
            order(
                items=[{"product_id": "sku-espresso-beans", "quantity": 1, "unit_price": "1e400"}]
            )
        ),
        CUSTOMER,
        422,
        "InvalidRequest",
    ),
    "a unicode order id": (
        "POST",
        "/orders",
        json.dumps(order(order_id="ord-\u00f1")),
        CUSTOMER,
        422,
        "InvalidRequest",
    ),
    "an order id with a NUL": (
        "POST",
        "/orders",
        json.dumps(order(order_id="ord\x00")),
        CUSTOMER,
        422,
        "InvalidRequest",
    ),
    "a lone surrogate in the token": (
        "POST",
        "/orders",
        json.dumps(order(payment_method="tok_\ud800")),
        CUSTOMER,
        422,
        "InvalidRequest",
    ),
    "10k items": (
        "POST",
        "/orders",
        json.dumps(order(items=[{"product_id": f"sku-{n}", "quantity": 1} for n in range(5_000)])),
        CUSTOMER,
        413,
        "PayloadTooLarge",
    ),
    "a unicode path id": ("GET", "/orders/ord-\u00f1", None, CUSTOMER, 422, "InvalidRequest"),
    # no route takes a segment of control characters and emoji: refused before any route
    "an emoji path id": ("GET", "/orders/ord-\u202e\U0001f600", None, CUSTOMER, 404, "NotFound"),
    "a unicode customer": (
        "GET",
        "/products",
        None,
        {"X-Customer-Id": "cust-\u00f1"},
        401,
        "Unauthenticated",
    ),
    "a unicode Idempotency-Key": (
        "POST",
        "/orders",
        json.dumps(order()),
        {**CUSTOMER, "Idempotency-Key": "k-\u00f1"},
        422,
        "InvalidRequest",
    ),
    "a cancel reason of 300 KB": (
        "POST",
        "/orders/ord-none/cancel",
        json.dumps({"reason": "r" * 300_000}),
        CUSTOMER,
        413,
        "PayloadTooLarge",
    ),
}


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "error"),
    list(API_REQUESTS.values()),
    ids=list(API_REQUESTS),
)
def test_the_api_refuses_hostile_requests_with_a_named_4xx_and_writes_nothing(
    runtime: LocalRuntime,
    method: str,
    path: str,
    body: str | None,
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    answered, answer, _ = runtime.api(method, path, body, headers)

    assert (answered, answer["error"]) == (status, error), answer
    assert len(json.dumps(answer)) < 5_000


def order_text(**changes: Any) -> str:
    return json.dumps(order(**changes))


DUPLICATE_KEYS = {
    "the quantity twice": (
        order_text().replace('"quantity": 1', '"quantity": 1, "quantity": 3'),
        "quantity",
    ),
    "the payment method twice": (
        order_text(payment_method="tok_chargeDeclined").replace(
            '"payment_method": "tok_chargeDeclined"',
            '"payment_method": "tok_chargeDeclined", "payment_method": "tok_visa"',
        ),
        "payment_method",
    ),
    "the city twice, in the address": (
        order_text().replace('"city": ', '"city": "Elsewhere", "city": '),
        "city",
    ),
    "the items twice": (order_text().replace('{"items": ', '{"items": [], "items": '), "items"),
}


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(("body", "key"), list(DUPLICATE_KEYS.values()), ids=list(DUPLICATE_KEYS))
def test_a_body_with_a_key_twice_is_malformed_json_naming_the_key(
    runtime: LocalRuntime, body: str, key: str
) -> None:
    status, answer, _ = runtime.api("POST", "/orders", body, CUSTOMER)

    assert (status, answer["error"]) == (400, "MalformedJson"), answer
    assert f"'{key}' appears twice" in answer["message"]


@pytest.mark.usefixtures("nothing_written")
def test_a_cancel_body_with_a_key_twice_is_malformed_json(runtime: LocalRuntime) -> None:
    status, answer, _ = runtime.api(
        "POST", "/orders/ord-none/cancel", '{"reason": "a", "reason": "b"}', CUSTOMER
    )

    assert (status, answer["error"]) == (400, "MalformedJson")


CONTROLS = {
    "a NUL in the street": ("street", "1 Main\x00St"),
    "CR/LF in the city": ("city", "Seattle\r\nX-Injected: 1"),
    "a trailing newline in the city": ("city", "Seattle\n"),
    "a right-to-left override in the city": ("city", "Sea\u202eelttle"),
    "a left-to-right isolate in the state": ("state", "W\u2066A"),
    "a C1 control in the street": ("street", "1 Main\x85St"),
    "a tab in the state": ("state", "W\tA"),
    "DEL in the street": ("street", "1 Main\x7fSt"),
}


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(("field", "value"), list(CONTROLS.values()), ids=list(CONTROLS))
def test_free_text_with_a_control_character_is_refused_naming_the_field(
    runtime: LocalRuntime, field: str, value: str
) -> None:
    body = order(shipping_address={**ADDRESS, field: value})

    status, answer, _ = runtime.api("POST", "/orders", body, CUSTOMER)

    assert (status, answer["error"]) == (422, "InvalidRequest"), answer
    assert [d["field"] for d in answer["details"]] == [f"shipping_address.{field}"]
    assert "control" in answer["details"][0]["reason"]


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize("reason", ["changed\nmy mind", "\u202edniM", "x\x00"])
def test_a_cancel_reason_with_a_control_character_is_refused(
    runtime: LocalRuntime, reason: str
) -> None:
    status, answer, _ = runtime.api("POST", "/orders/ord-none/cancel", {"reason": reason}, CUSTOMER)

    assert (status, answer["error"]) == (422, "InvalidRequest"), answer
    assert [d["field"] for d in answer["details"]] == ["reason"]


@pytest.mark.parametrize(
    "limit", ["5.0", "+5", "1_0", " 5", "5 ", "0x5", "-1", "0", "101", "", "5e0", "\u0665"]
)
def test_a_query_parameter_is_a_decimal_digit_integer_in_range_or_422(
    runtime: LocalRuntime, limit: str
) -> None:
    status, answer, _ = runtime.api("GET", f"/products?limit={quote(limit)}", None, CUSTOMER)

    assert (status, answer["error"]) == (422, "InvalidRequest"), answer
    assert [d["field"] for d in answer["details"]] == ["limit"]


def test_a_query_parameter_in_decimal_digits_is_taken(runtime: LocalRuntime) -> None:
    status, answer, _ = runtime.api("GET", "/products?limit=2", None, CUSTOMER)

    assert status == 200 and len(answer["products"]) <= 2


def test_an_operator_s_cancellation_names_the_operator_to_operators_and_the_shop_to_the_customer(
    shop: Shop,
) -> None:
    runtime = shop.runtime
    product = shop.product("5.00", 5)
    customer = {"X-Customer-Id": f"cust-{uuid.uuid4().hex[:8]}"}
    operator_id = f"ops-{uuid.uuid4().hex[:8]}"
    operator = {"X-Customer-Id": operator_id, "X-Role": "operator"}
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex[:12]}"}
    order_id = order_id_for(customer["X-Customer-Id"], key["Idempotency-Key"])
    # the saga waits at its first step, so the cancellation always comes before it moves on
    release = runtime.functions.hold(
        "ProcessPaymentFunction",
        when=lambda p: isinstance(p, dict) and p.get("order_id") == order_id,
    )
    body = order(items=[{"product_id": product, "quantity": 1}])
    status, placed, _ = runtime.api("POST", "/orders", body, customer | key)
    assert status == 202, placed

    try:
        cancelled, _, _ = runtime.api(
            "POST", f"/orders/{order_id}/cancel", {"reason": "fraud check"}, operator
        )
    finally:
        release.set()
    assert cancelled == 202
    assert runtime.wait(order_id).status == "FAILED"

    # the event records who, and operators see it
    _, staff_view, _ = runtime.api("GET", f"/orders/{order_id}", None, operator)
    _, staff_events, _ = runtime.api("GET", f"/orders/{order_id}/events", None, operator)
    requested = next(e for e in staff_events["events"] if e["type"] == "CancellationRequested")
    assert staff_view["cancellation_requested"]["requested_by"] == f"operator {operator_id}"
    assert (requested["data"]["requested_by"], requested["data"]["requested_by_role"]) == (
        operator_id,
        "operator",
    )
    # the customer sees that the shop cancelled, never who, in the order or its history
    _, own_view, _ = runtime.api("GET", f"/orders/{order_id}", None, customer)
    _, own_events, _ = runtime.api("GET", f"/orders/{order_id}/events", None, customer)
    assert own_view["cancellation_requested"]["requested_by"] == "shop"
    assert own_view["cancellation_detail"] == "requested by the shop: fraud check"
    assert operator_id not in json.dumps(own_view) + json.dumps(own_events)
