"""One Powertools idempotency persistence layer per stream consumer.

A Powertools persistence layer keeps the first configuration it is given and takes the
key prefix of each call as its own state, so two consumers must never share one (in the
local runtime every function lives in one process). ``IdempotencyStores`` hands each
consumer its own layer, all on the same table; nothing of Powertools is imported until a
consumer asks, so the saga steps, which share the composition root, never pay for it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer


class IdempotencyStores:
    def __init__(self, new_layer: Callable[[], BasePersistenceLayer]) -> None:
        self._new_layer = new_layer
        self._layers: dict[str, BasePersistenceLayer] = {}
        self._lock = threading.Lock()

    def for_consumer(self, key_prefix: str) -> BasePersistenceLayer:
        with self._lock:
            if key_prefix not in self._layers:
                self._layers[key_prefix] = self._new_layer()
            return self._layers[key_prefix]


def dynamodb_stores(table_name: str, client: Any) -> IdempotencyStores:
    def new_layer() -> BasePersistenceLayer:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)

    return IdempotencyStores(new_layer)
