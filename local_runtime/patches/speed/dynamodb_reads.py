"""Speed shortcuts for DynamoDB reads and answers in moto (the server side: what the
handlers' SDK receives is byte for byte what it parses as moto's own answer would be).

1. A Query reads its partition, not the table. moto answers a Query on a table's key
   by sorting every item of the table and filtering on the partition key, so loading
   an order's five events costs time proportional to every event of every order.
   The partition's items are handed to moto's own Query code (which sorts them by
   sort key, filters, pages and projects as before). And when nothing projects the
   items (no index, no ProjectionExpression), moto's deep copy of every item it
   returns, which protects the stored items from the projection, is skipped: the
   answer is converted to new dictionaries anyway. Relies on the request lock
   (local_runtime/patches/correctness.py).
2. DynamoDB answers written as JSON directly. moto serialises every answer by walking
   the service model value by value, a cost per attribute of every item returned
   (a quarter of the runtime's CPU under load). The data-plane answers are already
   DynamoDB JSON: for those, and only when they hold nothing but JSON types (no
   binary attributes), the body is ``json.dumps`` of the same result, which parses to
   what moto's serialiser gives.
3. Answers turned into plain data in one pass of type checks. moto walks every answer
   to expand its model objects, asking each string in it whether it is a datetime, a
   DynamoType or has ``to_json``; an answer's items are attribute values over plain
   dictionaries, lists and strings, which are now recognised first (binary values
   and anything else still go to moto's own walk).
"""

from __future__ import annotations

import json
from typing import Any

from local_runtime.patches.patching import patch


def apply() -> None:
    from moto.dynamodb import responses as dynamodb_responses
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    patch(Table, "query", _partition_only)
    patch(DynamoHandler, "serialized", _as_json)
    patch(dynamodb_responses, "dynamo_to_dict", _plain_data_first)


class _NoCopies:
    """Stands in for the copy module inside moto's Query (shortcut 1)."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value


def _partition_only(original: Any) -> Any:
    from moto.dynamodb.models import table as table_module

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        projection = args[5] if len(args) > 5 else kwargs.get("projection_expressions")
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None or hash_key is None or self.range_key_attr is None:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        # Shadowed for this one call: DynamoDB requests are serialised (the request lock), so no
        # other code runs in moto's table module meanwhile.
        self.all_items = lambda: partition
        saved_copy = table_module.copy
        if not projection:
            table_module.copy = _NoCopies  # type: ignore[assignment]
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items
            table_module.copy = saved_copy

    return query


DATA_PLANE = frozenset(
    {"GetItem", "PutItem", "DeleteItem", "UpdateItem", "Query", "Scan", "BatchGetItem",
     "BatchWriteItem", "TransactGetItems", "TransactWriteItems"}
)  # fmt: skip
JSON_1_0 = "application/x-amz-json-1.0"


def _as_json(original: Any) -> Any:
    def serialized(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if type(result) is dict and self._get_action() in DATA_PLANE:
            try:
                body = json.dumps(result, separators=(",", ":"))
            except (TypeError, ValueError):  # binary values, say: moto knows how
                return original(self, action_result)
            headers = {"Content-Type": JSON_1_0, **self.response_headers}
            return 200, headers, body
        return original(self, action_result)

    return serialized


_PLAIN = (str, int, float, bool, type(None))


def _plain_data_first(original: Any) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    def dynamo_to_dict(obj: Any) -> Any:
        kind = type(obj)
        if kind in _PLAIN:
            return obj
        if kind is dict:
            return {key: dynamo_to_dict(value) for key, value in obj.items()}
        if kind is list:
            return [dynamo_to_dict(value) for value in obj]
        if kind is DynamoType and obj.type not in ("B", "BS"):
            return {obj.type: dynamo_to_dict(obj.value)}
        return original(obj)  # binary values, datetimes, objects with to_json

    return dynamo_to_dict
