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
   hundred orders in the event store, seconds. When every item is a Put or a
   ConditionCheck and every condition holds, nothing can need rolling back, so the
   puts are applied directly; anything else (a failing condition, Update, Delete, a
   duplicate key) still goes through moto's own implementation, so its errors and
   cancellation reasons are moto's.
3. A Query reads its partition, not the table. moto answers a Query on a table's key
   by sorting every item of the table and filtering on the partition key, so loading
   an order's five events costs time proportional to every event of every order.
   The partition's items are handed to moto's own Query code (which sorts them by
   sort key, filters, pages and projects as before).
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

They patch moto's classes and functions for the whole process, once.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

_lock = threading.RLock()
_MARK = "_order_saga_patched"


def install() -> None:
    """Apply the fixes (once), and forget clients built for an earlier mock: each
    runtime has its own Lambda endpoint."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        lambda_eval_utils,
    )
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        _patch(handler, "call_action", _serialised)
    _patch(DynamoDBBackend, "transact_write_items", _without_table_copies)
    _patch(Table, "query", _partition_only)
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
        puts = _puts_if_all_conditions_hold(self, transact_items)
        if puts is None:
            original(self, transact_items)
            return
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


def _puts_if_all_conditions_hold(
    backend: Any, transact_items: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any], dict[str, Any], Any]] | None:
    """The transaction's puts as (table, key, item, item it replaces), or None when it
    is not only Puts and ConditionChecks whose conditions all hold now."""
    from moto.dynamodb.comparisons import get_filter_expression

    if not 1 <= len(transact_items) <= 100:
        return None
    puts = []
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
                return None
            if kind == "Put":
                puts.append((op["TableName"], key, op["Item"], current))
    except Exception:  # whatever moto would make of it, it should say so itself
        return None
    return puts


def _partition_only(original: Any) -> Any:
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None or hash_key is None or self.range_key_attr is None:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        # Shadow all_items for this one call; requests are serialised (fix 1).
        self.all_items = lambda: partition
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

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
