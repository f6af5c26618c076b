"""The documented seeding command stocks a stack's tables once (DynamoDB on moto), with the
same code that stocks the local runtime."""

from __future__ import annotations

import uuid
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from local_runtime.emulator.tables import create_tables
from local_runtime.emulator.template import Template
from local_runtime.sample_catalog import SAMPLE_PRODUCTS
from local_runtime.tools import seed
from order_saga.adapters.catalog import DynamoDBCatalog
from order_saga.adapters.dynamodb_event_store import DynamoDBEventStore
from order_saga.service_layer.views import stock_level


def test_seeding_stocks_the_sample_catalog_once_however_often_it_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("dynamodb")
        tables = create_tables(Template(), client, prefix=f"seed-{uuid.uuid4().hex[:8]}-")
        arguments = [
            "--catalog-table",
            tables["CatalogTable"],
            "--event-store-table",
            tables["EventStoreTable"],
            "--stock-table",
            tables["StockTable"],
        ]

        assert seed.main(arguments) == 0
        assert seed.main(arguments) == 0

        store = DynamoDBEventStore(
            tables["EventStoreTable"], client, stock_table=tables["StockTable"]
        )
        catalog = DynamoDBCatalog(tables["CatalogTable"], client)
        for product_id, name, price, quantity in SAMPLE_PRODUCTS:
            assert stock_level(store, product_id) == quantity
            product = catalog.get(product_id)
            assert product is not None and (product.name, product.unit_price) == (name, price)
    first, second = capsys.readouterr().out.split("sku-espresso-beans")[1:]
    assert "stocked 50" in first and "already stocked" in second
    assert sum(units >= 50 for *_, units in SAMPLE_PRODUCTS) >= 2
    assert all(price > Decimal("0") for _, _, price, _ in SAMPLE_PRODUCTS)


def test_seeding_needs_a_stack_or_both_tables() -> None:
    with pytest.raises(SystemExit):
        seed.main(["--catalog-table", "only-one"])
