"""Ways in which moto, run in threads with a growing store, differs from AWS, mended.

1. Atomicity. DynamoDB applies a conditional write or a transaction atomically; moto
   checks and writes in Python, so two threads can both pass the check on (stream id,
   version) and both "win", and a transaction can fail reading a table that another
   thread is writing ("dictionary changed size during iteration"). The local runtime
   serves the state machine's Lambda calls from many threads, so every DynamoDB call is
   made under one lock: each is then atomic, as on AWS.
2. Cost of a transaction. Before a TransactWriteItems moto deep-copies every table it
   touches, once per item, so that it can roll back; that makes a reservation slower
   with every event ever stored. The copy here keeps the table's structure and stream
   but shares its (immutable) items, which is all a rollback of Puts and
   ConditionChecks needs; the rollback itself is moto's.
3. Cost of a Query. moto answers a Query on a table's key by sorting every item of the
   table and keeping the partition's: each load of an order or a product costs as much as
   the whole store, so a run of hundreds of orders slows down with every event. DynamoDB
   reads the partition alone, and so does the Query here (moto still sorts and filters
   it; indexes and Scans are left to moto).
4. Cost of starting an execution. moto parses the ASL definition with ANTLR for every
   execution (about 50 ms of CPU here). The parse tree of a definition is kept and only
   turned into fresh evaluation components per execution, as before.

Applied once per process by ``apply()``; harmless to call again.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from functools import wraps
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.models.table import Table
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

_lock = threading.RLock()
_applied = False


class _CopyModule:
    """moto.dynamodb.models' view of the copy module: a lighter deepcopy for tables."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table):
            return _table_snapshot(value)
        return copy.deepcopy(value, memo)


def _table_snapshot(table: Table) -> Table:
    snapshot = copy.copy(table)
    snapshot.items = defaultdict(
        dict,
        {
            key: dict(value) if isinstance(value, dict) else value
            for key, value in table.items.items()
        },
    )
    if table.stream_shard is not None:
        shard = copy.copy(table.stream_shard)
        shard.items = list(table.stream_shard.items)
        shard.table = snapshot
        snapshot.stream_shard = shard
    return snapshot


_QUERY_INDEX_NAME = 7
"""index_name's place among Table.query's positional arguments (after self)."""


def _partition_query(query: Any) -> Any:
    @wraps(query)
    def partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get(
            "index_name", args[_QUERY_INDEX_NAME - 1] if len(args) >= _QUERY_INDEX_NAME else None
        )
        if index_name is not None or hash_key is None or not self.range_key_attr:
            return query(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        # Every DynamoDB call runs under _lock (mend 1), so shadowing the method for this
        # one call cannot leak into another.
        self.all_items = lambda: partition  # type: ignore[method-assign]
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    return partition_query


_trees: dict[str, Any] = {}


def _parse_once(definition: str) -> tuple[Any, Any]:
    tree = _trees.get(definition)
    if tree is None:
        _, tree = _original_parse(definition)
        _trees[definition] = tree
    return Preprocessor().visit(tree), tree


_original_parse = asl_parser.AmazonStateLanguageParser.parse


def apply() -> None:
    global _applied
    with _lock:
        if _applied:
            return
        call_action = dynamodb_responses.DynamoHandler.call_action

        @wraps(call_action)
        def atomic_call_action(self: Any) -> Any:
            with _lock:
                return call_action(self)

        dynamodb_responses.DynamoHandler.call_action = atomic_call_action  # type: ignore[method-assign]
        dynamodb_models.copy = _CopyModule()  # type: ignore[assignment]
        Table.query = _partition_query(Table.query)  # type: ignore[method-assign]
        asl_parser.AmazonStateLanguageParser.parse = staticmethod(_parse_once)  # type: ignore[method-assign]
        _applied = True
