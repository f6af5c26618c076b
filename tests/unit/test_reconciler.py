"""The saga's start from the stream (the relay) and the reconciler, in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from order_saga.adapters.catalog import InMemoryCatalog
from order_saga.adapters.event_store import InMemoryEventStore
from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
from order_saga.adapters.recent_orders import InMemoryRecentOrders
from order_saga.adapters.saga_launcher import RecordingSagaLauncher
from order_saga.service_layer import saga_start
from order_saga.service_layer.dependencies import ReconcilerDependencies
from order_saga.service_layer.ports import Ports
from tests.unit.sagas import in_manual_review, order_records, place, product, run_saga

AFTER = timedelta(minutes=2)
LOOKBACK = timedelta(hours=48)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ports(clock: Clock) -> Ports:
    # No saga launcher on the ports: these orders are placed as if the API's process died
    # between its write and its start.
    return Ports(
        store=InMemoryEventStore(clock),
        catalog=InMemoryCatalog(),
        gateway=SimulatedPaymentGateway(),
        clock=clock,
    )


def reconcile(ports: Ports, saga: RecordingSagaLauncher, *, express: bool = False):
    deps = ReconcilerDependencies(
        store=ports.store,
        orders=InMemoryRecentOrders(ports.store),
        saga=saga,
        clock=ports.clock,
        lookback=LOOKBACK,
        express=express,
    )
    return saga_start.reconcile(deps, AFTER)


def an_order(ports: Ports) -> str:
    return place(ports, [(product(ports, "5.00", 10), 1)])


def test_the_relay_wants_only_an_orders_creation(ports):
    order_id = an_order(ports)
    run_saga(ports, order_id)
    later = order_records(ports, order_id)[1:]
    assert later and not any(saga_start.wants(record) for record in later)


def test_the_reconciler_starts_an_order_left_without_a_saga_past_the_threshold(ports, clock):
    saga = RecordingSagaLauncher()
    order_id = an_order(ports)

    clock.advance(AFTER - timedelta(seconds=1))
    assert reconcile(ports, saga).started == []  # too young: the relay may still start it
    clock.advance(timedelta(seconds=2))
    result = reconcile(ports, saga)

    assert result.started == [order_id]
    assert saga.executions == {order_id: "RUNNING"}


def test_the_reconciler_never_starts_a_second_execution_of_a_live_saga(ports, clock):
    saga = RecordingSagaLauncher()
    order_id = an_order(ports)
    saga.start(order_id)  # a slow start: running, but no step has written yet
    clock.advance(AFTER * 3)

    result = reconcile(ports, saga)

    assert result.running == [order_id]
    assert result.started == result.redriven == []
    assert list(saga.executions) == [order_id]


def test_the_reconciler_redrives_an_order_whose_execution_ended_before_it_did(ports, clock):
    saga = RecordingSagaLauncher()
    order_id = an_order(ports)
    saga.start(order_id)
    saga.finish(order_id, "ABORTED")
    clock.advance(AFTER * 3)

    first = reconcile(ports, saga)
    again = reconcile(ports, saga)  # the re-drive is live now: nothing more
    saga.finish(f"{order_id}-r1", "TIMED_OUT")
    third = reconcile(ports, saga)

    assert first.redriven == [order_id] and again.running == [order_id]
    assert third.redriven == [order_id]
    assert saga.executions == {
        order_id: "ABORTED",
        f"{order_id}-r1": "TIMED_OUT",
        f"{order_id}-r2": "RUNNING",
    }


def test_the_reconciler_leaves_ended_and_reviewed_orders_alone(ports, clock):
    saga = RecordingSagaLauncher()
    done = an_order(ports)
    run_saga(ports, done)
    reviewed = in_manual_review(ports)
    clock.advance(AFTER * 3)

    result = reconcile(ports, saga)

    assert result.examined == 0 and saga.executions == {}
    assert {done, reviewed}.isdisjoint(saga.started)


def test_the_reconciler_looks_back_only_as_far_as_told(ports, clock):
    saga = RecordingSagaLauncher()
    an_order(ports)
    clock.advance(LOOKBACK + timedelta(minutes=1))
    assert reconcile(ports, saga).started == []


def test_on_express_an_order_still_at_its_creation_is_started(ports, clock):
    saga = RecordingSagaLauncher()
    order_id = an_order(ports)
    clock.advance(AFTER * 2)
    assert reconcile(ports, saga, express=True).started == [order_id]


def test_on_express_a_saga_that_may_still_live_is_left_alone_then_redriven(ports, clock):
    saga = RecordingSagaLauncher()
    order_id = an_order(ports)
    # The saga charged the card, then its execution stopped (Express: 5 minutes at most).
    from order_saga.domain.commands import ProcessPayment
    from order_saga.service_layer.payments import process_payment

    process_payment(ProcessPayment(order_id=order_id), ports)
    clock.advance(timedelta(minutes=4))
    assert reconcile(ports, saga, express=True).running == [order_id]
    clock.advance(timedelta(minutes=3))

    result = reconcile(ports, saga, express=True)

    assert result.redriven == [order_id]
    # Named by the events the order has (3: created, payment processing, completed).
    assert saga.executions == {f"{order_id}-r{len(order_records(ports, order_id))}": "RUNNING"}


def test_recent_orders_lists_the_window_oldest_first(ports, clock):
    first = an_order(ports)
    clock.advance(timedelta(minutes=1))
    second = an_order(ports)
    start = clock.now - timedelta(minutes=2)
    recent = InMemoryRecentOrders(ports.store)

    assert recent.created_between(start, clock.now) == [first, second]
    assert recent.created_between(clock.now + timedelta(seconds=1), clock.now + AFTER) == []
