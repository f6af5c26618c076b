"""moto with the local runtime's fixes answers as DynamoDB does, under concurrency too:
the event store contract holds on it, and the shortcuts keep moto's own answers."""

from __future__ import annotations

import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local_runtime import patches
from local_runtime.emulator.tables import create_tables
from local_runtime.emulator.template import Template
from order_saga.adapters.dynamodb_event_store import DynamoDBEventStore
from order_saga.adapters.event_store import StockChange, StreamAppend
from order_saga.domain.events import StockAdded
from order_saga.errors import ConcurrencyError
from tests.integration.test_event_store_contract import EventStoreContract, fixed_clock

if TYPE_CHECKING:
    from collections.abc import Iterator

    from order_saga.adapters.event_store import EventStore

TEMPLATE = Template()
PREFIX = f"fixes-{uuid.uuid4().hex[:8]}-"
SNAPSHOTS = f"{PREFIX}SnapshotTable"
IDEMPOTENCY = f"{PREFIX}IdempotencyTable"
STOCK = f"{PREFIX}StockTable"


def new_id() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def table() -> Iterator[tuple[Any, str]]:
    """One table for the module (tests use random stream ids): creating one costs more
    than a test."""
    with mock_aws():
        patches.apply()
        client = boto3.client("dynamodb", region_name="us-east-1")
        tables = create_tables(TEMPLATE, client, prefix=PREFIX)
        yield client, tables["EventStoreTable"]


class TestEventStoreOnFixedMoto(EventStoreContract):
    @pytest.fixture
    def store(self, table: tuple[Any, str]) -> EventStore:
        client, name = table
        return DynamoDBEventStore(
            name, client, clock=fixed_clock, snapshot_table=SNAPSHOTS, stock_table=STOCK
        )


def put(client: Any, table: str, stream: str, version: int) -> None:
    client.put_item(
        TableName=table,
        Item={"stream_id": {"S": stream}, "version": {"N": str(version)}},
    )


def test_a_query_pages_through_its_own_partition_only_in_version_order(
    table: tuple[Any, str],
) -> None:
    client, name = table
    wanted = f"product#{new_id()}"
    for version in (3, 1, 12, 2):  # 12 after 3: numbers, not strings
        put(client, name, wanted, version)
        put(client, name, f"product#{new_id()}", version)
    request: dict[str, Any] = {
        "TableName": name,
        "KeyConditionExpression": "stream_id = :s",
        "ExpressionAttributeValues": {":s": {"S": wanted}},
        "Limit": 3,
    }

    first = client.query(**request)
    second = client.query(**request, ExclusiveStartKey=first["LastEvaluatedKey"])

    versions = [int(item["version"]["N"]) for item in first["Items"] + second["Items"]]
    assert versions == [1, 2, 3, 12]
    assert "LastEvaluatedKey" not in second


def test_a_query_of_a_partition_never_written_finds_nothing(table: tuple[Any, str]) -> None:
    client, name = table
    put(client, name, f"product#{new_id()}", 1)

    found = client.query(
        TableName=name,
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": f"product#{new_id()}"}},
    )

    assert found["Items"] == []


