"""The two consumers of the event store's stream, as Lambda calls them, on in-memory
ports: each notification once, every event published once, a batch delivered twice acts
once, a poison record goes whole to the failure queue without holding the others back,
and a failed event holds back the later events of its order, and only of its order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from order_saga import bootstrap
from order_saga.adapters.event_publisher import SOURCE, RecordingEventPublisher
from order_saga.adapters.failure_queue import RecordingFailureQueue
from order_saga.adapters.in_memory_idempotency import in_memory_stores
from order_saga.adapters.notifier import Notification, RecordingNotifier
from order_saga.errors import NotificationFailed
from order_saga.service_layer.ports import Ports
from tests.unit.sagas import (
    batch,
    every_path,
    load_handler,
    order_records,
    poison_record,
    stream_record,
)

notifications_handler = load_handler("notifications")
publisher_handler = load_handler("publisher")


class FlakyNotifier(RecordingNotifier):
    """Fails the first attempt at each (order id, event type) it is told to."""

    def __init__(self, fail_once: set[tuple[str, str]]) -> None:
        super().__init__()
        self.fail_once = fail_once

    def send(self, notification: Notification) -> str:
        key = (notification.order_id, notification.event_type)
        if key in self.fail_once:
            self.fail_once.discard(key)
            raise NotificationFailed("throttled")
        return super().send(notification)


@pytest.fixture
def wired(ports: Ports, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ports]:
    # The handlers' Powertools metrics and tracer, read at call time: nothing to emit here.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    wired = replace(
        ports,
        notifier=RecordingNotifier(),
        publisher=RecordingEventPublisher(),
        failure_queues={
            "notifications": RecordingFailureQueue(),
            "publisher": RecordingFailureQueue(),
        },
        idempotency=in_memory_stores(),
    )
    bootstrap.use(wired)
    yield wired
    bootstrap.use(None)


def sent(ports: Ports, order_id: str) -> list[tuple[str, int]]:
    assert isinstance(ports.notifier, RecordingNotifier)
    return [(n.event_type, n.version) for n in ports.notifier.sent(order_id)]


def published(ports: Ports) -> list[dict[str, Any]]:
    assert isinstance(ports.publisher, RecordingEventPublisher)
    return ports.publisher.entries


def failed(ports: Ports, consumer: str) -> list[dict[str, Any]]:
    queue = ports.failure_queues[consumer]
    assert isinstance(queue, RecordingFailureQueue)
    return queue.messages


def failures(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


@pytest.fixture
def three_orders(wired: Ports) -> dict[str, str]:
    """Path -> order id: confirmed then shipped, payment declined, out of stock."""
    return every_path(wired)


def test_each_notification_goes_out_once_for_its_event_and_none_for_the_others(
    wired: Ports, three_orders: dict[str, str]
) -> None:
    records = [r for order_id in three_orders.values() for r in order_records(wired, order_id)]

    response = notifications_handler(batch(records))

    assert failures(response) == []
    version = {(r.stream_id.removeprefix("order#"), r.event_type): r.version for r in records}
    expected = {
        "shipped": ["OrderConfirmed", "OrderShipped"],
        "declined": ["OrderCancelled"],
        "out_of_stock": ["PaymentRefunded", "OrderCancelled"],
    }
    for path, types in expected.items():
        order_id = three_orders[path]
        assert sent(wired, order_id) == [(t, version[order_id, t]) for t in types], path


def test_every_event_is_published_once_as_source_type_and_stored_event(
    wired: Ports, three_orders: dict[str, str]
) -> None:
    records = order_records(wired, three_orders["out_of_stock"])

    response = publisher_handler(batch(records))

    assert failures(response) == []
    entries = published(wired)
    assert [e["DetailType"] for e in entries] == [r.event_type for r in records]
    assert {e["Source"] for e in entries} == {SOURCE}
    detail = json.loads(entries[0]["Detail"])
    assert detail == {
        "stream_id": records[0].stream_id,
        "version": 1,
        "schema_version": 1,
        "occurred_at": records[0].occurred_at.isoformat(timespec="milliseconds"),
        "correlation_id": three_orders["out_of_stock"],
        "data": records[0].data,
    }


def test_a_batch_delivered_twice_notifies_and_publishes_once(
    wired: Ports, three_orders: dict[str, str]
) -> None:
    order_id = three_orders["shipped"]
    event = batch(order_records(wired, order_id))
    notifications_handler(event)
    publisher_handler(event)
    notified, entries = sent(wired, order_id), list(published(wired))

    again = notifications_handler(event), publisher_handler(event)

    assert [failures(response) for response in again] == [[], []]
    assert sent(wired, order_id) == notified
    assert published(wired) == entries
    assert len(notified) == 2
    assert len(entries) == len(order_records(wired, order_id))


def _unknown_type(image: dict[str, Any]) -> None:
    image["event_type"] = {"S": "OrderTeleported"}


def _refused_data(image: dict[str, Any]) -> None:
    image["data"]["M"]["order_id"] = {"S": "not a safe id!"}


def _missing_attribute(image: dict[str, Any]) -> None:
    del image["occurred_at"]


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        (_unknown_type, "unknown event type 'OrderTeleported'"),
        (_refused_data, "order_id"),
        (_missing_attribute, "missing attribute 'occurred_at'"),
    ],
)
@pytest.mark.parametrize(
    ("handler", "consumer"),
    [(notifications_handler, "notifications"), (publisher_handler, "publisher")],
)
def test_a_poison_record_goes_whole_to_the_failure_queue_and_the_others_succeed(
    wired: Ports,
    three_orders: dict[str, str],
    spoil: Callable[[dict[str, Any]], None],
    problem: str,
    handler: Callable[[dict[str, Any]], dict[str, Any]],
    consumer: str,
) -> None:
    order_id = three_orders["shipped"]
    records = [stream_record(r) for r in order_records(wired, order_id)]
    poison = stream_record(order_records(wired, three_orders["declined"])[-1])
    spoil(poison["dynamodb"]["NewImage"])
    records.insert(2, poison)

    response = handler({"Records": records})

    assert failures(response) == []
    (message,) = failed(wired, consumer)
    assert message["consumer"] == consumer
    assert message["record"] == poison
    assert message["error"]["type"] == "PoisonRecord"
    assert problem in message["error"]["message"]
    if consumer == "notifications":
        assert [t for t, _ in sent(wired, order_id)] == ["OrderConfirmed", "OrderShipped"]
    else:
        assert len(published(wired)) == len(records) - 1


def test_a_record_without_an_image_is_poison_too(wired: Ports) -> None:
    record = poison_record("order#o-bare", 1, {})

    response = publisher_handler({"Records": [record]})

    assert failures(response) == []
    assert failed(wired, "publisher")[0]["error"]["message"].startswith(
        "the record has no NewImage"
    )


def test_a_poison_record_delivered_again_reaches_the_failure_queue_once(
    wired: Ports, three_orders: dict[str, str]
) -> None:
    poison = stream_record(order_records(wired, three_orders["declined"])[-1])
    _unknown_type(poison["dynamodb"]["NewImage"])

    notifications_handler({"Records": [poison]})
    notifications_handler({"Records": [poison]})

    assert len(failed(wired, "notifications")) == 1


def test_a_failed_event_holds_back_the_later_events_of_its_order_and_only_of_its_order(
    wired: Ports, three_orders: dict[str, str]
) -> None:
    late, other = three_orders["out_of_stock"], three_orders["shipped"]
    notifier = FlakyNotifier(fail_once={(late, "PaymentRefunded")})
    bootstrap.use(replace(wired, notifier=notifier))
    late_records = [stream_record(r) for r in order_records(wired, late)]
    other_records = [stream_record(r) for r in order_records(wired, other)]
    interleaved = [r for pair in zip(late_records, other_records, strict=False) for r in pair]
    interleaved += late_records[len(other_records) :] + other_records[len(late_records) :]
    refunded = next(
        i
        for i, r in enumerate(interleaved)
        if r["dynamodb"]["NewImage"]["event_type"]["S"] == "PaymentRefunded"
    )

    first = notifications_handler({"Records": interleaved})

    held_back = [
        r["dynamodb"]["SequenceNumber"]
        for r in interleaved[refunded:]
        if r["dynamodb"]["Keys"]["stream_id"]["S"] == f"order#{late}"
    ]
    assert failures(first) == held_back
    assert [n.order_id for n in notifier.sent()] == [other, other]

    # Lambda delivers again from the lowest failed sequence number, as it does.
    notifications_handler({"Records": interleaved[refunded:]})

    assert [n.event_type for n in notifier.sent(late)] == ["PaymentRefunded", "OrderCancelled"]
    assert len(notifier.sent(other)) == 2


def test_a_batch_whose_every_record_fails_fails_the_invocation_so_lambda_bisects_it(
    wired: Ports, three_orders: dict[str, str]
) -> None:
    order_id = three_orders["declined"]
    bootstrap.use(replace(wired, notifier=FlakyNotifier(fail_once={(order_id, "OrderCancelled")})))
    cancelled = order_records(wired, order_id)[-1]

    with pytest.raises(BatchProcessingError):
        notifications_handler(batch([cancelled]))

    assert notifications_handler(batch([cancelled])) == {"batchItemFailures": []}


def test_a_record_that_is_no_append_is_skipped(wired: Ports, three_orders: dict[str, str]) -> None:
    confirmed = order_records(wired, three_orders["shipped"])[-2]

    response = notifications_handler({"Records": [stream_record(confirmed, "MODIFY")]})

    assert failures(response) == []
    assert sent(wired, three_orders["shipped"]) == []
    assert failed(wired, "notifications") == []
