"""Fixes to moto for a runtime that runs many sagas at once. None changes an outcome;
each removes a cost that grows with load or with history.

1. One request at a time. moto's tables are plain dictionaries with no locking, and
   the local runtime runs many executions at once (the interpreter runs each on its
   own thread, the Lambda server answers each invocation on its own thread). Without
   a lock a Query iterating a table while a PutItem adds to it raises "dictionary
   changed size during iteration", or returns a stream with events missing: orders
   not found, stale versions, a transaction seen half written. DynamoDB is
   linearisable per item and a TransactWriteItems is all-or-nothing to readers;
   serialising moto's request handling gives the handlers the same.
2. Transactions in time proportional to their items. moto backs up every table a
   TransactWriteItems touches with ``copy.deepcopy`` before writing (once per item),
   so a reservation costs time proportional to everything ever stored: with a few
   hundred orders in the event store, seconds, and most under contention, when
   transactions fail their conditions. For a transaction of Puts and ConditionChecks
   every condition is evaluated first, against the state before it (items are
   distinct, so no write affects another's condition): if all hold, the puts are
   applied, with nothing that could need rolling back; if any fails, it is cancelled
   with moto's own exception and reasons, having written nothing. Anything else
   (Update, Delete, a duplicate key, an item moto refuses) still goes through moto's
   own implementation.
3. A Query reads its partition, not the table. moto answers a Query on a table's key
   by sorting every item of the table and filtering on the partition key, so loading
   an order's five events costs time proportional to every event of every order.
   The partition's items are handed to moto's own Query code (which sorts them by
   sort key, filters, pages and projects as before). And when nothing projects the
   items (no index, no ProjectionExpression), moto's deep copy of every item it
   returns, which protects the stored items from the projection, is skipped: the
   answer is converted to new dictionaries anyway.
4. One Lambda client per service, not one per Task state. moto's interpreter builds a
   new boto3 client (and a new connection to the Lambda server) for every Lambda
   invocation; building a client costs more CPU than the invocation's round trip.
5. The state machine parsed once, not once per execution. moto's interpreter parses
   the ASL with ANTLR at the start of every execution; the parsed program holds no
   state of its own (each execution's state lives in its Environment), except a key
   each component draws lazily for its scratch space, which is drawn here up front
   so two executions starting at once cannot draw different ones.
6. An execution says when it ends. ``finished(arn)`` is an Event set when moto's
   interpreter has recorded an execution's end, so LocalRuntime.wait sleeps until
   then instead of polling DescribeExecution (each poll a request through moto).
7. DynamoDB answers written as JSON directly. moto serialises every answer by walking
   the service model value by value, a cost per attribute of every item returned
   (a quarter of the runtime's CPU under load). The data-plane answers are already
   DynamoDB JSON: for those, and only when they hold nothing but JSON types (no
   binary attributes), the body is ``json.dumps`` of the same result, which parses to
   what moto's serialiser gives.
8. A response class's method names looked up once. moto lists them with
   ``inspect.getmembers`` on every request, to check that the action exists.
9. A JSONPath parsed once. The interpreter parses every path of every state each time
   it evaluates one, and the parser builds its tables (yacc) every time.
10. An UpdateExpression parsed once. moto parses it on every UpdateItem (Powertools'
    idempotency records are completed with one, a third of a step's DynamoDB calls);
    every use of the parsed tree goes through a Validator that deep-copies it first, so
    one tree serves every call.
11. DynamoDB answers read as JSON directly, by the handlers' SDK this time. botocore
    walks every answer value by value against the service model, to turn blobs and
    timestamps into Python types; a DynamoDB data-plane answer has neither, unless an
    item holds a binary attribute. Those answers (and only when the body shows no
    binary attribute) are ``json.loads`` of the body, which is what the walk returns
    for them.
12. An item's size measured once. moto measures every item a Query returns twice,
    attribute by attribute down every nested map (a quarter of loading a stream), to
    stop a page at 1 MB. The size is kept on the item; the only in-place change of a
    stored item is an UpdateItem (a transaction's Update is one too), which forgets it.
13. A plain SET applied directly. An UpdateItem that only sets top-level attributes to
    values (``SET #a = :a, #b = :b``, as Powertools completes an idempotency record) on
    an item that exists, with no condition, in a table without a stream, is applied as
    moto's executor would apply it, without the Validator deep-copying the parsed tree
    and walking it four times or the item deep-copied for a stream record that no
    stream takes. Anything else (a condition, a path, a function, a key attribute, a
    value over 64 KB, a missing name or value) goes to moto's own UpdateItem.
14. Answers turned into plain data in one pass of type checks. moto walks every answer
    to expand its model objects, asking each string in it whether it is a datetime, a
    DynamoType or has ``to_json``; an answer's items are attribute values over plain
    dictionaries, lists and strings, which are now recognised first (binary values
    and anything else still go to moto's own walk).
15. A request id drawn in one call. moto draws each answer's 52-character request id
    one random character at a time (a tenth of a small request's CPU); it is 26 random
    bytes in hex here, still 52 characters and still unique.

They patch moto's classes and functions for the whole process, once.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

_lock = threading.RLock()
_MARK = "_order_saga_patched"


def apply() -> None:
    """Apply the fixes (once), and forget clients built for an earlier mock: each
    runtime has its own Lambda endpoint."""
    from botocore.parsers import JSONParser
    from moto.core import responses as moto_responses
    from moto.dynamodb import responses as dynamodb_responses
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]
        UpdateExpressionParser,
    )
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        lambda_eval_utils,
    )
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        _patch(handler, "call_action", _serialised)
    _patch(DynamoDBBackend, "transact_write_items", _without_table_copies)
    _patch(Item, "size", _size_kept)
    _patch(dynamodb_responses, "dynamo_to_dict", _plain_data_first)
    _patch(DynamoDBBackend, "update_item", lambda o: _forgetting_the_size(_plain_set_directly(o)))
    _patch(Table, "query", _partition_only)
    _patch(DynamoHandler, "serialized", _as_json)
    _patch(JSONParser, "_handle_json_body", _dynamodb_read_as_json)
    _patch(moto_responses, "method_names_from_class", _cached)
    _patch(moto_responses, "gen_amzn_requestid_long", _request_id_in_one_draw)
    _patch(json_path, "parse", _cached)
    _patch(result_path, "parse", _cached)
    if not getattr(UpdateExpressionParser.make, _MARK, False):
        UpdateExpressionParser.make = _cached_static(UpdateExpressionParser.make)  # type: ignore[method-assign]
    _patch(lambda_eval_utils, "boto_client_for", _reused)
    _patch(ExecutionWorker, "_get_evaluation_entrypoint", _parsed_once)
    _patch(ExecutionWorker, "_execution_logic", _announcing_the_end)
    with _cache_lock:
        _clients.clear()
        _programs.clear()
        _finished.clear()


def _patch(owner: object, name: str, wrap: Callable[[Any], Any]) -> None:
    original = getattr(owner, name)
    if getattr(original, _MARK, False):
        return
    patched = functools.wraps(original)(wrap(original))
    setattr(patched, _MARK, True)
    setattr(owner, name, patched)


def _serialised(original: Any) -> Any:
    def call_action(self: Any) -> Any:
        with _lock:
            return original(self)

    return call_action


def _without_table_copies(original: Any) -> Any:
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        from moto.dynamodb.exceptions import TransactionCanceledException

        plan = _plan(self, transact_items)
        if plan is None:
            original(self, transact_items)
            return
        puts, reasons = plan
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        done: list[tuple[str, dict[str, Any], Any]] = []
        try:
            for table_name, key, attrs, previous in puts:
                self.put_item(table_name, attrs)
                done.append((table_name, key, previous))
        except Exception:
            # An item moto refuses (too large, say): undo, and let moto report it.
            for table_name, key, previous in reversed(done):
                if previous is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, previous.to_json()["Attributes"])
            original(self, transact_items)

    return transact_write_items


Put = tuple[str, dict[str, Any], dict[str, Any], Any]
"""(table, key, item, the item it replaces or None)"""
Reason = tuple[str | None, str | None, dict[str, Any] | None]
"""A cancellation reason as moto's TransactionCanceledException takes it."""


