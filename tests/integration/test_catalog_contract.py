"""One contract for every catalog: the in-memory twin and DynamoDB on moto (the table built
from template.yaml). Listing pages through every product exactly once, whatever the order."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from local_runtime.emulator.tables import create_tables
from local_runtime.emulator.template import Template
from order_saga.adapters.catalog import DynamoDBCatalog, InMemoryCatalog, Product
from order_saga.errors import StorageError, UnknownProduct

if TYPE_CHECKING:
    from collections.abc import Iterator

    from order_saga.adapters.catalog import Catalog

TEMPLATE = Template()


def product(price: str = "9.99") -> Product:
    product_id = f"sku-{uuid.uuid4().hex[:10]}"
    return Product(product_id=product_id, name=f"Product {product_id}", unit_price=Decimal(price))


class CatalogContract:
    """Subclass with a ``catalog`` fixture holding an empty catalog."""

    def test_a_product_put_is_read_back_by_id_and_priced(self, catalog: Catalog) -> None:
        put = product("24.90")
        catalog.put(put)

        assert catalog.get(put.product_id) == put
        assert catalog.prices([put.product_id]) == {put.product_id: put}

    def test_an_unknown_product_reads_as_none_and_is_refused_when_priced(
        self, catalog: Catalog
    ) -> None:
        assert catalog.get("sku-none") is None
        with pytest.raises(UnknownProduct, match="sku-none"):
            catalog.prices(["sku-none"])

    @pytest.mark.parametrize("limit", [1, 2, 3, 7, 100])
    def test_paging_lists_every_product_once(self, catalog: Catalog, limit: int) -> None:
        products = [product() for _ in range(7)]
        for each in products:
            catalog.put(each)

        seen: list[Product] = []
        after: str | None = None
        for _ in range(20):
            page, after = catalog.page(limit, after)
            assert len(page) <= limit
            seen.extend(page)
            if after is None:
                break

        assert after is None
        assert sorted(p.product_id for p in seen) == sorted(p.product_id for p in products)

    def test_an_empty_catalog_has_one_empty_page(self, catalog: Catalog) -> None:
        assert catalog.page(10) == ([], None)


class TestInMemoryCatalog(CatalogContract):
    @pytest.fixture
    def catalog(self) -> Catalog:
        return InMemoryCatalog()


class TestDynamoDBCatalog(CatalogContract):
    @pytest.fixture
    def catalog(self) -> Iterator[Catalog]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            tables = create_tables(TEMPLATE, client, prefix=f"catalog-{uuid.uuid4().hex[:8]}-")
            yield DynamoDBCatalog(tables["CatalogTable"], client)

    def test_a_missing_table_is_a_storage_error(self) -> None:
        with mock_aws():
            catalog = DynamoDBCatalog("no-such-table", boto3.client("dynamodb", "us-east-1"))

            with pytest.raises(StorageError):
                catalog.page(10)
