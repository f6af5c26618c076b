"""One contract for every event store: the in-memory twin and DynamoDB (on moto, with the
table built from template.yaml's own key schema, so the test cannot drift from it)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from moto import mock_aws

from local_runtime import patches
from local_runtime.emulator.tables import create_tables
from local_runtime.emulator.template import Template
from order_saga.adapters.dynamodb_event_store import DynamoDBEventStore, item_from_record
from order_saga.adapters.event_store import (
    InMemoryEventStore,
    RecordedEvent,
    StockChange,
    StreamAppend,
)
from order_saga.domain.events import (
    OrderConfirmed,
    OrderCreated,
    PaymentCompleted,
    PaymentFailed,
    StockAdded,
    StockReserved,
)
from order_saga.domain.values import Address, OrderItem
from order_saga.errors import ConcurrencyError, InsufficientStock, StorageError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from order_saga.adapters.event_store import EventStore

TEMPLATE = Template()
NOW = datetime(2026, 11, 28, 12, 30, 15, 123000, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def created(order_id: str) -> OrderCreated:
    return OrderCreated(
        order_id=order_id,
        customer_id="cust-1",
        items=(
            OrderItem(product_id="sku-a", quantity=2, unit_price=Decimal("19.99")),
            OrderItem(product_id="sku-b", quantity=1, unit_price=Decimal("0.05")),
        ),
        shipping_address=Address(
            street="1 Main St", city="Seattle", state="WA", postal_code="98101", country="US"
        ),
        payment_method="tok_visa",
        total=Decimal("40.03"),
    )


V1_FAILURE = {"amount": "40.03", "reason": "abandoned: the charge never went through"}
"""PaymentFailed as schema version 1 wrote it: no ``declined``, only the reason's wording."""


def v1_payment_failure(order_id: str, version: int) -> RecordedEvent:
    return RecordedEvent(
        stream_id=f"order#{order_id}",
        version=version,
        event_type="PaymentFailed",
        schema_version=1,
        occurred_at=NOW,
        correlation_id=order_id,
        data=V1_FAILURE | {"order_id": order_id},
    )


def write_raw(store: EventStore, record: RecordedEvent) -> None:
    """Put a stored event as older code wrote it, past the store's append (which writes
    only current shapes): the item itself on DynamoDB, the record in memory."""
    if isinstance(store, DynamoDBEventStore):
        boto3.client("dynamodb", region_name="us-east-1").put_item(
            TableName=store.table_name, Item=item_from_record(record)
        )
    else:
        assert isinstance(store, InMemoryEventStore)
        store._write([record])