def _plan(
    backend: Any, transact_items: list[dict[str, Any]]
) -> tuple[list[Put], list[Reason]] | None:
    """The transaction's puts and each item's reason to cancel it (None when it holds),
    or None when it is not only Puts and ConditionChecks moto would accept."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import ConditionalCheckFailed

    if not 1 <= len(transact_items) <= 100:
        return None
    puts: list[Put] = []
    reasons: list[Reason] = []
    keys = set()
    try:
        for entry in transact_items:
            if len(entry) != 1:
                return None
            ((kind, op),) = entry.items()
            if kind not in ("Put", "ConditionCheck"):
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
                puts.append((op["TableName"], key, op["Item"], current))
    except Exception:  # whatever moto would make of it, it should say so itself
        return None
    return puts, reasons


class _NoCopies:
    """Stands in for the copy module inside moto's Query (fix 3)."""

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
        # Shadowed for this one call: DynamoDB requests are serialised (fix 1), so no
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


_cache_lock = threading.Lock()
_clients: dict[tuple[str, str], Any] = {}
_programs: dict[str, Any] = {}
_finished: dict[str, threading.Event] = {}


def finished(execution_arn: str) -> threading.Event:
    """Set once the execution has ended (whether it ended before or after the call)."""
    with _cache_lock:
        return _finished.setdefault(execution_arn, threading.Event())


