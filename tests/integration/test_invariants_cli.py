"""`python -m ops.invariants` against a DynamoDB event store (moto, the table built from
template.yaml): every saga path passes, and a broken store exits 1 naming what broke."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from local_runtime import patches
from local_runtime.emulator.tables import create_tables
from local_runtime.emulator.template import Template
from ops.invariants.cli import main
from order_saga.adapters.catalog import InMemoryCatalog
from order_saga.adapters.dynamodb_event_store import DynamoDBEventStore
from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
from order_saga.domain.events import StockReserved
from order_saga.service_layer.ports import Ports
from order_saga.service_layer.repository import product_stream
from tests.unit.sagas import every_path, in_manual_review, legacy_product, product

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ports]:
    patches.apply()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("dynamodb")
        tables = create_tables(Template(), client, prefix=f"cli-{uuid.uuid4().hex[:8]}-")
        store = DynamoDBEventStore(
            tables["EventStoreTable"], client, stock_table=tables["StockTable"]
        )
        yield Ports(store=store, catalog=InMemoryCatalog(), gateway=SimulatedPaymentGateway())


def table(ports: Ports) -> list[str]:
    """The command line's arguments naming the store's tables."""
    store = ports.store
    return ["--table", store.table_name, "--stock-table", store.stock_table]  # type: ignore[attr-defined]


def test_a_store_every_saga_path_wrote_passes_and_lists_its_manual_review(
    ports: Ports, capsys: pytest.CaptureFixture[str]
) -> None:
    every_path(ports)
    waiting = in_manual_review(ports)

    assert main(table(ports)) == 0

    out = capsys.readouterr().out
    assert "orders          4 (CANCELLED 2, PAYMENT_COMPLETED 1, SHIPPED 1)" in out
    assert f"{waiting} (PAYMENT_COMPLETED, RefundPayment: GatewayUnavailable) holds 18.00" in out
    assert "violations      0" in out


def test_a_store_with_stock_held_by_no_order_exits_1_naming_it(
    ports: Ports, capsys: pytest.CaptureFixture[str]
) -> None:
    sku = legacy_product(ports, "2.00", 3)
    ports.store.append(
        product_stream(sku),
        1,
        [StockReserved(product_id=sku, order_id="ghost", quantity=2)],
        correlation_id="ghost",
    )

    assert main(table(ports)) == 1

    assert f"product {sku}: 2 held by order ghost, which does not exist" in capsys.readouterr().out


def test_a_counter_the_events_do_not_account_for_exits_1_naming_it(
    ports: Ports, capsys: pytest.CaptureFixture[str]
) -> None:
    sku = product(ports, "2.00", 3)
    client = boto3.client("dynamodb")
    client.put_item(
        TableName=ports.store.stock_table,  # type: ignore[attr-defined]
        Item={"product_id": {"S": sku}, "available": {"N": "5"}},
    )

    assert main(table(ports)) == 1

    out = capsys.readouterr().out
    assert f"product {sku}: added 3 is not available 5 + kept 0 + in manual review 0" in out
