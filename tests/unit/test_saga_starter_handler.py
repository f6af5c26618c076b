"""The saga starter (the relay on the event store's stream), as Lambda calls it, on
in-memory ports: an OrderCreated starts the execution named after the order, a record
delivered again starts nothing new, a throttled start is reported for Lambda to retry
(and the other orders of the batch go ahead), and a record that is no event goes to the
relay's own failure queue."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from order_saga import bootstrap
from order_saga.adapters.failure_queue import RecordingFailureQueue
from order_saga.adapters.in_memory_idempotency import in_memory_stores
from order_saga.adapters.saga_launcher import RecordingSagaLauncher
from order_saga.errors import SagaStartThrottled
from order_saga.service_layer.ports import Ports
from tests.unit.sagas import (
    batch,
    load_handler,
    order_records,
    place,
    poison_record,
    product,
    run_saga,
)

handler = load_handler("saga_starter")


class ThrottledOnce(RecordingSagaLauncher):
    """Step Functions refuses the first start of each order in ``throttled``."""

    def __init__(self, throttled: set[str]) -> None:
        super().__init__()
        self.throttled = throttled
        self.calls: list[str] = []

    def start(self, order_id: str, name: str | None = None) -> str:
        self.calls.append(order_id)
        if order_id in self.throttled:
            self.throttled.discard(order_id)
            raise SagaStartThrottled("Rate exceeded")
        return super().start(order_id, name)


@pytest.fixture
def wired(ports: Ports, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ports]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    wired = replace(
        ports,
        saga=RecordingSagaLauncher(),
        failure_queues={"saga_starter": RecordingFailureQueue()},
        idempotency=in_memory_stores(),
    )
    bootstrap.use(wired)
    yield wired
    bootstrap.use(None)


@pytest.fixture
def placed(wired: Ports) -> Ports:
    """The same store without a fast path: orders placed as if the API died before its
    StartExecution."""
    return replace(wired, saga=None)


def new_order(ports: Ports) -> str:
    return place(ports, [(product(ports, "6.00", 10), 1)])


def test_an_order_created_starts_the_execution_named_after_the_order(wired, placed):
    order_id = new_order(placed)

    response = handler(batch(order_records(wired, order_id)))

    assert response == {"batchItemFailures": []}
    assert wired.saga.executions == {order_id: "RUNNING"}


def test_only_an_orders_creation_starts_anything(wired, placed):
    order_id = new_order(placed)
    run_saga(wired, order_id)
    later = order_records(wired, order_id)[1:]

    handler(batch(later))

    assert len(later) >= 3 and wired.saga.executions == {}


def test_a_record_delivered_twice_starts_nothing_new(wired, placed):
    order_id = new_order(placed)
    launcher = ThrottledOnce(set())
    bootstrap.use(replace(wired, saga=launcher))
    records = order_records(wired, order_id)

    handler(batch(records))
    handler(batch(records))

    assert launcher.calls == [order_id]  # the second delivery is settled by its key


def test_a_throttled_start_is_retried_and_the_other_orders_go_ahead(wired, placed):
    first, second = new_order(placed), new_order(placed)
    launcher = ThrottledOnce({first})
    bootstrap.use(replace(wired, saga=launcher))
    records = order_records(wired, first) + order_records(wired, second)
    event = batch(records)

    response = handler(event)
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    retried = handler(
        {"Records": [r for r in event["Records"] if r["dynamodb"]["SequenceNumber"] in failed]}
    )

    assert failed == [event["Records"][0]["dynamodb"]["SequenceNumber"]]
    assert retried == {"batchItemFailures": []}
    assert set(launcher.executions) == {first, second}
    assert launcher.calls == [first, second, first]


def test_a_record_that_is_no_event_goes_to_the_relays_failure_queue(wired):
    record = poison_record("order#x", 1, {"stream_id": {"S": "order#x"}})

    response = handler(batch([record]))

    queue = wired.failure_queues["saga_starter"]
    assert response == {"batchItemFailures": []}
    assert [m["consumer"] for m in queue.messages] == ["saga_starter"]
    assert wired.saga.executions == {}
