"""Speed shortcuts for DynamoDB writes in moto. None changes an answer: each removes a
cost that grows with load or with history, and hands anything unusual to moto's own code.

1. Transactions in time proportional to their items. moto backs up every table a
   TransactWriteItems touches with ``copy.deepcopy`` before writing (once per item),
   so a reservation costs time proportional to everything ever stored: with a few
   hundred orders in the event store, seconds, and most under contention, when
   transactions fail their conditions. For a transaction of Puts, Updates and
   ConditionChecks every condition is evaluated first, against the state before it
   (items are distinct, so no write affects another's condition): if any fails, it is
   cancelled with moto's own exception and reasons (ALL_OLD items included), having
   written nothing; if all hold, the writes are applied in order, each Update on a copy
   of the one item it changes kept aside, so that a write moto refuses (an item too
   large, an update of the wrong type) is undone item by item and the transaction
   handed to moto's own code, which reports it. Anything else (Delete, a duplicate
   key, a malformed entry) goes through moto's own implementation.
2. An UpdateExpression parsed once. moto parses it on every UpdateItem (Powertools'
   idempotency records are completed with one, a third of a step's DynamoDB calls);
   every use of the parsed tree goes through a Validator that deep-copies it first, so
   one tree serves every call.
3. A plain SET applied directly. An UpdateItem that only sets top-level attributes to
   values (``SET #a = :a, #b = :b``, as Powertools completes an idempotency record) on
   an item that exists, with no condition, in a table without a stream, is applied as
   moto's executor would apply it, without the Validator deep-copying the parsed tree
   and walking it four times or the item deep-copied for a stream record that no
   stream takes. Anything else (a condition, a path, a function, a key attribute, a
   value over 64 KB, a missing name or value) goes to moto's own UpdateItem.
4. An item's size measured once. moto measures every item a Query returns twice,
   attribute by attribute down every nested map (a quarter of loading a stream), to
   stop a page at 1 MB. The size is kept on the item; the only in-place change of a
   stored item is an UpdateItem (a transaction's Update is one too), which forgets it.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from local_runtime.patches.patching import cache_static, patch


def apply() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]
        UpdateExpressionParser,
    )

    patch(DynamoDBBackend, "transact_write_items", _without_table_copies)
    cache_static(UpdateExpressionParser, "make")
    patch(Item, "size", _size_kept)
    patch(DynamoDBBackend, "update_item", lambda o: _forgetting_the_size(_plain_set_directly(o)))


def _without_table_copies(original: Any) -> Any:
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        from moto.dynamodb.exceptions import TransactionCanceledException

        plan = _plan(self, transact_items)
        if plan is None:
            original(self, transact_items)
            return
        writes, reasons = plan
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        done: list[Write] = []
        try:
            for write in writes:
                kind, table_name, key, op, _ = write
                if kind == "Put":
                    self.put_item(table_name, op["Item"])
                else:
                    self.update_item(
                        table_name,
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=op.get("ExpressionAttributeNames"),
                        expression_attribute_values=op.get("ExpressionAttributeValues"),
                    )
                done.append(write)
        except Exception:
            # A write moto refuses: undo the others, and let moto report it.
            for _, table_name, key, _, previous in reversed(done):
                if previous is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, previous.to_json()["Attributes"])
            original(self, transact_items)

    return transact_write_items


Write = tuple[str, str, dict[str, Any], dict[str, Any], Any]
"""(Put or Update, table, key, the transaction's entry, the item as it was or None)"""
Reason = tuple[str | None, str | None, dict[str, Any] | None]
"""A cancellation reason as moto's TransactionCanceledException takes it."""


def _plan(
    backend: Any, transact_items: list[dict[str, Any]]
) -> tuple[list[Write], list[Reason]] | None:
    """The transaction's writes and each item's reason to cancel it (None when it holds),
    or None when it is not only Puts, Updates and ConditionChecks moto would accept."""
    import copy

    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import ConditionalCheckFailed

    if not 1 <= len(transact_items) <= 100:
        return None
    writes: list[Write] = []
    reasons: list[Reason] = []
    keys = set()
    try:
        for entry in transact_items:
            if len(entry) != 1:
                return None
            ((kind, op),) = entry.items()
            if kind not in ("Put", "Update", "ConditionCheck"):
                return None
            if kind == "Update" and not isinstance(op.get("UpdateExpression"), str):
                return None
            table = backend.get_table(op["TableName"])
            if kind == "Put":
                key_names = [table.hash_key_attr]
                if table.range_key_attr is not None:
                    key_names.append(table.range_key_attr)
                key = {name: op["Item"][name] for name in key_names}
            else:
                key = op["Key"]
            unique = (op["TableName"], repr(sorted(key.items())))
            if unique in keys:
                return None
            keys.add(unique)
            current = backend.get_item(op["TableName"], key)
            condition = op.get("ConditionExpression")
            if condition is not None and not get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            ).expr(current):
                old = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old = current.to_json()["Attributes"]
                reasons.append(("ConditionalCheckFailed", ConditionalCheckFailed().message, old))
                continue
            reasons.append((None, None, None))
            if kind == "Put":
                writes.append((kind, op["TableName"], key, op, current))
            elif kind == "Update":
                # An update changes the item in place: keep a copy of that one item.
                kept = copy.deepcopy(current) if current is not None else None
                writes.append((kind, op["TableName"], key, op, kept))
    except Exception:  # whatever moto would make of it, it should say so itself
        return None
    return writes, reasons


