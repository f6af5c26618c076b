"""The unit of work is the one commit point: it collects what the loaded aggregates
recorded and writes it in one append, and each use case commits once (or at the commit
points it names, before money moves)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest

from order_saga.adapters.catalog import InMemoryCatalog
from order_saga.adapters.event_store import (
    InMemoryEventStore,
    RecordedEvent,
    StockChange,
    StreamAppend,
)
from order_saga.adapters.payment_gateway import Charge, Refund, SimulatedPaymentGateway
from order_saga.adapters.saga_launcher import RecordingSagaLauncher
from order_saga.domain.commands import (
    ConfirmOrder,
    ProcessPayment,
    RefundPayment,
    ReleaseInventory,
    ReserveInventory,
)
from order_saga.errors import ConcurrencyError, GatewayUnavailable, OrderNotFound
from order_saga.service_layer.inventory import release_inventory, reserve_inventory
from order_saga.service_layer.orders import confirm_order
from order_saga.service_layer.payments import process_payment, refund_payment
from order_saga.service_layer.ports import Ports
from order_saga.service_layer.repository import order_stream, product_stream
from order_saga.service_layer.unit_of_work import UncommittedEvents, UnitOfWork

Placed = Callable[..., str]
Stocked = Callable[..., str]


class CountingStore(InMemoryEventStore):
    """The in-memory store, remembering the streams of every append it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.appends: list[list[str]] = []
        self.stock: list[list[tuple[str, str, int]]] = []
        """(kind, product, units) of the counter changes of every append"""

    def append_streams(
        self,
        appends: Sequence[StreamAppend],
        *,
        correlation_id: str,
        stock: Sequence[StockChange] = (),
    ) -> list[RecordedEvent]:
        self.appends.append([append.stream_id for append in appends])
        self.stock.append([(c.kind, c.product_id, c.quantity) for c in stock])
        return super().append_streams(appends, correlation_id=correlation_id, stock=stock)


class WatchedGateway(SimulatedPaymentGateway):
    """The simulated gateway, noting the order's stored events each time money moves."""

    def __init__(self, store: InMemoryEventStore) -> None:
        super().__init__()
        self.store = store
        self.seen: list[list[str]] = []

    def _look(self, key: str) -> None:
        order_id = key.rsplit(":", 1)[0]
        self.seen.append([r.event_type for r in self.store.load(order_stream(order_id))])

    def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Charge:
        self._look(idempotency_key)
        return super().charge(idempotency_key=idempotency_key, token=token, amount=amount)

    def refund(self, *, idempotency_key: str, payment_id: str, amount: Decimal) -> Refund:
        self._look(idempotency_key)
        return super().refund(idempotency_key=idempotency_key, payment_id=payment_id, amount=amount)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def gateway(store: CountingStore) -> WatchedGateway:
    return WatchedGateway(store)


@pytest.fixture
def ports(store: CountingStore, gateway: WatchedGateway) -> Ports:
    return Ports(
        store=store, catalog=InMemoryCatalog(), gateway=gateway, saga=RecordingSagaLauncher()
    )


def test_commit_writes_what_every_loaded_aggregate_recorded_in_one_append(
    ports: Ports, store: CountingStore, placed: Placed, stocked: Stocked
) -> None:
    a, b = stocked(quantity=5), stocked(quantity=5)
    order_id = placed((a, 1), (b, 2))
    store.appends.clear()

    with UnitOfWork(store, order_id) as uow:
        order = uow.order(order_id)
        first, second = uow.stock(a), uow.stock(b)
        order.request_cancellation("cust", "changed my mind")
        first.add(1)
        second.add(2)
        records = uow.commit()

    assert store.appends == [[order_stream(order_id), product_stream(a), product_stream(b)]]
    # each product's stream: StockCounterOpened, StockAdded, and now this StockAdded
    assert [(r.stream_id, r.version) for r in records] == [
        (order_stream(order_id), 2),
        (product_stream(a), 3),
        (product_stream(b), 3),
    ]
    assert {r.correlation_id for r in records} == {order_id}
    assert order.pending == first.pending == second.pending == []
    assert (order.version, first.version, second.version) == (2, 3, 3)


def test_the_same_aggregate_loaded_twice_is_one_object(
    store: CountingStore, placed: Placed, stocked: Stocked
) -> None:
    product = stocked()
    order_id = placed((product, 1))
    with UnitOfWork(store, order_id) as uow:
        assert uow.order(order_id) is uow.order(order_id)
        assert uow.stock(product) is uow.stock(product)


def test_a_commit_with_nothing_recorded_writes_nothing(
    store: CountingStore, placed: Placed, stocked: Stocked
) -> None:
    order_id = placed((stocked(), 1))
    store.appends.clear()
    with UnitOfWork(store, order_id) as uow:
        uow.order(order_id)
        assert uow.commit() == []
    assert store.appends == []


