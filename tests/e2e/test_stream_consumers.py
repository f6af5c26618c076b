"""The event store's stream consumers end to end: the saga through the real ASL, then the
records of moto's DynamoDB stream driven into NotificationsFunction and PublisherFunction
as their event source mappings in template.yaml would (local_runtime/emulator/stream_driver.py),
with notifications recorded and events put on moto's EventBridge bus."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

import boto3
from jsonschema import Draft202012Validator

from local_runtime.console.inspection import events_view, failures_view, notifications_view
from local_runtime.emulator.faults import Fault
from order_saga.domain.commands import ShipOrder
from order_saga.service_layer.orders import ship_order
from order_saga.service_layer.repository import order_stream
from schemas.build import PATH

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime
    from tests.e2e.conftest import Shop
    from tests.e2e.store_invariants import StoreInvariants

SCHEMA = Draft202012Validator(json.loads(PATH.read_text(encoding="utf-8")))


class InjectedFault(Exception):
    """Stands for any failure of the Lambda service or the function."""


def notified(runtime: LocalRuntime, order_id: str) -> list[tuple[str, int]]:
    return [(n["event_type"], n["version"]) for n in notifications_view(runtime, order_id)]


def versions(shop: Shop, order_id: str) -> dict[str, int]:
    """Event type -> version, for the order's stream."""
    return {r.event_type: r.version for r in shop.ports.store.load(order_stream(order_id))}


def order_stream_records(runtime: LocalRuntime, order_id: str) -> list[dict[str, Any]]:
    assert runtime.streams is not None
    return [
        record
        for record in runtime.streams.stream_records("EventStoreTable")
        if record["dynamodb"]["Keys"]["stream_id"]["S"] == order_stream(order_id)
    ]


def test_each_path_tells_its_customer_once_per_event_that_concerns_them_and_never_otherwise(
    shop: Shop,
) -> None:
    product = shop.product("20.00", 3)
    confirmed, _ = shop.run([(product, 1)])
    declined, _ = shop.run([(product, 1)], payment_method="tok_chargeDeclined")
    out_of_stock, _ = shop.run([(product, 5)])
    ship_order(ShipOrder(order_id=confirmed.order_id), shop.ports)

    shop.runtime.drain_streams()

    expected = {
        confirmed.order_id: ["OrderConfirmed", "OrderShipped"],
        declined.order_id: ["OrderCancelled"],
        out_of_stock.order_id: ["PaymentRefunded", "OrderCancelled"],
    }
    for order_id, types in expected.items():
        version = versions(shop, order_id)
        assert notified(shop.runtime, order_id) == [(t, version[t]) for t in types]
    sent = notifications_view(shop.runtime, out_of_stock.order_id)
    assert {n["customer_id"] for n in sent} == {shop.customer}
    assert sent[1]["details"]["reason"] == "OutOfStock"
    assert f"{product}: 5 ordered, 2 available." in sent[1]["message"]


def test_every_event_of_an_order_is_published_once_in_the_documented_schema(shop: Shop) -> None:
    beans, kettle = shop.product("9.00", 5), shop.product("30.00", 5)
    execution, _ = shop.run([(beans, 2), (kettle, 1)])

    events = events_view(shop.runtime, execution.order_id)

    for event in events:
        assert list(SCHEMA.iter_errors(event)) == [], event
    keys = Counter((e["detail"]["stream_id"], e["detail"]["version"]) for e in events)
    assert set(keys.values()) == {1}
    stored = shop.ports.store.load(order_stream(execution.order_id))
    own = [e for e in events if e["detail"]["stream_id"] == order_stream(execution.order_id)]
    assert sorted((e["detail"]["version"], e["detail-type"]) for e in own) == [
        (r.version, r.event_type) for r in stored
    ]
    # the stock it took is published with the order: its InventoryReserved's lines
    (reserved,) = [e for e in events if e["detail-type"] == "InventoryReserved"]
    lines = sorted(
        (line["product_id"], line["quantity"]) for line in reserved["detail"]["data"]["lines"]
    )
    assert lines == sorted([(beans, 2), (kettle, 1)])


def test_a_batch_delivered_again_neither_notifies_nor_publishes_again(shop: Shop) -> None:
    execution, _ = shop.run([(shop.product("4.00", 2), 1)])
    order_id = execution.order_id
    before = notified(shop.runtime, order_id), len(events_view(shop.runtime, order_id))
    event = {"Records": order_stream_records(shop.runtime, order_id)}

    for function in ("NotificationsFunction", "PublisherFunction"):
        response, error = shop.runtime.functions.invoke(function, json.loads(json.dumps(event)))
        assert (error, response) == (None, {"batchItemFailures": []})

    assert (notified(shop.runtime, order_id), len(events_view(shop.runtime, order_id))) == before
    assert before[0] == [("OrderConfirmed", versions(shop, order_id)["OrderConfirmed"])]