PLAIN_SET = re.compile(r"SET\s+#\w+\s*=\s*:\w+(\s*,\s*#\w+\s*=\s*:\w+)*\s*")
PLAIN_SET_PAIR = re.compile(r"(#\w+)\s*=\s*(:\w+)")
PLAIN_SET_MAX_BYTES = 64 * 1024


def _plain_set_directly(original: Any) -> Any:
    def update_item(
        self: Any,
        table_name: str,
        key: dict[str, Any],
        update_expression: str | None = None,
        expression_attribute_names: dict[str, Any] | None = None,
        expression_attribute_values: dict[str, Any] | None = None,
        attribute_updates: dict[str, Any] | None = None,
        expected: dict[str, Any] | None = None,
        condition_expression: str | None = None,
        return_values_on_condition_check_failure: str | None = None,
    ) -> Any:
        item = _plain_set(
            self, table_name, key, update_expression,
            expression_attribute_names, expression_attribute_values,
            attribute_updates or expected or condition_expression,
        )  # fmt: skip
        if item is not None:
            return item
        return original(
            self,
            table_name,
            key,
            update_expression=update_expression,
            expression_attribute_names=expression_attribute_names,
            expression_attribute_values=expression_attribute_values,
            attribute_updates=attribute_updates,
            expected=expected,
            condition_expression=condition_expression,
            return_values_on_condition_check_failure=return_values_on_condition_check_failure,
        )

    return update_item


def _plain_set(
    backend: Any,
    table_name: str,
    key: dict[str, Any],
    expression: str | None,
    names: dict[str, Any] | None,
    values: dict[str, Any] | None,
    anything_else: Any,
) -> Any:
    """The updated item, or None when this is not a plain SET moto's own code must do."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if anything_else or not expression or not names or not values:
        return None
    if not PLAIN_SET.fullmatch(expression):
        return None
    pairs = PLAIN_SET_PAIR.findall(expression)
    if len({name for name, _ in pairs}) != len(pairs) or len(pairs) != len(names):
        return None
    if len(values) != len(pairs) or any(n not in names or v not in values for n, v in pairs):
        return None
    table = backend.get_table(table_name)
    attributes = [names[name] for name, _ in pairs]
    if table.stream_shard is not None or set(attributes) & set(table.attribute_keys):
        return None
    if set(key) != {table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])}:
        return None
    if len(json.dumps(values)) > PLAIN_SET_MAX_BYTES or not all(map(_plain_value, values.values())):
        return None
    range_attr = table.range_key_attr
    item = table.get_item(
        DynamoType(key[table.hash_key_attr]),
        DynamoType(key[range_attr]) if range_attr else None,
    )
    if item is None:
        return None
    for attribute, (_, value) in zip(attributes, pairs, strict=True):
        item.attrs[attribute] = DynamoType(values[value])
    return item


def _plain_value(value: Any) -> bool:
    """A string, or a number DynamoDB would take: nothing moto's validator could refuse."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((kind, text),) = value.items()
    if kind == "S":
        return isinstance(text, str)
    if kind == "N" and isinstance(text, str):
        try:
            return Decimal(text).is_finite()
        except ArithmeticError:
            return False
    return False


_SIZE = "_order_saga_size"


def _size_kept(original: Any) -> Any:
    def size(self: Any) -> int:
        kept = self.__dict__.get(_SIZE)
        if kept is None:
            kept = self.__dict__[_SIZE] = original(self)
        return int(kept)

    return size


def _forgetting_the_size(original: Any) -> Any:
    def update_item(
        self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return original(self, table_name, key, *args, **kwargs)
        finally:  # changed, or perhaps half changed before a refusal
            _forget_size(self, table_name, key)

    return update_item


def _forget_size(backend: Any, table_name: str, key: dict[str, Any]) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        table = backend.get_table(table_name)
        hash_value = DynamoType(key[table.hash_key_attr])
        range_attr = table.range_key_attr
        range_value = DynamoType(key[range_attr]) if range_attr in key else None
        item = table.get_item(hash_value, range_value)
    except Exception:  # no such table or item: nothing kept to forget
        return
    if item is not None:
        item.__dict__.pop(_SIZE, None)