def test_leaving_with_events_never_committed_raises_and_writes_nothing(
    store: CountingStore, placed: Placed, stocked: Stocked
) -> None:
    order_id = placed((stocked(), 1))
    store.appends.clear()
    with (
        pytest.raises(UncommittedEvents, match=order_stream(order_id)),
        UnitOfWork(store, order_id) as uow,
    ):
        uow.order(order_id).request_cancellation("cust")
    assert store.appends == []
    assert [r.event_type for r in store.load(order_stream(order_id))] == ["OrderCreated"]


def test_leaving_by_an_error_drops_what_was_recorded(
    store: CountingStore, placed: Placed, stocked: Stocked
) -> None:
    order_id = placed((stocked(), 1))
    with pytest.raises(GatewayUnavailable), UnitOfWork(store, order_id) as uow:
        uow.order(order_id).request_cancellation("cust")
        raise GatewayUnavailable("the error wins; the events are dropped")
    assert [r.event_type for r in store.load(order_stream(order_id))] == ["OrderCreated"]


def test_a_conflict_on_one_stream_writes_none_of_them(
    store: CountingStore, placed: Placed, stocked: Stocked
) -> None:
    product = stocked(quantity=5)
    order_id = placed((product, 1))
    with UnitOfWork(store, order_id) as uow:
        order, stock = uow.order(order_id), uow.stock(product)
        order.request_cancellation("cust")
        stock.add(1)
        with UnitOfWork(store, product) as other:  # another writer gets there first
            other.stock(product).add(3)
            other.commit()
        with pytest.raises(ConcurrencyError):
            uow.commit()
        assert order.pending and stock.pending  # still uncommitted, for a retry to decide
        order.pending.clear()
        stock.pending.clear()
    assert [r.event_type for r in store.load(order_stream(order_id))] == ["OrderCreated"]
    added = [r for r in store.load(product_stream(product)) if r.event_type == "StockAdded"]
    assert [r.data["quantity"] for r in added] == [5, 3]


def test_an_unknown_order_is_not_found(store: CountingStore) -> None:
    with pytest.raises(OrderNotFound), UnitOfWork(store, "nope") as uow:
        uow.order("nope")


# -- each use case commits once, or at the commit points it names ------------------------


def test_a_reservation_writes_the_order_and_every_products_counter_in_one_commit(
    ports: Ports, store: CountingStore, placed: Placed, stocked: Stocked
) -> None:
    a, b = stocked(quantity=5), stocked(quantity=5)
    order_id = placed((a, 1), (b, 2))
    process_payment(ProcessPayment(order_id=order_id), ports)
    store.appends.clear()
    store.stock.clear()

    reserve_inventory(ReserveInventory(order_id=order_id), ports)
    release_inventory(ReleaseInventory(order_id=order_id), ports)

    # no product's stream is written: its counter is, in the order's commit
    assert store.appends == [[order_stream(order_id)], [order_stream(order_id)]]
    assert [sorted(changes) for changes in store.stock] == [
        sorted([("take", a, 1), ("take", b, 2)]),
        sorted([("give", a, 1), ("give", b, 2)]),
    ]


def test_a_charge_commits_its_intent_before_the_gateway_and_its_answer_after(
    ports: Ports, store: CountingStore, gateway: WatchedGateway, placed: Placed, stocked: Stocked
) -> None:
    order_id = placed((stocked(), 1))
    store.appends.clear()

    process_payment(ProcessPayment(order_id=order_id), ports)

    assert gateway.seen == [["OrderCreated", "PaymentProcessing"]]
    assert store.appends == [[order_stream(order_id)], [order_stream(order_id)]]


def test_confirm_commits_once_and_a_repeat_commits_nothing(
    ports: Ports, store: CountingStore, placed: Placed, stocked: Stocked
) -> None:
    order_id = placed((stocked(), 1))
    process_payment(ProcessPayment(order_id=order_id), ports)
    reserve_inventory(ReserveInventory(order_id=order_id), ports)
    store.appends.clear()

    confirm_order(ConfirmOrder(order_id=order_id), ports)
    confirm_order(ConfirmOrder(order_id=order_id), ports)

    assert store.appends == [[order_stream(order_id)]]


def test_a_refund_commits_the_compensation_before_any_money_moves_back(
    ports: Ports, store: CountingStore, gateway: WatchedGateway, placed: Placed, stocked: Stocked
) -> None:
    order_id = placed((stocked("10.00"), 1))
    process_payment(ProcessPayment(order_id=order_id), ports)
    gateway.seen.clear()
    store.appends.clear()

    result = refund_payment(RefundPayment(order_id=order_id), ports)

    assert result.amount == Decimal("10.00")
    assert gateway.seen[-1][-1] == "CompensationStarted"
    assert store.appends == [[order_stream(order_id)], [order_stream(order_id)]]