class EventStoreContract:
    """Subclass with a ``store`` fixture; every backend must pass every test here."""

    def test_a_stream_never_written_loads_empty(self, store: EventStore) -> None:
        assert store.load(f"order#{new_id()}") == []

    def test_appended_events_load_back_equal_in_version_order(self, store: EventStore) -> None:
        order_id = new_id()
        events = [
            created(order_id),
            PaymentCompleted(order_id=order_id, payment_id="pay_1", amount=Decimal("40.03")),
        ]
        store.append(f"order#{order_id}", 0, events, correlation_id=order_id)
        store.append(
            f"order#{order_id}", 2, [OrderConfirmed(order_id=order_id)], correlation_id=order_id
        )

        loaded = store.load_events(f"order#{order_id}")

        assert loaded == [*events, OrderConfirmed(order_id=order_id)]
        assert isinstance(loaded[1], PaymentCompleted)
        assert loaded[1].amount == Decimal("40.03")

    def test_each_stored_event_carries_its_metadata(self, store: EventStore) -> None:
        order_id = new_id()
        store.append(f"order#{order_id}", 0, [created(order_id)], correlation_id=order_id)

        (record,) = store.load(f"order#{order_id}")

        assert record.stream_id == f"order#{order_id}"
        assert record.version == 1
        assert record.event_type == "OrderCreated"
        assert record.schema_version == 1
        assert record.occurred_at == NOW
        assert record.correlation_id == order_id
        assert record.data["total"] == "40.03"  # money stays a string in storage

    def test_a_stale_expected_version_conflicts_and_writes_nothing(self, store: EventStore) -> None:
        order_id = new_id()
        stream = f"order#{order_id}"
        store.append(stream, 0, [created(order_id)], correlation_id=order_id)

        with pytest.raises(ConcurrencyError):
            store.append(
                stream,
                0,
                [created(order_id), OrderConfirmed(order_id=order_id)],
                correlation_id=order_id,
            )

        assert [r.version for r in store.load(stream)] == [1]

    def test_two_writers_racing_for_the_same_version_only_one_wins(self, store: EventStore) -> None:
        stream = f"product#{new_id()}"
        outcomes: list[str] = []
        barrier = threading.Barrier(8)

        def writer(n: int) -> None:
            barrier.wait()
            try:
                store.append(
                    stream,
                    0,
                    [StockAdded(product_id="sku-a", quantity=n + 1)],
                    correlation_id="race",
                )
                outcomes.append("won")
            except ConcurrencyError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
        assert len(store.load(stream)) == 1

    def test_an_append_across_streams_is_all_or_nothing(self, store: EventStore) -> None:
        order_id, product = new_id(), new_id()
        store.append(
            f"product#{product}",
            0,
            [StockAdded(product_id=product, quantity=5)],
            correlation_id=product,
        )

        with pytest.raises(ConcurrencyError):
            store.append_streams(
                [
                    StreamAppend(f"order#{order_id}", 0, [created(order_id)]),
                    # stale: the product stream is already at version 1
                    StreamAppend(
                        f"product#{product}",
                        0,
                        [StockReserved(product_id=product, order_id=order_id, quantity=1)],
                    ),
                ],
                correlation_id=order_id,
            )

        assert store.load(f"order#{order_id}") == []
        assert len(store.load(f"product#{product}")) == 1

    def test_transactions_racing_for_a_shared_stream_only_one_wins(self, store: EventStore) -> None:
        """Many reservations of one product at once: the product stream takes one."""
        product = new_id()
        outcomes: list[str] = []
        barrier = threading.Barrier(16)

        def reserve(n: int) -> None:
            order_id = f"{product}-{n}"
            barrier.wait()
            try:
                store.append_streams(
                    [
                        StreamAppend(f"order#{order_id}", 0, [created(order_id)]),
                        StreamAppend(
                            f"product#{product}",
                            0,
                            [StockReserved(product_id=product, order_id=order_id, quantity=1)],
                        ),
                    ],
                    correlation_id=order_id,
                )
                outcomes.append(order_id)
            except ConcurrencyError:
                pass

        threads = [threading.Thread(target=reserve, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        (winner,) = outcomes
        assert [r.data["order_id"] for r in store.load(f"product#{product}")] == [winner]
        orders_written = [n for n in range(16) if store.load(f"order#{product}-{n}")]
        assert orders_written == [int(winner.rsplit("-", 1)[1])]

    def test_an_append_across_streams_lands_in_every_stream(self, store: EventStore) -> None:
        order_id, product_a, product_b = new_id(), new_id(), new_id()

        records = store.append_streams(
            [
                StreamAppend(f"order#{order_id}", 0, [created(order_id)]),
                StreamAppend(
                    f"product#{product_a}", 0, [StockAdded(product_id=product_a, quantity=3)]
                ),
                StreamAppend(
                    f"product#{product_b}", 0, [StockAdded(product_id=product_b, quantity=4)]
                ),
            ],
            correlation_id=order_id,
        )

        assert [(r.stream_id, r.version) for r in records] == [
            (f"order#{order_id}", 1),
            (f"product#{product_a}", 1),
            (f"product#{product_b}", 1),
        ]
        assert store.load_events(f"product#{product_b}") == [
            StockAdded(product_id=product_b, quantity=4)
        ]

    @pytest.mark.parametrize("count", [0, 101])
    def test_an_append_holds_one_to_a_hundred_events(self, store: EventStore, count: int) -> None:
        stream = f"product#{new_id()}"
        events = [StockAdded(product_id="sku-a", quantity=1)] * count

        with pytest.raises(ValueError, match="1 to 100 events"):
            store.append(stream, 0, events, correlation_id="too-many")

        assert store.load(stream) == []

    def test_the_same_stream_twice_in_one_append_is_refused(self, store: EventStore) -> None:
        stream = f"product#{new_id()}"
        event = StockAdded(product_id="sku-a", quantity=1)

        with pytest.raises(ValueError, match="once"):
            store.append_streams(
                [StreamAppend(stream, 0, [event]), StreamAppend(stream, 1, [event])],
                correlation_id="twice",
            )

        assert store.load(stream) == []

    def test_every_stream_written_is_listed_once_and_a_prefix_narrows_the_list(
        self, store: EventStore
    ) -> None:
        tag = new_id()
        orders = sorted(f"order#{tag}-{n}" for n in range(3))
        product = f"product#{tag}"
        for stream in orders:
            order_id = stream.split("#", 1)[1]
            store.append(stream, 0, [created(order_id)], correlation_id=order_id)
            store.append(stream, 1, [OrderConfirmed(order_id=order_id)], correlation_id=order_id)
        store.append(product, 0, [StockAdded(product_id=tag, quantity=1)], correlation_id=tag)

        assert store.stream_ids(f"order#{tag}") == orders
        assert store.stream_ids(f"product#{tag}") == [product]
        everything = store.stream_ids()
        assert set(everything) >= {*orders, product}
        assert everything == sorted(set(everything))
        assert store.stream_ids(f"order#{new_id()}") == []

    def test_a_stream_whose_append_failed_is_not_listed(self, store: EventStore) -> None:
        tag = new_id()
        store.append(
            f"product#{tag}", 0, [StockAdded(product_id=tag, quantity=1)], correlation_id=tag
        )

        with pytest.raises(ConcurrencyError):
            store.append_streams(
                [
                    StreamAppend(f"order#{tag}", 0, [created(tag)]),
                    StreamAppend(f"product#{tag}", 0, [StockAdded(product_id=tag, quantity=1)]),
                ],
                correlation_id=tag,
            )

        assert store.stream_ids(f"order#{tag}") == []

    def test_an_event_stored_in_an_older_shape_reads_back_as_the_current_class(
        self, store: EventStore
    ) -> None:
        order_id = new_id()
        store.append(f"order#{order_id}", 0, [created(order_id)], correlation_id=order_id)
        write_raw(store, v1_payment_failure(order_id, version=2))

        record = store.load(f"order#{order_id}")[1]

        assert (record.schema_version, record.data) == (1, V1_FAILURE | {"order_id": order_id})
        assert record.to_domain() == PaymentFailed(
            order_id=order_id,
            amount=Decimal("40.03"),
            reason=V1_FAILURE["reason"],
            declined=False,
        )

    def test_a_long_stream_loads_whole_and_in_order(self, store: EventStore) -> None:
        stream = f"product#{new_id()}"
        for batch in range(3):  # 120 events: versions past 99 must sort as numbers
            store.append(
                stream,
                batch * 40,
                [StockAdded(product_id="sku-a", quantity=batch * 40 + n + 1) for n in range(40)],
                correlation_id="long",
            )

        loaded = store.load(stream)

        assert [r.version for r in loaded] == list(range(1, 121))
        assert [r.data["quantity"] for r in loaded] == list(range(1, 121))

    def test_loading_after_a_version_gives_only_the_later_events(self, store: EventStore) -> None:
        stream = f"product#{new_id()}"
        store.append(
            stream,
            0,
            [StockAdded(product_id="sku-a", quantity=n) for n in range(1, 6)],
            correlation_id="after",
        )

        assert [r.version for r in store.load(stream, after_version=3)] == [4, 5]
        assert store.load_events(stream, after_version=4) == [
            StockAdded(product_id="sku-a", quantity=5)
        ]
        assert store.load(stream, after_version=5) == []

    def test_a_stream_never_snapshotted_has_no_snapshot(self, store: EventStore) -> None:
        assert store.load_snapshot(f"product#{new_id()}") is None

    def test_a_saved_snapshot_loads_back_equal(self, store: EventStore) -> None:
        stream = f"product#{new_id()}"
        state = {"product_id": "sku-a", "available": 7, "reserved": {"o1": 2, "o2": 1}}

        saved = store.save_snapshot(store.snapshot_of(stream, 12, 1, state))
        loaded = store.load_snapshot(stream)

        assert saved is True
        assert loaded is not None
        assert (loaded.stream_id, loaded.version, loaded.schema_version) == (stream, 12, 1)
        assert loaded.state == state
        assert loaded.taken_at == NOW

    def test_a_snapshot_never_replaces_a_newer_one(self, store: EventStore) -> None:
        stream = f"product#{new_id()}"
        store.save_snapshot(store.snapshot_of(stream, 200, 1, {"available": 2}))

        older = store.save_snapshot(store.snapshot_of(stream, 100, 1, {"available": 1}))
        same = store.save_snapshot(store.snapshot_of(stream, 200, 1, {"available": 3}))
        newer = store.save_snapshot(store.snapshot_of(stream, 300, 1, {"available": 4}))

        assert (older, same, newer) == (False, False, True)
        loaded = store.load_snapshot(stream)
        assert loaded is not None
        assert (loaded.version, loaded.state) == (300, {"available": 4})

    # -- stock counters, changed with the events --------------------------------------------

    def test_a_counter_opens_with_its_events_and_reads_back(self, store: EventStore) -> None:
        product = new_id()
        stream = f"product#{product}"
        added = [StockAdded(product_id=product, quantity=5)]

        store.append_streams(
            [StreamAppend(stream, 0, added)],
            correlation_id="t",
            stock=[StockChange.open(product, 5)],
        )

        assert store.stock_levels([product, new_id()]) == {product: 5}

    def test_a_counter_opened_twice_conflicts_and_writes_nothing(self, store: EventStore) -> None:
        product = new_id()
        store.append_streams(
            [StreamAppend(f"order#{new_id()}", 0, [created(new_id())])],
            correlation_id="t",
            stock=[StockChange.open(product, 5)],
        )
        other = f"order#{new_id()}"

        with pytest.raises(ConcurrencyError):
            store.append_streams(
                [StreamAppend(other, 0, [created(new_id())])],
                correlation_id="t",
                stock=[StockChange.open(product, 9)],
            )

        assert store.stock_levels([product]) == {product: 5}
        assert store.load(other) == []

    def test_takes_are_all_or_nothing_and_a_refusal_says_what_is_available(
        self, store: EventStore
    ) -> None:
        a, b, missing = new_id(), new_id(), new_id()
        for product, units in ((a, 5), (b, 1)):
            store.append_streams(
                [
                    StreamAppend(
                        f"product#{product}", 0, [StockAdded(product_id=product, quantity=units)]
                    )
                ],
                correlation_id="t",
                stock=[StockChange.open(product, units)],
            )
        order = f"order#{new_id()}"

        with pytest.raises(InsufficientStock) as refused:
            store.append_streams(
                [StreamAppend(order, 0, [created(new_id())])],
                correlation_id="t",
                stock=[
                    StockChange.take(a, 2),
                    StockChange.take(b, 2),
                    StockChange.take(missing, 1),
                ],
            )

        assert refused.value.available == {b: 1, missing: None}
        assert store.stock_levels([a, b, missing]) == {a: 5, b: 1}
        assert store.load(order) == []

        store.append_streams(
            [StreamAppend(order, 0, [created(new_id())])],
            correlation_id="t",
            stock=[StockChange.take(a, 2), StockChange.take(b, 1)],
        )
        assert store.stock_levels([a, b]) == {a: 3, b: 0}

    def test_giving_back_needs_a_counter_and_adds_to_it(self, store: EventStore) -> None:
        a, missing = new_id(), new_id()
        store.append_streams(
            [StreamAppend(f"product#{a}", 0, [StockAdded(product_id=a, quantity=1)])],
            correlation_id="t",
            stock=[StockChange.open(a, 1)],
        )
        order = f"order#{new_id()}"

        with pytest.raises(InsufficientStock) as refused:
            store.append_streams(
                [StreamAppend(order, 0, [created(new_id())])],
                correlation_id="t",
                stock=[StockChange.give(missing, 2)],
            )
        store.append_streams(
            [StreamAppend(order, 0, [created(new_id())])],
            correlation_id="t",
            stock=[StockChange.give(a, 2)],
        )

        assert refused.value.available == {missing: None}
        assert store.stock_levels([a, missing]) == {a: 3}

    def test_takes_racing_for_the_last_units_never_oversell(self, store: EventStore) -> None:
        product = new_id()
        store.append_streams(
            [StreamAppend(f"product#{product}", 0, [StockAdded(product_id=product, quantity=3)])],
            correlation_id="t",
            stock=[StockChange.open(product, 3)],
        )
        outcomes: list[str] = []
        barrier = threading.Barrier(8)

        def reserve() -> None:
            barrier.wait()
            try:
                store.append_streams(
                    [StreamAppend(f"order#{new_id()}", 0, [created(new_id())])],
                    correlation_id="race",
                    stock=[StockChange.take(product, 1)],
                )
                outcomes.append("took")
            except InsufficientStock:
                outcomes.append("short")

        threads = [threading.Thread(target=reserve) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(outcomes) == ["short"] * 5 + ["took"] * 3
        assert store.stock_levels([product]) == {product: 0}


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self) -> EventStore:
        return InMemoryEventStore(clock=fixed_clock)


class TestDynamoDBEventStore(EventStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[EventStore]:
        patches.apply()  # moto's writes made atomic across threads, as DynamoDB's are
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            # a prefix of its own: moto's state is shared with any runtime in this process
            tables = create_tables(TEMPLATE, client, prefix=f"contract-{new_id()}-")
            yield DynamoDBEventStore(
                tables["EventStoreTable"],
                client,
                clock=fixed_clock,
                snapshot_table=tables["SnapshotTable"],
                stock_table=tables["StockTable"],
            )

    def test_the_table_streams_new_images_for_the_async_consumers(
        self, store: DynamoDBEventStore
    ) -> None:
        described = boto3.client("dynamodb", region_name="us-east-1").describe_table(
            TableName=store.table_name
        )["Table"]

        assert described["StreamSpecification"] == {
            "StreamEnabled": True,
            "StreamViewType": "NEW_IMAGE",
        }

    def test_a_snapshot_is_stored_as_one_json_string_and_one_stored_as_a_map_still_loads(
        self, store: DynamoDBEventStore
    ) -> None:
        client = boto3.client("dynamodb", region_name="us-east-1")
        assert store.snapshot_table is not None
        stream, state = f"product#{new_id()}", {"available": 7, "reserved": {"ord-1": 2}}
        store.save_snapshot(store.snapshot_of(stream, 3, 1, state))
        key = {"stream_id": {"S": stream}}
        stored = client.get_item(TableName=store.snapshot_table, Key=key)["Item"]["state"]
        assert json.loads(stored["S"]) == state

        client.put_item(
            TableName=store.snapshot_table,
            Item={
                **key,
                "version": {"N": "4"},
                "schema_version": {"N": "1"},
                "state": TypeSerializer().serialize(state),
                "taken_at": {"S": "2026-11-28T00:00:00.000+00:00"},
            },
        )
        loaded = store.load_snapshot(stream)
        assert loaded is not None
        assert (loaded.version, loaded.state) == (4, state)

    def test_without_a_snapshot_table_there_are_no_snapshots(
        self, store: DynamoDBEventStore
    ) -> None:
        plain = DynamoDBEventStore(
            store.table_name, boto3.client("dynamodb", region_name="us-east-1")
        )
        stream = f"product#{new_id()}"

        assert plain.save_snapshot(plain.snapshot_of(stream, 5, 1, {"available": 1})) is False
        assert plain.load_snapshot(stream) is None

    def test_a_storage_failure_is_a_named_transient_error(self) -> None:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            store = DynamoDBEventStore("no-such-table", client)

            with pytest.raises(StorageError, match="ResourceNotFoundException"):
                store.load("order#x")
            with pytest.raises(StorageError):
                store.append("order#x", 0, [OrderConfirmed(order_id="x")], correlation_id="x")