def test_a_poison_record_goes_whole_to_both_failure_queues_and_the_records_around_it_succeed(
    shop: Shop, store_invariants: StoreInvariants
) -> None:
    product = shop.product("5.00", 10)
    shop.runtime.drain_streams()
    first, _ = shop.run([(product, 1)])
    poison_stream = f"order#poison-{uuid.uuid4().hex[:10]}"
    poison = {
        "stream_id": {"S": poison_stream},
        "version": {"N": "1"},
        "event_type": {"S": "OrderTeleported"},
        "schema_version": {"N": "1"},
        "occurred_at": {"S": "2026-11-28T12:00:00.000+00:00"},
        "correlation_id": {"S": "poison"},
        "data": {"M": {}},
    }
    boto3.client("dynamodb").put_item(TableName="EventStoreTable", Item=poison)
    store_invariants.exempt_stream(poison_stream, "a record no saga writes, on purpose")
    second, _ = shop.run([(product, 1)])

    queues = failures_view(shop.runtime)

    for queue in ("NotificationsFailureQueue", "PublisherFailureQueue"):
        (message,) = [
            m
            for m in queues[queue]
            if m.get("record", {}).get("dynamodb", {}).get("Keys", {}).get("stream_id")
            == {"S": poison_stream}
        ]
        assert message["record"]["dynamodb"]["NewImage"] == poison
        assert message["error"]["type"] == "PoisonRecord"
        assert "unknown event type 'OrderTeleported'" in message["error"]["message"]
    for execution in (first, second):
        assert [t for t, _ in notified(shop.runtime, execution.order_id)] == ["OrderConfirmed"]
        published = events_view(shop.runtime, execution.order_id)
        assert "OrderConfirmed" in {e["detail-type"] for e in published}


def test_a_consumer_failing_after_its_work_is_retried_without_telling_anyone_twice(
    shop: Shop,
) -> None:
    runtime = shop.runtime
    product = shop.product("8.00", 5)
    runtime.drain_streams()
    declined, _ = shop.run([(product, 1)], payment_method="tok_chargeDeclined")
    out_of_stock, _ = shop.run([(product, 6)])
    calls = runtime.functions.invocations["NotificationsFunction"]
    runtime.functions.inject(
        "NotificationsFunction", Fault(InjectedFault("timed out"), after_handler=True)
    )
    runtime.functions.inject(
        "PublisherFunction", Fault(InjectedFault("timed out"), after_handler=True)
    )

    runtime.drain_streams()

    assert runtime.functions.invocations["NotificationsFunction"] > calls + 1  # retried
    assert [t for t, _ in notified(runtime, declined.order_id)] == ["OrderCancelled"]
    assert [t for t, _ in notified(runtime, out_of_stock.order_id)] == [
        "PaymentRefunded",
        "OrderCancelled",
    ]
    keys = Counter(
        (e["detail"]["stream_id"], e["detail"]["version"])
        for e in events_view(runtime, out_of_stock.order_id)
    )
    assert keys and set(keys.values()) == {1}


def test_records_that_keep_failing_are_discarded_with_their_coordinates_on_the_failure_queue(
    shop: Shop,
) -> None:
    runtime = shop.runtime
    runtime.drain_streams()
    execution, _ = shop.run([(shop.product("6.00", 5), 1)])
    runtime.functions.inject("PublisherFunction", Fault(InjectedFault("down"), times=1000))
    try:
        runtime.drain_streams()
    finally:
        runtime.functions.faults.pop("PublisherFunction", None)

    assert events_view(runtime, execution.order_id) == []
    assert [t for t, _ in notified(runtime, execution.order_id)] == ["OrderConfirmed"]
    ranges = [
        (int(info["startSequenceNumber"]), int(info["endSequenceNumber"]))
        for m in failures_view(runtime)["PublisherFailureQueue"]
        if (info := m.get("DDBStreamBatchInfo"))
    ]
    for record in order_stream_records(runtime, execution.order_id):
        sequence = int(record["dynamodb"]["SequenceNumber"])
        assert any(start <= sequence <= end for start, end in ranges), sequence
    notice = next(
        m for m in failures_view(runtime)["PublisherFailureQueue"] if "requestContext" in m
    )
    assert notice["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert notice["responseContext"]["functionError"] == "Unhandled"


def test_polling_in_the_background_delivers_what_the_saga_appends(shop: Shop) -> None:
    runtime = shop.runtime
    assert runtime.streams is not None
    execution, _ = shop.run([(shop.product("3.00", 5), 1)])
    assert runtime.ports is not None and runtime.ports.notifier is not None
    runtime.streams.start_polling(interval=0.05)
    try:
        deadline = time.monotonic() + 30
        while not runtime.ports.notifier.sent(execution.order_id):  # type: ignore[attr-defined]
            assert time.monotonic() < deadline, "the poller delivered nothing in 30 s"
            time.sleep(0.02)
    finally:
        runtime.streams.stop()

    assert [t for t, _ in notified(runtime, execution.order_id)] == ["OrderConfirmed"]
