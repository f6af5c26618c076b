"""The read model's contract, run on both adapters: in memory, and on moto DynamoDB with
the table (keys and indexes) exactly as template.yaml defines ReadModelTable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from local_runtime.emulator.tables import create_tables
from local_runtime.emulator.template import Template
from order_saga.adapters.read_model import (
    DynamoDBReadModel,
    InMemoryReadModel,
    OrderQuery,
    ReadModel,
)
from order_saga.errors import InvalidCursor
from order_saga.service_layer.order_summaries import MANUAL_REVIEW, OrderSummary

TEMPLATE = Template()


@pytest.fixture(params=["memory", "dynamodb"])
def model(request: pytest.FixtureRequest) -> Iterator[ReadModel]:
    if request.param == "memory":
        yield InMemoryReadModel()
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        # A prefix of its own: the session's local runtime may hold the template's tables.
        names = create_tables(TEMPLATE, client, prefix=f"contract-{uuid.uuid4().hex[:8]}-")
        yield DynamoDBReadModel(names["ReadModelTable"], client)


def summary(n: int, customer: str, status: str = "PENDING", review: bool = False) -> OrderSummary:
    return OrderSummary(
        order_id=f"ord-{n:03d}",
        customer_id=customer,
        status=status,
        total=Decimal("12.50"),
        item_count=2,
        created_at=f"2026-12-01T10:00:{n:02d}+00:00",
        updated_at=f"2026-12-01T10:01:{n:02d}+00:00",
        version=1,
        manual_review=review,
    )


def ids(page) -> list[str]:
    return [s.order_id for s in page.summaries]


def walk(model: ReadModel, query: OrderQuery, limit: int) -> list[str]:
    seen, cursor = [], None
    while True:
        page = model.page(query, limit, cursor)
        seen += ids(page)
        cursor = page.next_cursor
        if cursor is None:
            return seen


def test_a_summary_reads_back_as_written(model: ReadModel) -> None:
    written = summary(1, "alice", review=True)
    assert model.put(written)
    assert model.get("ord-001") == written
    assert model.get("ord-404") is None


def test_a_write_never_moves_a_summary_backwards(model: ReadModel) -> None:
    newer = replace(summary(1, "alice", "CONFIRMED"), version=5)
    assert model.put(newer)
    assert not model.put(replace(newer, version=4, status="INVENTORY_RESERVED"))
    assert not model.put(replace(newer, status="CANCELLED"))
    assert model.get("ord-001") == newer
    assert model.put(replace(newer, status="SHIPPED"), rewrite=True)
    assert model.put(replace(newer, version=6, status="SHIPPED"))


def test_each_list_is_newest_first_and_pages_cover_it_once(model: ReadModel) -> None:
    for n in range(12):
        model.put(summary(n, "alice" if n % 3 else "bob", "CONFIRMED" if n % 2 else "PENDING"))
    alice = [f"ord-{n:03d}" for n in reversed(range(12)) if n % 3]
    assert walk(model, OrderQuery(customer_id="alice"), 3) == alice
    assert walk(model, OrderQuery(customer_id="alice", status="PENDING"), 2) == [
        f"ord-{n:03d}" for n in reversed(range(12)) if n % 3 and not n % 2
    ]
    assert walk(model, OrderQuery(status="CONFIRMED"), 4) == [
        f"ord-{n:03d}" for n in reversed(range(12)) if n % 2
    ]


def test_manual_review_is_its_own_list_and_leaves_it_when_resolved(model: ReadModel) -> None:
    model.put(summary(1, "alice", "PAYMENT_COMPLETED", review=True))
    model.put(summary(2, "bob", "PAYMENT_COMPLETED", review=True))
    model.put(summary(3, "bob", "PAYMENT_COMPLETED"))
    assert walk(model, OrderQuery(status=MANUAL_REVIEW), 10) == ["ord-002", "ord-001"]
    assert walk(model, OrderQuery(customer_id="bob", status=MANUAL_REVIEW), 10) == ["ord-002"]
    model.put(replace(summary(2, "bob", "CANCELLED"), version=2))
    assert walk(model, OrderQuery(status=MANUAL_REVIEW), 10) == ["ord-001"]


def test_a_cursor_only_continues_its_own_list(model: ReadModel) -> None:
    for n in range(4):
        model.put(summary(n, "alice"))
    cursor = model.page(OrderQuery(customer_id="alice"), 2).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        model.page(OrderQuery(customer_id="bob"), 2, cursor)
    with pytest.raises(InvalidCursor):
        model.page(OrderQuery(customer_id="alice", status="PENDING"), 2, cursor)
    with pytest.raises(InvalidCursor):
        model.page(OrderQuery(customer_id="alice"), 2, "bm90LWpzb24")


def test_scan_and_delete(model: ReadModel) -> None:
    for n in range(3):
        model.put(summary(n, "alice"))
    model.delete("ord-001")
    assert sorted(s.order_id for s in model.scan()) == ["ord-000", "ord-002"]