def test_a_transaction_with_a_failing_condition_is_cancelled_item_by_item(
    table: tuple[Any, str],
) -> None:
    client, name = table
    order, taken = f"order#{new_id()}", f"product#{new_id()}"
    put(client, name, taken, 1)

    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"stream_id": {"S": order}, "version": {"N": "1"}},
                        "ConditionExpression": "attribute_not_exists(version)",
                    }
                },
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"stream_id": {"S": taken}, "version": {"N": "1"}},
                        "ConditionExpression": "attribute_not_exists(version)",
                    }
                },
            ]
        )

    reasons = [reason["Code"] for reason in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert (
        client.get_item(TableName=name, Key={"stream_id": {"S": order}, "version": {"N": "1"}}).get(
            "Item"
        )
        is None
    )


def test_readers_never_see_a_stream_torn_while_writers_race_on_it(
    table: tuple[Any, str],
) -> None:
    client, name = table
    store = DynamoDBEventStore(name, client)
    shared = f"product#{new_id()}"
    writers, appends_each = 3, 4
    problems: list[str] = []
    writing = threading.Event()

    def writer() -> None:
        done = 0
        while done < appends_each:
            version = len(store.load(shared))
            try:  # a new stream each time: moto adds a partition while readers query
                store.append_streams(
                    [
                        StreamAppend(
                            f"order#{new_id()}", 0, [StockAdded(product_id="a", quantity=1)]
                        ),
                        StreamAppend(shared, version, [StockAdded(product_id="a", quantity=1)]),
                    ],
                    correlation_id="race",
                )
                done += 1
            except ConcurrencyError:
                continue
            except Exception as exc:  # anything else is the bug this guards against
                problems.append(repr(exc))
                return

    def reader() -> None:
        while writing.is_set():
            try:
                versions = [record.version for record in store.load(shared)]
            except Exception as exc:
                problems.append(repr(exc))
                return
            if versions != list(range(1, len(versions) + 1)):
                problems.append(f"torn stream: {versions}")
            time.sleep(0.005)  # let the writers in

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    readers = [threading.Thread(target=reader) for _ in range(3)]
    writing.set()
    for thread in threads + readers:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    writing.clear()
    for thread in readers:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads + readers), "writers stuck"
    assert problems == []
    assert [record.version for record in store.load(shared)] == list(
        range(1, writers * appends_each + 1)
    )


@pytest.mark.parametrize("with_binary", [False, True], ids=["json-only", "binary"])
def test_an_item_of_every_attribute_type_reads_back_exactly_as_written(
    table: tuple[Any, str], with_binary: bool
) -> None:
    client, name = table
    stream = f"product#{new_id()}"
    item: dict[str, Any] = {
        "stream_id": {"S": stream},
        "version": {"N": "1"},
        "text": {"S": "café ☕"},
        "money": {"N": "1299.99"},
        "flags": {"L": [{"BOOL": True}, {"NULL": True}, {"N": "-3"}]},
        "nested": {"M": {"names": {"SS": ["a", "b"]}, "counts": {"NS": ["1", "2"]}}},
    }
    if with_binary:
        item["blob"] = {"B": b"\x00\xff"}
    client.put_item(TableName=name, Item=item)
    key = {"stream_id": item["stream_id"], "version": item["version"]}

    queried = client.query(
        TableName=name,
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": stream}},
    )
    got = client.get_item(TableName=name, Key=key)["Item"]
    batch = client.batch_get_item(RequestItems={name: {"Keys": [key]}})["Responses"][name]

    assert queried["Items"] == [item] == [got] == batch
    assert (queried["Count"], queried["ScannedCount"]) == (1, 1)


def test_a_query_pages_at_one_megabyte_by_the_sizes_items_have_after_an_update(
    table: tuple[Any, str],
) -> None:
    client, name = table
    stream = f"product#{new_id()}"
    query = {
        "TableName": name,
        "KeyConditionExpression": "stream_id = :s",
        "ExpressionAttributeValues": {":s": {"S": stream}},
    }
    for version in (1, 2, 3):
        put(client, name, stream, version)
    assert "LastEvaluatedKey" not in client.query(**query)  # small: one page, sizes kept

    for version in (1, 2, 3):  # each grows to about 390 KB in place
        client.update_item(
            TableName=name,
            Key={"stream_id": {"S": stream}, "version": {"N": str(version)}},
            UpdateExpression="SET #p = :p",
            ExpressionAttributeNames={"#p": "padding"},
            ExpressionAttributeValues={":p": {"S": "x" * 390_000}},
        )
    first = client.query(**query)

    assert len(first["Items"]) < 3
    assert "LastEvaluatedKey" in first