def _reused(original: Any) -> Any:
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto signs these with fixed local keys whatever the state's credentials.
        with _cache_lock:
            client = _clients.get((region, service))
            if client is None:
                client = _clients[(region, service)] = original(region, service, state_credentials)
            return client

    return boto_client_for


def _parsed_once(original: Any) -> Any:
    def _get_evaluation_entrypoint(self: Any) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        with _cache_lock:
            program = _programs.get(definition)
            if program is None:
                program = _programs[definition] = original(self)
                _draw_heap_keys(program, set())
            return program

    return _get_evaluation_entrypoint


def _draw_heap_keys(node: Any, seen: set[int]) -> None:
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, EvalComponent):
        _ = node.heap_key
    if isinstance(node, Component):
        children: Any = vars(node).values()
    elif isinstance(node, list | tuple | set | frozenset):
        children = node
    elif isinstance(node, dict):
        children = node.values()
    else:
        return
    for child in children:
        _draw_heap_keys(child, seen)


def _announcing_the_end(original: Any) -> Any:
    def _execution_logic(self: Any) -> None:
        try:
            original(self)
        finally:
            finished(self._evaluation_details.execution_details.arn).set()

    return _execution_logic


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


DATA_PLANE_ANSWERS = frozenset(f"{action}Output" for action in DATA_PLANE)
BINARY_MARKERS = (b'"B":', b'"BS":')


def _dynamodb_read_as_json(original: Any) -> Any:
    def _handle_json_body(self: Any, raw_body: bytes, shape: Any) -> Any:
        if (
            shape is not None
            and shape.name in DATA_PLANE_ANSWERS
            and "ConsumedCapacity" in shape.members
            and not any(marker in raw_body for marker in BINARY_MARKERS)
        ):
            return self._parse_body_as_json(raw_body)
        return original(self, raw_body, shape)

    return _handle_json_body


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


def _request_id_in_one_draw(original: Any) -> Any:
    def gen_amzn_requestid_long(headerdict: dict[str, Any] | None = None) -> str:
        request_id = os.urandom(26).hex().upper()
        if isinstance(headerdict, dict):
            headerdict["x-amzn-requestid"] = request_id
        return request_id

    return gen_amzn_requestid_long


def _cached(original: Any) -> Any:
    return functools.lru_cache(maxsize=None)(original)


def _cached_static(original: Any) -> Any:
    # ``original`` is a classmethod already bound to its class; the mark goes on what
    # getattr will find next time, so a second apply() leaves it alone.
    cached = functools.lru_cache(maxsize=256)(original)
    setattr(cached, _MARK, True)
    return staticmethod(cached)
