"""The product catalog port: names and prices. Prices come from here, never a client."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from order_saga.errors import StorageError, UnknownProduct

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    unit_price: Decimal


class Catalog(ABC):
    def prices(self, product_ids: Iterable[str]) -> dict[str, Product]:
        """The products asked for; raises UnknownProduct naming every id it lacks."""
        wanted = sorted(set(product_ids))
        found = self._get(wanted)
        missing = [pid for pid in wanted if pid not in found]
        if missing:
            raise UnknownProduct(f"unknown product(s): {', '.join(missing)}", tuple(missing))
        return found

    def get(self, product_id: str) -> Product | None:
        return self._get([product_id]).get(product_id)

    @abstractmethod
    def page(self, limit: int, after: str | None = None) -> tuple[list[Product], str | None]:
        """Up to ``limit`` products, continuing after the product id ``after``; returns
        them and the id to continue after (None once there is no more)."""

    @abstractmethod
    def _get(self, product_ids: list[str]) -> dict[str, Product]: ...

    @abstractmethod
    def put(self, product: Product) -> None: ...


class InMemoryCatalog(Catalog):
    def __init__(self, products: Iterable[Product] = ()) -> None:
        self._products = {p.product_id: p for p in products}

    def _get(self, product_ids: list[str]) -> dict[str, Product]:
        return {pid: self._products[pid] for pid in product_ids if pid in self._products}

    def page(self, limit: int, after: str | None = None) -> tuple[list[Product], str | None]:
        ids = sorted(pid for pid in self._products if after is None or pid > after)
        chosen = [self._products[pid] for pid in ids[:limit]]
        return chosen, (chosen[-1].product_id if len(ids) > limit else None)

    def put(self, product: Product) -> None:
        self._products[product.product_id] = product


class DynamoDBCatalog(Catalog):
    """One item per product: product_id (key), name, unit_price (a DynamoDB number)."""

    BATCH = 100  # BatchGetItem's limit

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._client = client

    def _get(self, product_ids: list[str]) -> dict[str, Product]:
        found: dict[str, Product] = {}
        try:
            for start in range(0, len(product_ids), self.BATCH):
                keys: list[dict[str, Any]] = [
                    {"product_id": {"S": pid}} for pid in product_ids[start : start + self.BATCH]
                ]
                request: dict[str, Any] = {self.table_name: {"Keys": keys}}
                while request:
                    page = self._client.batch_get_item(RequestItems=request)
                    for item in page["Responses"].get(self.table_name, []):
                        product = _product(item)
                        found[product.product_id] = product
                    request = page.get("UnprocessedKeys") or {}
        except ClientError as exc:
            raise StorageError(f"reading the catalog failed: {exc}") from exc
        return found

    def page(self, limit: int, after: str | None = None) -> tuple[list[Product], str | None]:
        # A Scan: the catalog is small and read whole a page at a time, in DynamoDB's order.
        request: dict[str, Any] = {"TableName": self.table_name, "Limit": limit}
        if after is not None:
            request["ExclusiveStartKey"] = {"product_id": {"S": after}}
        try:
            page = self._client.scan(**request)
        except ClientError as exc:
            raise StorageError(f"reading the catalog failed: {exc}") from exc
        last = page.get("LastEvaluatedKey")
        return [_product(item) for item in page["Items"]], (
            last["product_id"]["S"] if last else None
        )

    def put(self, product: Product) -> None:
        self._client.put_item(
            TableName=self.table_name,
            Item={
                "product_id": {"S": product.product_id},
                "name": {"S": product.name},
                "unit_price": {"N": str(product.unit_price)},
            },
        )


def _product(item: dict[str, Any]) -> Product:
    return Product(
        product_id=item["product_id"]["S"],
        name=item["name"]["S"],
        unit_price=Decimal(item["unit_price"]["N"]),
    )