@pytest.mark.parametrize(
    ("expression", "values"),
    [
        ("SET #a = :a, #b = :b", {":a": {"S": "COMPLETED"}, ":b": {"N": "1764374400"}}),
        ("SET #a = :a, #b = :b", {":a": {"S": "done"}, ":b": {"L": [{"S": "x"}]}}),
        ("SET #a = :a REMOVE #b", {":a": {"S": "done"}}),
    ],
)
def test_an_update_item_leaves_the_item_as_moto_itself_would(
    table: tuple[Any, str], expression: str, values: dict[str, Any]
) -> None:
    client, name = table[0], IDEMPOTENCY  # no stream: the table a plain SET goes direct on
    key = {"id": {"S": f"step.x#{new_id()}"}}
    original = {**key, "a": {"S": "INPROGRESS"}, "b": {"N": "1"}, "c": {"S": "kept"}}
    client.put_item(TableName=name, Item=original)
    request = {
        "TableName": name,
        "Key": key,
        "UpdateExpression": expression,
        "ExpressionAttributeNames": {"#a": "a", "#b": "b"},
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
    }

    answer = client.update_item(**request)["Attributes"]
    stored = client.get_item(TableName=name, Key=key, ConsistentRead=True)["Item"]

    expected = dict(original, a=values[":a"])
    if ":b" in values:
        expected["b"] = values[":b"]
    else:
        del expected["b"]
    assert answer == stored == expected


def test_an_update_item_that_sets_a_key_attribute_is_still_refused(
    table: tuple[Any, str],
) -> None:
    client, name = table[0], IDEMPOTENCY  # no stream: the table a plain SET goes direct on
    key = {"id": {"S": f"step.x#{new_id()}"}}
    client.put_item(TableName=name, Item={**key, "a": {"S": "x"}})

    with pytest.raises(ClientError) as refused:
        client.update_item(
            TableName=name,
            Key=key,
            UpdateExpression="SET #a = :a, #v = :v",
            ExpressionAttributeNames={"#a": "a", "#v": "id"},
            ExpressionAttributeValues={":a": {"S": "y"}, ":v": {"S": "other"}},
        )

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert client.get_item(TableName=name, Key=key)["Item"]["a"] == {"S": "x"}


def stock_update(product: str, quantity: int) -> dict[str, Any]:
    """A transaction's decrement of a product's units, on condition enough remain."""
    return {
        "Update": {
            "TableName": STOCK,
            "Key": {"product_id": {"S": product}},
            "UpdateExpression": "SET available = available - :q",
            "ConditionExpression": "available >= :q",
            "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def units(client: Any, product: str) -> Any:
    item = client.get_item(TableName=STOCK, Key={"product_id": {"S": product}}).get("Item")
    return None if item is None else int(item["available"]["N"])


def new_event(name: str) -> dict[str, Any]:
    stream = f"order#{new_id()}"
    return {
        "Put": {
            "TableName": name,
            "Item": {"stream_id": {"S": stream}, "version": {"N": "1"}},
            "ConditionExpression": "attribute_not_exists(version)",
        }
    }


def test_a_transaction_updates_items_and_puts_events_together(table: tuple[Any, str]) -> None:
    client, name = table
    a, b = f"sku-{new_id()}", f"sku-{new_id()}"
    for product in (a, b):
        client.put_item(
            TableName=STOCK, Item={"product_id": {"S": product}, "available": {"N": "5"}}
        )
    event = new_event(name)

    client.transact_write_items(TransactItems=[event, stock_update(a, 2), stock_update(b, 5)])

    assert (units(client, a), units(client, b)) == (3, 0)
    key = {k: event["Put"]["Item"][k] for k in ("stream_id", "version")}
    assert client.get_item(TableName=name, Key=key).get("Item") is not None


def test_a_failed_update_condition_cancels_all_and_returns_the_old_item(
    table: tuple[Any, str],
) -> None:
    client, name = table
    a, b = f"sku-{new_id()}", f"sku-{new_id()}"
    for product, count in ((a, 5), (b, 1)):
        client.put_item(
            TableName=STOCK, Item={"product_id": {"S": product}, "available": {"N": str(count)}}
        )
    event = new_event(name)

    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[event, stock_update(a, 2), stock_update(b, 2)])

    reasons = raised.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "None", "ConditionalCheckFailed"]
    assert reasons[2]["Item"] == {"product_id": {"S": b}, "available": {"N": "1"}}
    assert (units(client, a), units(client, b)) == (5, 1)
    key = {k: event["Put"]["Item"][k] for k in ("stream_id", "version")}
    assert client.get_item(TableName=name, Key=key).get("Item") is None


def test_an_update_moto_refuses_undoes_the_others_and_is_reported_as_moto_reports_it(
    table: tuple[Any, str],
) -> None:
    client, name = table
    a, missing = f"sku-{new_id()}", f"sku-{new_id()}"
    client.put_item(TableName=STOCK, Item={"product_id": {"S": a}, "available": {"N": "5"}})
    event = new_event(name)
    wrong_type = {  # no condition, so it passes the check and fails when applied
        "Update": {
            "TableName": STOCK,
            "Key": {"product_id": {"S": missing}},
            "UpdateExpression": "SET available = available - :q",
            "ExpressionAttributeValues": {":q": {"N": "1"}},
        }
    }

    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[event, stock_update(a, 2), wrong_type])

    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert (units(client, a), units(client, missing)) == (5, None)
    key = {k: event["Put"]["Item"][k] for k in ("stream_id", "version")}
    assert client.get_item(TableName=name, Key=key).get("Item") is None


def test_an_update_in_a_transaction_copies_no_table(
    table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy

    client, name = table
    product = f"sku-{new_id()}"
    client.put_item(TableName=STOCK, Item={"product_id": {"S": product}, "available": {"N": "3"}})
    copied: list[str] = []
    deepcopy = copy.deepcopy

    def watched(value: Any, memo: Any = None) -> Any:
        copied.append(type(value).__name__)
        return deepcopy(value, memo)

    monkeypatch.setattr(copy, "deepcopy", watched)
    client.transact_write_items(TransactItems=[new_event(name), stock_update(product, 1)])

    assert "Table" not in copied
    assert units(client, product) == 2


@pytest.fixture
def latency() -> Iterator[float]:
    from local_runtime.patches import dynamodb_latency

    dynamodb_latency.set_latency(1.0)
    dynamodb_latency.reset_stats()
    yield 1.0
    dynamodb_latency.set_latency(0.0)


def at_once(*calls: Any, stagger: float) -> list[Any]:
    """Run each call on its own thread, each ``stagger`` seconds after the one before;
    what each returned or raised."""
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        time.sleep(index * stagger)
        try:
            results[index] = calls[index]()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_with_latency_a_transaction_on_an_item_another_is_committing_is_cancelled(
    table: tuple[Any, str], latency: float
) -> None:
    client, name = table
    product = f"sku-{new_id()}"
    client.put_item(TableName=STOCK, Item={"product_id": {"S": product}, "available": {"N": "9"}})

    def reserve() -> Any:
        return client.transact_write_items(
            TransactItems=[new_event(name), stock_update(product, 1)]
        )

    # The first is applied at 0.5 s and holds the item until its answer arrives at 1.0 s;
    # the second is applied at 0.75 s, inside that window.
    first, second = at_once(reserve, reserve, stagger=latency / 4)

    assert isinstance(first, dict)
    assert isinstance(second, ClientError)
    reasons = [r["Code"] for r in second.response["CancellationReasons"]]
    assert reasons == ["None", "TransactionConflict"]
    assert units(client, product) == 8


def test_with_latency_a_single_write_on_a_held_item_is_refused_and_a_read_is_not(
    table: tuple[Any, str], latency: float
) -> None:
    client, name = table
    product = f"sku-{new_id()}"
    key = {"product_id": {"S": product}}
    client.put_item(TableName=STOCK, Item={**key, "available": {"N": "9"}})

    def reserve() -> Any:
        return client.transact_write_items(
            TransactItems=[new_event(name), stock_update(product, 1)]
        )

    def restock() -> Any:
        return client.update_item(
            TableName=STOCK,
            Key=key,
            UpdateExpression="ADD available :q",
            ExpressionAttributeValues={":q": {"N": "5"}},
        )

    def read() -> Any:
        return client.get_item(TableName=STOCK, Key=key, ConsistentRead=True)

    _, refused, seen = at_once(reserve, restock, read, stagger=latency / 8)

    assert isinstance(refused, ClientError)
    assert refused.response["Error"]["Code"] == "TransactionConflictException"
    assert seen["Item"]["available"] == {"N": "8"}


def test_without_latency_overlapping_transactions_both_commit(table: tuple[Any, str]) -> None:
    client, name = table
    product = f"sku-{new_id()}"
    client.put_item(TableName=STOCK, Item={"product_id": {"S": product}, "available": {"N": "9"}})

    def reserve() -> Any:
        return client.transact_write_items(
            TransactItems=[new_event(name), stock_update(product, 1)]
        )

    results = at_once(*[reserve] * 8, stagger=0)

    assert all(isinstance(result, dict) for result in results)
    assert units(client, product) == 1


def test_with_latency_two_reservations_of_one_product_both_commit_after_a_conflict(
    table: tuple[Any, str], latency: float
) -> None:
    from local_runtime.patches import dynamodb_latency

    client, name = table
    store = DynamoDBEventStore(name, client, stock_table=STOCK)
    product = f"sku-{new_id()}"
    client.put_item(TableName=STOCK, Item={"product_id": {"S": product}, "available": {"N": "9"}})

    def reserve() -> Any:
        order = f"order#{new_id()}"
        added = [StockAdded(product_id="a", quantity=1)]
        return store.append_streams(
            [StreamAppend(order, 0, added)],
            correlation_id="t",
            stock=[StockChange.take(product, 1)],
        )

    first, second = at_once(reserve, reserve, stagger=latency / 4)

    assert isinstance(first, list) and isinstance(second, list)  # both appended
    assert units(client, product) == 7
    assert dynamodb_latency.reset_stats()["transaction conflicts"] >= 1


class ConflictingClient:
    """A DynamoDB client whose transactions always meet another on the stock counter."""

    def __init__(self) -> None:
        self.sent = 0

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:
        self.sent += 1
        reasons = [
            {"Code": "TransactionConflict" if "Update" in entry else "None"}
            for entry in TransactItems
        ]
        raise ClientError(
            {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons},
            "TransactWriteItems",
        )


def test_a_counter_contended_on_every_send_is_stock_contended_and_nothing_is_written() -> None:
    from order_saga.adapters.dynamodb_event_store import CONTENTION_ATTEMPTS, CONTENTION_CAP
    from order_saga.errors import StockContended

    client, waits = ConflictingClient(), []
    store = DynamoDBEventStore("events", client, stock_table="stock", sleep=waits.append)  # type: ignore[arg-type]

    with pytest.raises(StockContended):
        store.append_streams(
            [StreamAppend(f"order#{new_id()}", 0, [StockAdded(product_id="a", quantity=1)])],
            correlation_id="t",
            stock=[StockChange.take("sku-a", 1)],
        )

    assert client.sent == CONTENTION_ATTEMPTS
    assert len(waits) == CONTENTION_ATTEMPTS - 1
    assert all(0 <= wait <= CONTENTION_CAP for wait in waits)
